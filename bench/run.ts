/**
 * npm run bench: prints figures measured side by side in one run on real sshd test hosts (needs root, like
 * the tests). Ratios against baselines measured in the same process; nothing here asserts a time.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import ssh2 from 'ssh2';

import { CroniumService } from '../src/service/service.ts';
import { SshHostHarness, type TestHosts } from '../test/support/sshHosts.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

function sshArgs(h: TestHosts, address: string): string[] {
  return [
    '-i',
    h.keyPath,
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
    '-o',
    'BatchMode=yes',
    `${h.user}@${address}`,
  ];
}

async function timeIt(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return times;
}

/** An open raw ssh2 connection whose exec('true') calls record their times. */
async function rawSsh2(
  h: TestHosts,
): Promise<{ rawTimes: number[]; exec: () => Promise<void>; end: () => void }> {
  const client = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    client.on('ready', resolve).on('error', reject);
    client.connect({
      host: h.hosts.h1.address,
      username: h.user,
      privateKey: execFileSync('cat', [h.keyPath]),
    });
    client.setNoDelay(true);
  });
  const once = () =>
    new Promise<void>((resolve, reject) =>
      client.exec('true', (err, ch) => {
        if (err) return reject(err);
        ch.on('close', () => resolve()).resume();
        ch.stderr.resume();
      }),
    );
  await timeIt(5, once);
  const rawTimes: number[] = [];
  return {
    rawTimes,
    exec: async () => void rawTimes.push(...(await timeIt(1, once))),
    end: () => client.end(),
  };
}

function runProcess(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const t = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('close', () => resolve(performance.now() - t));
  });
}

