/**
 * Issue 13, team mode as a team runs it: lost workers are reaped by whoever is left (the daemon, the CLI
 * waiting on a run, any reaper racing others: each execution moved once), `worker_lost` as the
 * execution's status AND error kind (the CLI's exit 75 and message, the daemon's metrics), and one LISTEN
 * connection per process however many runs it follows (re-LISTENed after the connection is dropped).
 * A real PostgreSQL (the store and the queue), the real namespace hosts, `cronium worker` and `cronium
 * daemon` as processes with data directories of their own.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Run } from '../src/core/domain.ts';
import { EventHub } from '../src/core/eventHub.ts';
import { CroniumService } from '../src/service/service.ts';
import { HistoryRepo } from '../src/store/historyRepo.ts';
import { PostgresDatabase } from '../src/store/postgresEngine.ts';
import { RUN_CHANNEL, TeamChannel } from '../src/team/channel.ts';
import { QUEUE_NAME, QUEUE_SCHEMA } from '../src/team/queue.ts';
import { reapLostWorkers } from '../src/team/reaper.ts';
import { Team } from '../src/team/team.ts';
import { TeamRepo } from '../src/team/teamRepo.ts';
import { ownHosts, tempDir } from './support/fixtures.ts';
import { startPostgres, type TestPostgres } from './support/postgres.ts';
import { type CliProcess, startCli, startWorker as startTeamWorker, until } from './support/processes.ts';
import { onHost } from './support/sshHosts.ts';

const h = ownHosts('trp');
afterAll(() => h.removeUser());

const HEARTBEAT_MS = 300;
const LOST_AFTER_MS = 3_000;
let pg: TestPostgres;
let url: string;
const dir = tempDir('cronium-reaper-');
let env: NodeJS.ProcessEnv;
let service: CroniumService;
let store: PostgresDatabase;
const dirs: { remove: () => void }[] = [];
const ownDir = () => {
  const d = tempDir('cronium-reaper-proc-');
  dirs.push(d);
  return d.path;
};

type Proc = CliProcess;
const procs: Proc[] = [];

/** `cronium ARGS` as a process of its own (another machine: its own data directory), output collected. */
function start(args: string[], extra: NodeJS.ProcessEnv = {}): Proc {
  const p = startCli(args, { ...env, CRONIUM_DATA_DIR: ownDir(), ...extra });
  procs.push(p);
  return p;
}

async function startWorker(name: string, concurrency = 2): Promise<Proc> {
  const w = await startTeamWorker(name, { ...env, CRONIUM_DATA_DIR: ownDir() }, { concurrency });
  procs.push(w);
  return w;
}

function query<T>(sql: string, ...params: (string | number)[]): Promise<T[]> {
  return store.all<T>(sql, params);
}

/** Until the run's one execution runs on `worker`; resolves with its id. */
async function runningOn(runId: string, worker: string): Promise<string> {
  let id = '';
  await until(
    async () => {
      const rows = await query<{ id: string }>(
        `SELECT id FROM executions WHERE run_id = ? AND status = 'running' AND worker = ?`,
        runId,
        worker,
      );
      id = rows[0]?.id ?? '';
      return id !== '';
    },
    30_000,
    `the execution to run on ${worker}`,
  );
  return id;
}

/** The local ports of this process's TCP connections to the test PostgreSQL (ss(8) names each socket's process). */
function ownPorts(): Set<number> {
  const out = execFileSync('ss', ['-Htnp', 'state', 'established', `( dport = :${pg.port} )`], {
    encoding: 'utf8',
  });
  const ports = new Set<number>();
  for (const line of out.split('\n'))
    if (line.includes(`pid=${process.pid},`))
      ports.add(Number(/:(\d+)\s/.exec(line.split(/\s+/)[2] + ' ')![1]));
  return ports;
}

/**
 * This process's sessions on the server (pg_stat_activity, matched by client port): application_name, and
 * the last statement each ran (a listener's is LISTEN, or pg-boss's check of pg_listening_channels()).
 */
async function ownSessions(): Promise<{ pid: number; app: string; query: string }[]> {
  const ports = ownPorts();
  const rows = await query<{ pid: number; client_port: number; application_name: string; query: string }>(
    `SELECT pid, client_port, application_name, query FROM pg_stat_activity WHERE datname = current_database()`,
  );
  return rows
    .filter((r) => ports.has(Number(r.client_port)))
    .map((r) => ({ pid: r.pid, app: r.application_name, query: r.query }));
}

