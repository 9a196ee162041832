/**
 * Issue 13 part 5: Prometheus metrics and a health check for `cronium daemon` (and, later, workers), with
 * real jobs on the namespace hosts: the counters, histogram and labels move by exactly what ran; the
 * gauges of open connections, tunnels and the queue read while a job runs; /healthz ok, and 503 once the
 * store is gone; loopback only; a port in use refused by name. And a real daemon process serving them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server as NetServer } from 'node:net';
import { networkInterfaces } from 'node:os';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CoreEvent } from '../src/core/domain.ts';
import { CroniumError } from '../src/core/errors.ts';
import { HELPER_FALLBACK_KINDS } from '../src/metrics/fallbackKinds.ts';
import { startMonitoring, type Monitoring } from '../src/metrics/monitoring.ts';
import type { CroniumService } from '../src/service/service.ts';
import { runCli } from './support/cli.ts';
import { ownHosts, runJob, serviceWithHosts, tempDir } from './support/fixtures.ts';

const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

/** One HTTP request to 127.0.0.1 (or `host`): status, headers and body. */
function get(
  port: number,
  path: string,
  { method = 'GET', host = '127.0.0.1' } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A sample of the exposition text: metric name, its labels, its value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus' text exposition format (the sample lines; comments skipped). */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    samples.push({ name: m[1]!, labels, value: m[3] === 'Nan' || m[3] === 'NaN' ? NaN : Number(m[3]) });
  }
  return samples;
}

/** The value of the sample with exactly these labels (0 when absent: a counter not yet moved). */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.find(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return found ? found.value : 0;
}

async function scrape(port: number): Promise<Sample[]> {
  const res = await get(port, '/metrics');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parse(res.body);
}

/** Resolves with the first event `match` accepts. */
function nextEvent<T>(service: CroniumService, match: (e: CoreEvent) => T | null | undefined): Promise<T> {
  return new Promise((resolve) => {
    const off = service.subscribe((e) => {
      const found = match(e);
      if (found !== null && found !== undefined) {
        off();
        resolve(found);
      }
    });
  });
}