async function main(): Promise<void> {
  const harness = new SshHostHarness();
  const h = await harness.start();
  // However the bench ends (Ctrl-C, a closed pipe, an error), the hosts go with it.
  process.once('exit', () => harness.stop());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(signal, () => process.exit(130));
  const dataDir = mkdtempSync(join(tmpdir(), 'cronium-bench-'));
  const service = new CroniumService({ dataDir, unknownHostKeys: 'accept-new' });
  try {
    const names = ['h1', 'h2', 'h3', 'noforward'] as const;
    for (const name of names)
      service.createServer({
        name,
        host: h.hosts[name].address,
        username: h.user,
        auth: { type: 'key', keyPath: h.keyPath },
      });
    const runOnce = async (job: string, servers: string[], svc = service) => {
      const run = svc.startRun({ jobId: svc.getJob(job).id, serverIds: servers });
      return svc.waitForRun(run.id);
    };

    console.log('# Per-execution overhead (`true` on h1, sequential, median)');
    service.createJob({ name: 'true', language: 'bash', script: 'true' });
    // Raw ssh2 and cronium alternate, so both see the same moment of a shared machine.
    const { rawTimes, exec: rawExec, end: endRaw } = await rawSsh2(h);
    await runOnce('true', ['h1']); // warm: connection open, runner deployed, tunnel up
    const croniumTimes: number[] = [];
    for (let i = 0; i < 50; i++) {
      await rawExec();
      croniumTimes.push(...(await timeIt(1, () => runOnce('true', ['h1']))));
    }
    endRaw();
    const raw = median(rawTimes);
    const cronium = median(croniumTimes);
    const openssh = median(
      await timeIt(15, () => runProcess('ssh', [...sshArgs(h, h.hosts.h1.address), 'true'])),
    );
    console.log(`raw ssh2 exec('true') on an open connection: ${fmt(raw)}`);
    console.log(
      `cronium run (warm connection, stored in SQLite): ${fmt(cronium)}  → ${(cronium / raw).toFixed(2)}× raw ssh2 (target ≤ 3×)`,
    );
    console.log(
      `OpenSSH \`ssh host true\` (new connection each): ${fmt(openssh)}  → cronium is ${(openssh / cronium).toFixed(1)}× faster`,
    );

    console.log('\n# Fan-out: `hostname` on all 4 test hosts, parallelism 4 (median of 7)');
    service.createJob({ name: 'hostname', language: 'bash', script: 'hostname' });
    const cold = median(
      await timeIt(7, async () => {
        const fresh = new CroniumService({ dataDir, unknownHostKeys: 'accept-new' });
        await runOnce('hostname', [...names], fresh);
        await fresh.close();
      }),
    );
    await runOnce('hostname', [...names]);
    const warm = median(await timeIt(7, () => runOnce('hostname', [...names])));
    const pssh = spawnSync('sh', ['-c', 'command -v parallel-ssh']).status === 0;
    console.log(`cronium, new connections: ${fmt(cold)}; warm connections: ${fmt(warm)}`);
    if (pssh) {
      const hostsArgs = names.flatMap((n) => ['-H', `${h.user}@${h.hosts[n].address}`]);
      const psshTime = median(
        await timeIt(7, () =>
          runProcess('parallel-ssh', [
            '-p',
            '4',
            '-x',
            `-i ${h.keyPath} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR`,
            ...hostsArgs,
            'hostname',
          ]),
        ),
      );
      console.log(
        `parallel-ssh -p 4: ${fmt(psshTime)}  → cronium (new connections) at ${(cold / psshTime).toFixed(2)}× its time (target ≤ 1×)`,
      );
    } else console.log('parallel-ssh: not installed (apt-get install pssh) — skipped');

    console.log('\n# Helpers: 1,000 getVariable calls on h1 (time per call, measured inside the script)');
    service.setVariable({ key: 'bench', value: { some: 'value', n: 1 } });
    service.createJob({ name: 'helpers-py', language: 'python', script: PY_HELPER_BENCH });
    service.createJob({ name: 'helpers-node', language: 'node', script: NODE_HELPER_BENCH });
    for (const job of ['helpers-py', 'helpers-node']) {
      const figures: Record<string, { helper: number; raw: number | null; health: number | null }> = {};
      for (const mode of ['api', 'bundled'] as const) {
        const run = service.startRun({ jobId: service.getJob(job).id, serverIds: ['h1'], helperMode: mode });
        const done = await service.waitForRun(run.id);
        const e = service.getExecution(done.executionIds[0]!);
        if (e.status !== 'succeeded')
          throw new Error(
            `${job} ${mode}: ${e.status} ${e.errorMessage} ${service
              .readLog(e.id)
              .map((c) => c.text)
              .join('')}`,
          );
        figures[mode] = e.output as { helper: number; raw: number | null; health: number | null };
      }
      const api = figures.api!;
      const us = (s: number | null) => (s === null ? '-' : `${((s / 1000) * 1e6).toFixed(0)} µs`);
      console.log(
        `${job === 'helpers-py' ? 'Python' : 'Node.js'}: API mode ${us(api.helper)}/call; plain HTTP GET of the same endpoint through the same tunnel ${us(api.raw)}/call ` +
          `→ helper layer adds ${(((api.helper - api.raw!) / api.raw!) * 100).toFixed(0)}% (target < 50%); /health ${us(api.health)}/call; bundled mode ${us(figures.bundled!.helper)}/call`,
      );
    }

    console.log('\n# Throughput: `head -c N /dev/zero` on h1 (fresh process each, log stored in SQLite)');
    for (const mb of [25, 100]) {
      service.createJob({ name: `zero${mb}`, language: 'bash', script: `head -c ${mb}M /dev/zero` });
      const child = JSON.parse(
        execFileSync(process.execPath, ['bench/throughputChild.ts', dataDir, `zero${mb}`, 'h1'], {
          encoding: 'utf8',
        }),
      ) as { ms: number; maxRssMB: number; status: string };
      const ssh = await runProcess('sh', [
        '-c',
        `ssh ${sshArgs(h, h.hosts.h1.address)
          .map((a) => `'${a}'`)
          .join(' ')} 'head -c ${mb}M /dev/zero' >/dev/null`,
      ]);
      console.log(
        `${mb} MB: cronium ${fmt(child.ms)} (${(mb / (child.ms / 1000)).toFixed(0)} MB/s, peak RSS ${child.maxRssMB.toFixed(0)} MB, ${child.status}); ` +
          `OpenSSH ${fmt(ssh)} (${(mb / (ssh / 1000)).toFixed(0)} MB/s) → cronium at ${((mb / child.ms / (mb / ssh)) * 100).toFixed(0)}% of OpenSSH throughput (target ≥ 50%)`,
      );
    }
  } finally {
    await service.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Python: 1,000 cronium.getVariable calls, then the same GET made with plain http.client. */
const PY_HELPER_BENCH = `import http.client, os, time, urllib.parse
N = 1000
t = time.perf_counter()
for _ in range(N):
    cronium.getVariable("bench")
helper = time.perf_counter() - t
raw = health = None
if os.environ["CRONIUM_HELPER_MODE"] == "api":
    ep = urllib.parse.urlsplit(os.environ["CRONIUM_API_ENDPOINT"])
    conn = http.client.HTTPConnection(ep.hostname, ep.port)
    headers = {"Authorization": "Bearer " + os.environ["CRONIUM_API_TOKEN"]}
    path = "/executions/%s/variables/bench" % os.environ["CRONIUM_EXECUTION_ID"]
    t = time.perf_counter()
    for _ in range(N):
        conn.request("GET", path, headers=headers)
        conn.getresponse().read()
    raw = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(N):
        conn.request("GET", "/health")
        conn.getresponse().read()
    health = time.perf_counter() - t
cronium.output({"helper": helper, "raw": raw, "health": health})
`;

/** Node.js: 1,000 synchronous cronium.getVariable calls, then the same GET with plain http (keep-alive). */
const NODE_HELPER_BENCH = `const http = require('http');
const N = 1000;
let t = performance.now();
for (let i = 0; i < N; i++) cronium.getVariable('bench');
const helper = (performance.now() - t) / 1000;
(async () => {
  let raw = null, health = null;
  if (process.env.CRONIUM_HELPER_MODE === 'api') {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path, headers) => new Promise((resolve, reject) => {
      http.get(process.env.CRONIUM_API_ENDPOINT + path, { agent, headers }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
    });
    const headers = { authorization: 'Bearer ' + process.env.CRONIUM_API_TOKEN };
    t = performance.now();
    for (let i = 0; i < N; i++) await get('/executions/' + process.env.CRONIUM_EXECUTION_ID + '/variables/bench', headers);
    raw = (performance.now() - t) / 1000;
    t = performance.now();
    for (let i = 0; i < N; i++) await get('/health', {});
    health = (performance.now() - t) / 1000;
    agent.destroy();
  }
  cronium.output({ helper, raw, health });
})();
`;

await main();
// An ssh2 socket or a child's pipe can keep the event loop alive: end here (the hosts stop on exit).
process.exit(0);