beforeAll(async () => {
  pg = await startPostgres();
  url = pg.createDatabase('team_reaper');
  env = {
    ...process.env,
    CRONIUM_RUNTIME_PORT: '0',
    CRONIUM_DATABASE_URL: url,
    CRONIUM_TEAM_KEY: randomBytes(32).toString('base64'),
    CRONIUM_TEAM_KEY_FILE: undefined,
    CRONIUM_SECRET_STORE: 'key-file',
    CRONIUM_WORKER_HEARTBEAT_MS: String(HEARTBEAT_MS),
    CRONIUM_WORKER_LOST_AFTER_MS: String(LOST_AFTER_MS),
  };
  store = new PostgresDatabase(url);
  service = await CroniumService.open({
    dataDir: dir.path,
    unknownHostKeys: 'accept-new',
    runtimePort: 0,
    databaseUrl: url,
    env,
    keychain: null,
    killGraceSec: 1,
  });
  for (let i = 0; i < 8; i++)
    await service.createServer({
      name: i === 0 ? 'h1' : `d${i}`,
      host: h.hosts[i % 2 ? 'h2' : 'h1'].address,
      username: h.user,
      auth: { type: 'key', keyPath: h.keyPath },
    });
  await service.createJob({ name: 'sleepy', language: 'bash', script: 'echo "started $$"; sleep 40\n' });
  await service.createJob({ name: 'brief', language: 'bash', script: 'echo one; sleep 2; echo two\n' });
}, 120_000);

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  onHost(h, `pkill -u ${h.user} -f '[s]leep 40' || true`);
  await service?.close();
  await store?.close();
  pg?.stop();
  dir.remove();
  for (const d of dirs) d.remove();
}, 60_000);