describe('metrics and health of a monitored service (real hosts)', () => {
  const h = ownHosts('metrics');
  let service: CroniumService;
  let close: () => Promise<void>;
  let monitoring: Monitoring;
  let dataDir: string;

  beforeAll(async () => {
    // No lingering tunnels: each closes when its last execution ends, so the gauge can be awaited to 0.
    ({ service, close, dir: dataDir } = await serviceWithHosts({ tunnelLingerMs: 0 }, h));
    await service.createServer({
      name: 'closed',
      host: h.hosts.h2.address,
      port: h.closedPort,
      username: h.user,
      auth: { type: 'key', keyPath: h.keyPath },
    });
    monitoring = await startMonitoring({ service, port: 0, role: 'daemon' });
  });
  afterAll(async () => {
    await monitoring?.close();
    await close();
    h.removeUser();
  });

  it('counts what ran: by status and error kind, durations by status, fallbacks by kind', async () => {
    const before = await scrape(monitoring.port);
    // Scripts that call a helper (one that never names them runs bundled at once, with no tunnel to count).
    const ok = await runJob(service, { language: 'python', script: 'cronium.output({"hi": 1})' }, ['h1']);
    const failed = await runJob(service, { language: 'bash', script: 'exit 3' }, ['h2']);
    const refused = await runJob(service, { language: 'bash', script: 'echo never' }, ['closed']);
    // auto helpers on a host that allows no forwarding: bundled mode, with the reason.
    const fellBack = await runJob(service, { language: 'bash', script: 'cronium_output fb' }, ['noforward']);
    expect(ok.exec).toMatchObject({ status: 'succeeded', errorKind: null, helperMode: 'api' });
    expect(failed.exec).toMatchObject({ status: 'failed', errorKind: 'script_failed', exitCode: 3 });
    expect(refused.exec).toMatchObject({ status: 'error', errorKind: 'connection_refused' });
    expect(fellBack.exec).toMatchObject({ status: 'succeeded', helperMode: 'bundled' });
    expect(fellBack.exec.fallbackReason).toMatch(/refused remote port forwarding/);
    const after = await scrape(monitoring.port);
    const moved = (name: string, labels: Record<string, string> = {}) =>
      value(after, name, labels) - value(before, name, labels);

    expect(moved('cronium_executions_total', { status: 'succeeded', error_kind: 'none' })).toBe(2);
    expect(moved('cronium_executions_total', { status: 'failed', error_kind: 'script_failed' })).toBe(1);
    expect(moved('cronium_executions_total', { status: 'error', error_kind: 'connection_refused' })).toBe(1);
    // Nothing else moved: the four executions, counted once each (the chain step's second event too).
    const total = (s: Sample[]) =>
      s.filter((x) => x.name === 'cronium_executions_total').reduce((a, x) => a + x.value, 0);
    expect(total(after) - total(before)).toBe(4);

    // The histogram: one observation per execution, its sum the executions' durations (queued to end).
    const seconds = (e: { startedAt: number; endedAt: number | null }) => (e.endedAt! - e.startedAt) / 1000;
    const succeeded = [ok.exec, fellBack.exec];
    expect(moved('cronium_execution_duration_seconds_count', { status: 'succeeded' })).toBe(2);
    expect(moved('cronium_execution_duration_seconds_count', { status: 'failed' })).toBe(1);
    expect(moved('cronium_execution_duration_seconds_count', { status: 'error' })).toBe(1);
    expect(moved('cronium_execution_duration_seconds_sum', { status: 'succeeded' })).toBeCloseTo(
      succeeded.reduce((a, e) => a + seconds(e), 0),
      6,
    );
    expect(moved('cronium_execution_duration_seconds_sum', { status: 'failed' })).toBeCloseTo(
      seconds(failed.exec),
      6,
    );
    // Each bucket holds the observations at or under its bound.
    for (const le of ['0.1', '1', '5', '30', '+Inf'])
      expect(moved('cronium_execution_duration_seconds_bucket', { status: 'succeeded', le })).toBe(
        succeeded.filter((e) => le === '+Inf' || seconds(e) <= Number(le)).length,
      );

    expect(moved('cronium_helper_fallbacks_total', { reason: 'forwarding_refused' })).toBe(1);
    for (const reason of HELPER_FALLBACK_KINDS.filter((k) => k !== 'forwarding_refused'))
      expect(moved('cronium_helper_fallbacks_total', { reason })).toBe(0);
    // Every kind is exposed from the start, and only those.
    expect(
      after
        .filter((s) => s.name === 'cronium_helper_fallbacks_total')
        .map((s) => s.labels.reason)
        .sort(),
    ).toEqual([...HELPER_FALLBACK_KINDS].sort());
  });

  it('reads open connections, tunnels and the queue while a job runs, and again once it has ended', async () => {
    const job = await service.createJob({
      name: 'metrics-hold',
      language: 'bash',
      script: 'echo ready\nsleep 60',
      helperMode: 'api',
    });
    // One server at a time: h2's execution waits, queued, while h1's runs.
    const run = await service.startRun({ jobId: job.id, serverIds: ['h1', 'h2'], concurrency: 1 });
    await nextEvent(service, (e) => (e.type === 'log' && e.chunk.text.includes('ready') ? true : null));
    const during = await scrape(monitoring.port);
    expect(value(during, 'cronium_ssh_connections_open', { state: 'leased' })).toBe(1);
    expect(value(during, 'cronium_tunnels_open')).toBe(1);
    expect(value(during, 'cronium_executions_queued')).toBe(1);
    const health = JSON.parse((await get(monitoring.port, '/healthz')).body) as Record<string, unknown>;
    expect(health).toMatchObject({ tunnelsOpen: 1, store: { reachable: true, queuedExecutions: 1 } });

    // The tunnel closes as the execution ends (no linger): await its event, then read the gauges.
    const closed = nextEvent(service, (e) => (e.type === 'tunnel' && e.state === 'closed' ? true : null));
    await service.cancelRun(run.id);
    await service.waitForRun(run.id);
    await closed;
    const after = await scrape(monitoring.port);
    expect(value(after, 'cronium_ssh_connections_open', { state: 'leased' })).toBe(0);
    // The connection stays pooled (idle) for the next execution.
    expect(value(after, 'cronium_ssh_connections_open', { state: 'idle' })).toBeGreaterThanOrEqual(1);
    expect(value(after, 'cronium_tunnels_open')).toBe(0);
    expect(value(after, 'cronium_executions_queued')).toBe(0);
  });

  it('does not count what another process ran, even while it follows that run live', async () => {
    const stop = service.followOtherProcesses(50);
    try {
      const before = await scrape(monitoring.port);
      const seen = new Promise<void>((resolve) => {
        const off = service.subscribe((e) => {
          if (
            e.type === 'execution' &&
            e.execution.status === 'succeeded' &&
            e.execution.jobName === 'elsewhere'
          ) {
            off();
            resolve();
          }
        });
      });
      await service.createJob({ name: 'elsewhere', language: 'bash', script: 'echo other process' });
      const res = await runCli(['run', 'elsewhere', '--on', 'h1'], {
        CRONIUM_DATA_DIR: dataDir,
        CRONIUM_RUNTIME_PORT: '0',
      });
      expect(res.code).toBe(0);
      // This process saw the other's execution end (it follows it)...
      await seen;
      const after = await scrape(monitoring.port);
      // ...and left it to the process that ran it.
      const total = (t: Sample[]) =>
        value(t, 'cronium_executions_total', { status: 'succeeded', error_kind: 'none' }) || 0;
      expect(total(after)).toBe(total(before));
    } finally {
      stop();
    }
  });

  it('takes the queue depth from a setter (a worker’s own queue), NaN when that fails', async () => {
    monitoring.metrics.setQueueDepth(7);
    expect(value(await scrape(monitoring.port), 'cronium_executions_queued')).toBe(7);
    monitoring.metrics.setQueueDepth(async () => 3);
    expect(value(await scrape(monitoring.port), 'cronium_executions_queued')).toBe(3);
    monitoring.metrics.setQueueDepth(() => {
      throw new Error('queue gone');
    });
    expect(value(await scrape(monitoring.port), 'cronium_executions_queued')).toBeNaN();
    monitoring.metrics.setQueueDepth(null);
    expect(value(await scrape(monitoring.port), 'cronium_executions_queued')).toBe(0);
  });

  it('exposes names by convention, each with HELP, and the default process metrics', async () => {
    const { body } = await get(monitoring.port, '/metrics');
    const families = [...body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({ name: m[1]!, type: m[2]! }));
    const ours = families.filter((f) => f.name.startsWith('cronium_'));
    expect(ours.map((f) => f.name).sort()).toEqual(
      [
        'cronium_build_info',
        'cronium_execution_duration_seconds',
        'cronium_executions_queued',
        'cronium_executions_total',
        'cronium_helper_fallbacks_total',
        'cronium_scheduler_lease_held',
        'cronium_ssh_connections_open',
        'cronium_store_up',
        'cronium_tunnels_open',
      ].sort(),
    );
    for (const f of ours) {
      expect(body).toMatch(new RegExp(`^# HELP ${f.name} \\S.+$`, 'm'));
      if (f.type === 'counter') expect(f.name).toMatch(/_total$/);
      if (f.type === 'histogram') expect(f.name).toMatch(/_seconds$/);
    }
    const samples = parse(body);
    expect(value(samples, 'cronium_build_info', { version: VERSION, role: 'daemon' })).toBe(1);
    expect(value(samples, 'cronium_store_up')).toBe(1);
    expect(families.map((f) => f.name)).toEqual(
      expect.arrayContaining([
        'process_cpu_user_seconds_total',
        'process_start_time_seconds',
        'nodejs_heap_size_used_bytes',
      ]),
    );
  });

  it('answers /healthz with ok, the role, version and the scheduler lease', async () => {
    let res = await get(monitoring.port, '/healthz');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    let health = JSON.parse(res.body) as Record<string, unknown>;
    expect(health).toMatchObject({
      status: 'ok',
      role: 'daemon',
      version: VERSION,
      store: { reachable: true },
      schedulerLeaseHeld: null,
    });
    expect(health.uptimeSeconds).toBeGreaterThan(0);
    const scheduler = service.startScheduler();
    await expect.poll(() => scheduler.holding, { timeout: 10_000 }).toBe(true);
    res = await get(monitoring.port, '/healthz');
    health = JSON.parse(res.body) as Record<string, unknown>;
    expect(health.schedulerLeaseHeld).toBe(true);
    expect(value(await scrape(monitoring.port), 'cronium_scheduler_lease_held')).toBe(1);
    await scheduler.stop();
    health = JSON.parse((await get(monitoring.port, '/healthz')).body) as Record<string, unknown>;
    expect(health.schedulerLeaseHeld).toBe(false);
  });

  it('answers 404 for other paths and 405 for other methods; HEAD has no body', async () => {
    expect((await get(monitoring.port, '/')).status).toBe(404);
    expect((await get(monitoring.port, '/metrics/x')).status).toBe(404);
    expect((await get(monitoring.port, '/api/servers')).status).toBe(404);
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await get(monitoring.port, '/metrics', { method });
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
    }
    const head = await get(monitoring.port, '/healthz', { method: 'HEAD' });
    expect(head).toMatchObject({ status: 200, body: '' });
    // A query string does not change the path.
    expect((await get(monitoring.port, '/healthz?verbose=1')).status).toBe(200);
  });

  it('listens on 127.0.0.1 only: other local addresses refuse the connection', async () => {
    const others = ['127.0.0.2', '::1'];
    for (const list of Object.values(networkInterfaces()))
      for (const a of list ?? []) if (!a.internal && !a.address.startsWith('fe80')) others.push(a.address);
    for (const host of others)
      await expect(get(monitoring.port, '/healthz', { host }), host).rejects.toMatchObject({
        code: expect.stringMatching(/ECONNREFUSED|EADDRNOTAVAIL|ENETUNREACH/),
      });
    expect((await get(monitoring.port, '/healthz')).status).toBe(200);
  });

  it('refuses a port in use with an error naming it, and a port out of range', async () => {
    const taken: NetServer = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      const err = await startMonitoring({ service, port, role: 'daemon' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CroniumError);
      expect(err).toMatchObject({ kind: 'conflict', message: expect.stringContaining(`Port ${port}`) });
      expect((err as Error).message).toMatch(/in use/);
    } finally {
      taken.close();
    }
    await expect(startMonitoring({ service, port: 70_000, role: 'daemon' })).rejects.toMatchObject({
      kind: 'invalid_input',
    });
  });
});

