/**
 * npm run bench (workers): team mode measured as a team runs it — a real PostgreSQL (the queue), real
 * `cronium worker` processes and the `cronium` CLI, on the namespace sshd hosts (needs root, like the
 * tests; CRONIUM_TEST_SLOT picks the hosts' slot). Nothing here asserts a time.
 *
 * - Throughput: BENCH_WORKER_EXECUTIONS (default 300) executions of a trivial job, queued before any
 *   worker starts, drained by 1, 2 and 4 workers (concurrency 8 each): executions per minute.
 * - Latency: a whole `cronium run job --on h1` process, direct and `--via workers` (one idle worker
 *   waiting), medians of BENCH_REPS (default 7), alternating.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import { randomBytes } from 'node:crypto';

import { CroniumService } from '../src/service/service.ts';
import { PostgresDatabase } from '../src/store/postgresEngine.ts';
import { startPostgres, type TestPostgres } from '../test/support/postgres.ts';
import { SshHostHarness, type TestHosts } from '../test/support/sshHosts.ts';

const EXECUTIONS = Number(process.env.BENCH_WORKER_EXECUTIONS ?? 300);
const REPS = Number(process.env.BENCH_REPS ?? 7);
const SERVERS = 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = () => loadavg()[0]!.toFixed(2);

interface Team {
  dataDir: string;
  url: string;
  env: NodeJS.ProcessEnv;
  service: CroniumService;
}

/** A fresh team: its own database, data directory, servers and the trivial job. */
async function team(pg: TestPostgres, h: TestHosts, name: string): Promise<Team> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cronium-bench-workers-'));
  const url = pg.createDatabase(name);
  const teamEnv = { CRONIUM_TEAM_KEY: randomBytes(32).toString('base64'), CRONIUM_TEAM_KEY_FILE: undefined };
  const service = await CroniumService.open({
    dataDir,
    unknownHostKeys: 'accept-new',
    runtimePort: 0,
    databaseUrl: url,
    env: { ...process.env, ...teamEnv },
    keychain: null,
  });
  for (let i = 0; i < SERVERS; i++)
    await service.createServer({
      name: i === 0 ? 'h1' : `s${i}`,
      host: h.hosts[i % 2 ? 'h2' : 'h1'].address,
      username: h.user,
      auth: { type: 'key', keyPath: h.keyPath },
    });
  await service.createJob({ name: 'tick', language: 'bash', helperMode: 'bundled', script: 'true\n' });
  const env = {
    ...process.env,
    ...teamEnv,
    CRONIUM_DATA_DIR: dataDir,
    CRONIUM_RUNTIME_PORT: '0',
    CRONIUM_DATABASE_URL: url,
    CRONIUM_SECRET_STORE: 'key-file',
  };
  return { dataDir, url, env, service };
}

/** Starts `cronium worker`; resolves once it takes executions. */
function startWorker(t: Team, name: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['src/cli/main.ts', 'worker', '--name', name, '--concurrency', '8'],
      {
        env: t.env,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('worker taking executions')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`worker ${name} exited (${code}): ${out}`)));
  });
}

async function stopWorkers(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise((resolve) => {
          if (c.exitCode !== null) return resolve(null);
          c.removeAllListeners('exit');
          c.once('exit', resolve);
          c.kill('SIGTERM');
        }),
    ),
  );
}

/** Wall time of one whole CLI process, in ms. */
function timed(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['src/cli/main.ts', ...args], { env, stdio: 'ignore' });
    child.on('exit', (code) =>
      code === 0
        ? resolve(performance.now() - start)
        : reject(new Error(`cronium ${args.join(' ')}: exit ${code}`)),
    );
  });
}

async function throughput(pg: TestPostgres, h: TestHosts, workers: number): Promise<number> {
  const t = await team(pg, h, `bench_workers_${workers}`);
  const servers = Array.from({ length: SERVERS }, (_, i) => (i === 0 ? 'h1' : `s${i}`));
  for (let i = 0; i < EXECUTIONS / SERVERS; i++)
    await t.service.startRun({ jobId: 'tick', serverIds: servers, via: 'workers', concurrency: SERVERS });
  const children = await Promise.all(Array.from({ length: workers }, (_, i) => startWorker(t, `w${i + 1}`)));
  const start = performance.now();
  // Read as another process would: a connection of its own to the team's store.
  const db = new PostgresDatabase(t.url);
  for (;;) {
    const row = await db.get<{ n: number }>(`SELECT count(*) AS n FROM runs WHERE status = 'running'`);
    if (Number(row?.n) === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (performance.now() - start) / 1000;
  const badRow = await db.get<{ bad: number }>(
    `SELECT count(*) AS bad FROM executions WHERE status <> 'succeeded'`,
  );
  const bad = Number(badRow?.bad);
  await db.close();
  if (Number(bad)) console.log(`(${bad} executions did not succeed)`);
  await stopWorkers(children);
  await t.service.close();
  rmSync(t.dataDir, { recursive: true, force: true });
  return (EXECUTIONS / seconds) * 60;
}

async function latency(pg: TestPostgres, h: TestHosts): Promise<{ direct: number; viaWorkers: number }> {
  const t = await team(pg, h, 'bench_workers_latency');
  const children = [await startWorker(t, 'idle')];
  const direct: number[] = [];
  const viaWorkers: number[] = [];
  // One of each first: host keys recorded, connections warm in the worker as after any first run.
  await timed(['run', 'tick', '--on', 'h1'], t.env);
  await timed(['run', 'tick', '--on', 'h1', '--via', 'workers'], t.env);
  for (let i = 0; i < REPS; i++) {
    direct.push(await timed(['run', 'tick', '--on', 'h1'], t.env));
    viaWorkers.push(await timed(['run', 'tick', '--on', 'h1', '--via', 'workers'], t.env));
  }
  await stopWorkers(children);
  await t.service.close();
  rmSync(t.dataDir, { recursive: true, force: true });
  return { direct: median(direct), viaWorkers: median(viaWorkers) };
}

async function main(): Promise<void> {
  const harness = new SshHostHarness({});
  const h = await harness.start();
  const pg = await startPostgres();
  process.once('exit', () => {
    pg.stop();
    harness.stop();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(signal, () => process.exit(130));
  console.log(`\n## Team mode: workers on a PostgreSQL queue — ${new Date().toISOString()}\n`);
  console.log(
    `${EXECUTIONS} queued executions of \`true\` over ${SERVERS} servers (2 hosts), workers at concurrency 8.\n`,
  );
  console.log('| workers | executions per minute | load (1 min) |');
  console.log('|---|---|---|');
  for (const n of [1, 2, 4]) {
    const perMinute = await throughput(pg, h, n);
    console.log(`| ${n} | ${perMinute.toFixed(0)} | ${load()} |`);
  }
  const { direct, viaWorkers } = await latency(pg, h);
  console.log(
    `\n| one run on one host (whole CLI process, median of ${REPS}) | direct | --via workers | added | load (1 min) |`,
  );
  console.log('|---|---|---|---|---|');
  console.log(
    `| cronium run tick --on h1 | ${direct.toFixed(0)} ms | ${viaWorkers.toFixed(0)} ms | ${(viaWorkers - direct).toFixed(0)} ms | ${load()} |`,
  );
}

await main();
process.exit(0);