describe('reapers racing', () => {
  it('six reapers at once on one lost worker: each execution is moved exactly once', async () => {
    const servers = ['h1', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7'];
    // No worker is alive: the run's executions wait in the queue.
    const run = await service.startRun({ jobId: 'sleepy', serverIds: servers, via: 'workers' });
    const [running, connecting] = [run.executionIds.slice(0, 5), run.executionIds.slice(5)];
    await store.run(
      `INSERT INTO workers (name, host, pid, concurrency, started_at, heartbeat_at) VALUES ('ghost', 'gone', 1, 8, 0, 0)`,
    );
    for (const [ids, status] of [
      [running, 'running'],
      [connecting, 'connecting'],
    ] as const)
      for (const id of ids)
        await store.run(`UPDATE executions SET worker = 'ghost', status = ? WHERE id = ?`, [status, id]);

    const reapers = Array.from({ length: 6 }, () => {
      const db = new PostgresDatabase(url, { max: 2 });
      const team = new Team({
        url,
        repo: new TeamRepo(db),
        history: new HistoryRepo(db),
        hub: new EventHub(),
      });
      return { db, team };
    });
    try {
      const reports = (await Promise.all(reapers.map((r) => reapLostWorkers(r.team, LOST_AFTER_MS)))).flat();
      expect(reports.every((r) => r.worker === 'ghost')).toBe(true);
      expect(reports.reduce((n, r) => n + r.lost, 0)).toBe(running.length);
      expect(reports.reduce((n, r) => n + r.requeued, 0)).toBe(connecting.length);
    } finally {
      for (const r of reapers) {
        await r.team.close();
        await r.db.close();
      }
    }
    const rows = await query<{
      id: string;
      status: string;
      error_kind: string | null;
      worker: string | null;
    }>('SELECT id, status, error_kind, worker FROM executions WHERE run_id = ?', run.id);
    for (const r of rows)
      if (running.includes(r.id))
        expect(r).toMatchObject({ status: 'worker_lost', error_kind: 'worker_lost' });
      else expect(r).toMatchObject({ status: 'queued', worker: null });
    // Re-queued once each: the dispatch's job and one more, never one per reaper.
    const jobs = await query<{ id: string; n: number }>(
      `SELECT data->>'executionId' AS id, count(*)::int AS n FROM ${QUEUE_SCHEMA}.job WHERE name = ? GROUP BY 1`,
      QUEUE_NAME,
    );
    for (const id of connecting) expect(jobs.find((j) => j.id === id)?.n).toBe(2);
    expect((await query('SELECT 1 FROM workers')).length).toBe(0);
    // Cleared before workers come: the re-queued ones end cancelled, never run.
    await service.cancelRun(run.id);
    await until(
      async () => (await service.getRun(run.id)).status !== 'running',
      10_000,
      'the run to be cancelled',
    );
    expect((await service.getRun(run.id)).status).toBe('cancelled');
  }, 60_000);
});

describe('the app and browser mode reap too', () => {
  it('followOtherProcesses (what the app and `cronium serve` start) ends a lost worker’s execution', async () => {
    const run = await service.startRun({ jobId: 'sleepy', serverIds: ['d2'], via: 'workers' });
    const [id] = run.executionIds;
    await store.run(
      `INSERT INTO workers (name, host, pid, concurrency, started_at, heartbeat_at) VALUES ('gone', 'x', 1, 1, 0, ?)`,
      [Date.now()],
    );
    await store.run(`UPDATE executions SET worker = 'gone', status = 'running' WHERE id = ?`, [id!]);
    const events: string[] = [];
    const unsubscribe = service.subscribe((e) => {
      if (e.type === 'execution' && e.execution.id === id) events.push(e.execution.status);
    });
    const stop = service.followOtherProcesses(100);
    try {
      // Its heartbeat is fresh: nothing happens until it is LOST_AFTER_MS old.
      await new Promise((r) => setTimeout(r, HEARTBEAT_MS * 3));
      expect((await service.getExecution(id!)).status).toBe('running');
      await until(
        async () => (await service.getExecution(id!)).status === 'worker_lost',
        LOST_AFTER_MS + 5_000,
        'worker_lost',
      );
      await until(() => events.includes('worker_lost'), 5_000, 'the event on this process');
      // The run is ended right after its last execution (the reaper settles it).
      await until(async () => (await service.getRun(run.id)).status === 'failed', 5_000, 'the run to end');
    } finally {
      stop();
      unsubscribe();
    }
  }, 30_000);
});

describe('one LISTEN connection per process', () => {
  it('channels share one connection, LISTENed again after it is dropped', async () => {
    const channel = new TeamChannel(url, 'cronium-events-probe');
    const got: string[] = [];
    let reconnects = 0;
    try {
      await channel.listen(RUN_CHANNEL, (p) => got.push(`run:${p.run}`));
      await channel.listenRaw(
        'pgboss-like.channel-Name',
        (p) => got.push(`raw:${p}`),
        () => reconnects++,
      );
      await channel.listen(RUN_CHANNEL, (p) => got.push(`run2:${p.run}`));
      const backends = async () =>
        (await ownSessions()).filter((s) => s.app === 'cronium-events-probe').map((s) => s.pid);
      expect(await backends()).toHaveLength(1);
      const notifyBoth = async (tag: string) => {
        await store.run('SELECT pg_notify(?, ?)', [RUN_CHANNEL, JSON.stringify({ run: tag })]);
        await store.run('SELECT pg_notify(?, ?)', ['pgboss-like.channel-Name', tag]);
      };
      await notifyBoth('a');
      await until(() => got.length === 3, 5_000, 'the first notifications');
      expect(got.sort()).toEqual(['raw:a', 'run2:a', 'run:a']);
      const [before] = await backends();
      await store.run('SELECT pg_terminate_backend(?)', [before!]);
      await until(
        async () => {
          const now = await backends();
          return now.length === 1 && now[0] !== before;
        },
        10_000,
        'the connection opened again',
      );
      await until(() => reconnects === 1, 5_000, 'onReconnect');
      got.length = 0;
      await notifyBoth('b');
      await until(() => got.length === 3, 5_000, 'notifications after the reconnect');
      expect(got.sort()).toEqual(['raw:b', 'run2:b', 'run:b']);
      expect(channel.connections).toBe(2);
    } finally {
      await channel.close();
    }
  }, 30_000);

  it('following eight worker runs at once holds one events connection (pg-boss listens on it too)', async () => {
    const worker = await startWorker('wc', 8);
    try {
      const runs: Run[] = [];
      for (const s of ['h1', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7'])
        runs.push(await service.startRun({ jobId: 'brief', serverIds: [s], via: 'workers' }));
      const followed = runs.map((r) => service.waitForRun(r.id));
      let sessions: { app: string; query: string }[] = [];
      await until(
        async () =>
          (
            await query(
              `SELECT 1 FROM executions WHERE status = 'running' AND run_id IN (${runs.map(() => '?').join(', ')})`,
              ...runs.map((r) => r.id),
            )
          ).length === runs.length,
        30_000,
        'all eight running',
      );
      sessions = await ownSessions();
      const ended = await Promise.all(followed);
      expect(ended.map((r) => r.status)).toEqual(runs.map(() => 'succeeded'));
      // This process: the store's pool (at most 10), pg-boss's pool (at most 4), one events connection.
      const events = sessions.filter((s) => s.app === 'cronium-events');
      expect(events).toHaveLength(1);
      // No other session of this process listens (pg-boss's wake-ups come through the events connection).
      const listening = sessions.filter((s) => /LISTEN|pg_listening_channels/i.test(s.query));
      expect(listening.every((s) => s.app === 'cronium-events')).toBe(true);
      expect(sessions.filter((s) => s.app === 'cronium').length).toBeLessThanOrEqual(4);
      expect(sessions.filter((s) => !s.app.startsWith('cronium')).length).toBeLessThanOrEqual(10 + 10);
      expect(sessions.length).toBeLessThan(runs.length + 20);
      // Each followed run's log arrived whole.
      for (const r of runs) {
        const [e] = (await service.getRunOverview(r.id)).executions;
        expect(e!.status).toBe('succeeded');
      }
    } finally {
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    }
  }, 90_000);
});

describe('the only worker SIGKILLed mid-run', () => {
  it('the waiting CLI marks it worker_lost and says so: exit 75, the message, the rerun hint', async () => {
    const worker = await startWorker('solo');
    const cli = start(['run', 'sleepy', '--on', 'h1', '--via', 'workers']);
    await until(() => cli.output().includes('started'), 30_000, 'the script to start');
    const runId = (
      await query<{ id: string }>(`SELECT id FROM runs WHERE status = 'running' AND job_name = 'sleepy'`)
    )[0]!.id;
    const executionId = await runningOn(runId, 'solo');
    worker.child.kill('SIGKILL');
    const killedAt = Date.now();
    await worker.exited;
    expect(await cli.exited).toBe(75);
    const took = Date.now() - killedAt;
    // Lost after LOST_AFTER_MS without a heartbeat; the CLI reaps every HEARTBEAT_MS.
    expect(took).toBeGreaterThanOrEqual(LOST_AFTER_MS - 500);
    expect(took).toBeLessThan(LOST_AFTER_MS + 4 * HEARTBEAT_MS + 3_000);
    expect(cli.output()).toMatch(
      /cronium: worker_lost: The worker solo running it was lost \(no heartbeat since/,
    );
    expect(cli.output()).toContain(`cronium rerun ${runId.slice(0, 8)}`);
    const execution = await service.getExecution(executionId);
    expect(execution).toMatchObject({ status: 'worker_lost', errorKind: 'worker_lost' });
    expect((await service.getRun(runId)).status).toBe('failed');
    expect((await query('SELECT 1 FROM workers WHERE name = ?', 'solo')).length).toBe(0);
  }, 90_000);

  it('with no one following, the daemon reaps it and counts it under error kind worker_lost', async () => {
    const worker = await startWorker('solo2');
    const daemon = start(['daemon', '--metrics-port', '0']);
    await until(() => /"metricsPort":\d+/.test(daemon.output()), 30_000, 'the daemon');
    const port = Number(/"metricsPort":(\d+)/.exec(daemon.output())![1]);
    const run = await service.startRun({ jobId: 'sleepy', serverIds: ['d1'], via: 'workers' });
    const executionId = await runningOn(run.id, 'solo2');
    worker.child.kill('SIGKILL');
    await worker.exited;
    await until(
      async () => (await service.getExecution(executionId)).status === 'worker_lost',
      LOST_AFTER_MS + 10_000,
      'worker_lost',
    );
    expect(await service.getExecution(executionId)).toMatchObject({ errorKind: 'worker_lost' });
    await until(async () => (await service.getRun(run.id)).status === 'failed', 5_000, 'the run to end');
    // Logged after the run is settled: awaited, not read at once.
    const report =
      /worker solo2 lost \(no heartbeat since [^)]*\): 0 execution\(s\) re-queued, 1 worker_lost/;
    await until(() => report.test(daemon.output()), 5_000, "the daemon's report");
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/cronium_executions_total\{status="worker_lost",error_kind="worker_lost"\} 1\b/);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  }, 90_000);
});