describe('health once the store is gone', () => {
  it('answers 503 (degraded) when the data directory is removed, and when the store is closed', async () => {
    const { service, dir, close } = await serviceWithHosts();
    const monitoring = await startMonitoring({ service, port: 0, role: 'worker' });
    try {
      expect((await get(monitoring.port, '/healthz')).status).toBe(200);
      rmSync(dir, { recursive: true, force: true });
      const res = await get(monitoring.port, '/healthz');
      expect(res.status).toBe(503);
      const health = JSON.parse(res.body) as { status: string; role: string; store: Record<string, unknown> };
      expect(health).toMatchObject({ status: 'degraded', role: 'worker', store: { reachable: false } });
      expect(health.store.error).toMatch(/cronium\.db is gone/);
      // The metrics still answer, and say so.
      const samples = await scrape(monitoring.port);
      expect(value(samples, 'cronium_store_up')).toBe(0);
      expect(value(samples, 'cronium_executions_queued')).toBeNaN();
      expect(value(samples, 'cronium_build_info', { version: VERSION, role: 'worker' })).toBe(1);
    } finally {
      await close();
    }
    // Closed (the file gone or not): the query itself fails.
    const res = await get(monitoring.port, '/healthz');
    expect(res.status).toBe(503);
    expect((JSON.parse(res.body) as { store: { reachable: boolean } }).store.reachable).toBe(false);
    await monitoring.close();
  });

  it('answers 503 when the store is closed though its file is there', async () => {
    const { service, close } = await serviceWithHosts();
    const monitoring = await startMonitoring({ service, port: 0, role: 'daemon' });
    try {
      await service.close();
      const res = await get(monitoring.port, '/healthz');
      expect(res.status).toBe(503);
      const health = JSON.parse(res.body) as { status: string; store: { reachable: boolean; error: string } };
      expect(health).toMatchObject({ status: 'degraded', store: { reachable: false } });
      expect(health.store.error).not.toBe('');
    } finally {
      await monitoring.close();
      await close();
    }
  });
});

describe('cronium daemon --metrics-port (a real process)', () => {
  let child: ChildProcess | null = null;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('serves metrics and health on the port it logs, and stops serving on SIGTERM', async () => {
    const dir = tempDir();
    try {
      child = spawn(process.execPath, ['src/cli/main.ts', 'daemon', '--metrics-port', '0'], {
        env: { ...process.env, CRONIUM_DATA_DIR: dir.path, CRONIUM_RUNTIME_PORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
      let out = '';
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const port = await new Promise<number>((resolve, reject) => {
        child!.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /"metricsPort":(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child!.once('exit', () => reject(new Error(`daemon exited: ${stderr}\n${out}`)));
      });
      expect(out).toMatch(new RegExp(`metrics on http://127\\.0\\.0\\.1:${port}/metrics`));
      // The daemon takes the lease (no other process on this data directory).
      await expect
        .poll(
          async () =>
            (JSON.parse((await get(port, '/healthz')).body) as Record<string, unknown>).schedulerLeaseHeld,
          {
            timeout: 15_000,
          },
        )
        .toBe(true);
      const health = JSON.parse((await get(port, '/healthz')).body) as Record<string, unknown>;
      expect(health).toMatchObject({
        status: 'ok',
        role: 'daemon',
        version: VERSION,
        store: { reachable: true },
      });
      const samples = await scrape(port);
      expect(value(samples, 'cronium_build_info', { version: VERSION, role: 'daemon' })).toBe(1);
      expect(value(samples, 'cronium_scheduler_lease_held')).toBe(1);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await expect(get(port, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      dir.remove();
    }
  });

  it('exits 2 naming the port when it is in use, before firing anything; --help says it is off unless given', async () => {
    const taken: NetServer = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    const dir = tempDir();
    try {
      const r = await runCli(['daemon', '--metrics-port', String(port)], { CRONIUM_DATA_DIR: dir.path });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`cronium: Port ${port} on 127.0.0.1 is in use`);
      expect(r.stdout).not.toMatch(/scheduler started/);
      const bad = await runCli(['daemon', '--metrics-port', 'http'], { CRONIUM_DATA_DIR: dir.path });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--metrics-port: port is a whole number/);
    } finally {
      taken.close();
      dir.remove();
    }
    const help = await runCli(['daemon', '--help']);
    expect(help.stdout).toMatch(/--metrics-port <port>[\s\S]*off unless given/);
  });
});
