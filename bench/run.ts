/**
 * npm run bench: Cronium measured as a user runs it — whole processes, side by side with the tool people
 * would use instead (OpenSSH, parallel-ssh), on real sshd hosts in network namespaces (needs root, like the
 * tests; CRONIUM_TEST_SLOT picks the hosts' slot). Cronium and the peer alternate, so both see the same
 * moment of a shared machine; each figure is a median, printed with the 1-minute load average at the time.
 * Nothing here asserts a time.
 *
 *   node bench/run.ts [startup] [fanout] [bulk] [inprocess] [store]     (default: all sections)
 *
 * `store` (bench/store.ts) needs no hosts: the store's hot calls per call on SQLite and PostgreSQL, beside
 * the last synchronous build's (CRONIUM_BENCH_SYNC=DIR).
 *
 * Environment: BENCH_REPS (repetitions per figure, default 7), CRONIUM_BENCH_PROF=DIR (also run the bulk
 * and 8-host fan-out once each under `node --cpu-prof`, profiles in DIR; see bench/profileTop.ts).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';

import ssh2 from 'ssh2';

import { CroniumService } from '../src/service/service.ts';
import { SshHostHarness, type TestHost, type TestHosts } from '../test/support/sshHosts.ts';
import { buildCli } from '../scripts/buildCli.ts';
import { storeBench } from './store.ts';

const FLEET = 50;
const BULK_BYTES = 100_000_000;
/** The larger output whose peak RSS is compared with BULK_BYTES' (memory must not grow with output). */
const BULK_LARGE_BYTES = 300_000_000;
const REPS = Number(process.env.BENCH_REPS ?? 7);
const sections = new Set(process.argv.slice(2));
const wants = (s: string) => sections.size === 0 || sections.has(s);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(0)} ms`;
const load = () => loadavg()[0]!.toFixed(2);

/** One line of the side-by-side table. */
function row(measure: string, cronium: string, peer: string, ratio: number | null, target: string): void {
  const r = ratio === null ? '-' : `${ratio.toFixed(2)}×`;
  console.log(`| ${measure} | ${cronium} | ${peer} | ${r} | ${target} | ${load()} |`);
}
function header(title: string): void {
  console.log(`\n## ${title}\n`);
  console.log('| measure | cronium | peer | ratio | target | load (1 min) |');
  console.log('|---|---|---|---|---|---|');
}

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
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const shLine = (argv: string[]) => argv.map(quote).join(' ');

interface Measured {
  ms: number;
  /** Peak resident set of the measured command (GNU time's %M), in MB; null when not measured. */
  rssMB: number | null;
  code: number | null;
  /** The first non-empty line the command wrote on stderr (kept to say why it failed). */
  firstStderr?: string;
}

/**
 * A series' median time, or `failed (exit N: first stderr line)` when any of its commands failed: a
 * command that failed has not done the work, so its time is no figure (nor is a ratio built on it).
 */
function figure(series: Measured[]): { text: string; ms: number | null } {
  const bad = series.find((m) => m.code !== 0);
  if (bad) return { text: `failed (exit ${bad.code}: ${bad.firstStderr ?? 'no stderr'})`, ms: null };
  const t = median(series.map((m) => m.ms));
  return { text: ms(t), ms: t };
}

/**
 * Runs a shell command line as a whole process and times it (wall clock, from spawn to exit). With
 * `rssOf`, that part of the line is run under GNU time to read its peak RSS.
 */
function timeShell(line: string, env: NodeJS.ProcessEnv = process.env): Promise<Measured> {
  return new Promise((resolve) => {
    const t = performance.now();
    const child = spawn('sh', ['-c', line], { stdio: ['ignore', 'ignore', 'pipe'], env });
    // What a command says on stderr is shown only when it fails (cronium's per-server lines are noise here).
    let stderr = '';
    // Its first non-empty line says why it failed (a later one may be a stack trace's tail).
    let firstStderr: string | undefined;
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
      firstStderr ??= d
        .toString()
        .split('\n')
        .find((l) => l.trim())
        ?.trim();
    });
    child.on('close', (code) => {
      if (code !== 0) process.stderr.write(`(exit ${code}: ${line.slice(0, 120)}…)\n${stderr}`);
      resolve({ ms: performance.now() - t, rssMB: null, code, firstStderr });
    });
  });
}

/** timeShell() of `argv > out` under /usr/bin/time, reading the peak RSS of argv's process. */
async function timeWithRss(argv: string[], tail: string, env?: NodeJS.ProcessEnv): Promise<Measured> {
  const report = join(tmpdir(), `cronium-bench-time-${process.pid}`);
  const m = await timeShell(`/usr/bin/time -f %M -o ${report} ${shLine(argv)} ${tail}`, env);
  const kb = Number(readFileSync(report, 'utf8').trim().split('\n').pop());
  rmSync(report, { force: true });
  return { ...m, rssMB: kb / 1024 };
}

/** Alternates a and b n times (after one unmeasured warm-up of each); returns both series. */
async function alternate<T>(n: number, a: () => Promise<T>, b: () => Promise<T>): Promise<[T[], T[]]> {
  await a();
  await b();
  const as: T[] = [];
  const bs: T[] = [];
  for (let i = 0; i < n; i++) {
    as.push(await a());
    bs.push(await b());
  }
  return [as, bs];
}

/** n runs of fn, one after the other, after one unmeasured warm-up. */
async function repeat<T>(n: number, fn: () => Promise<T>): Promise<T[]> {
  await fn();
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await fn());
  return out;
}

/** `--version` where the CLI has it, else `--help` (the cheapest command of a CLI without one). */
function versionFlag(argv: string[], env: NodeJS.ProcessEnv): string {
  const [cmd, ...args] = argv;
  return spawnSync(cmd!, [...args, '--version'], { env, stdio: 'ignore' }).status === 0
    ? '--version'
    : '--help';
}

/** The ways the `cronium` command can be started today: npm's script, the source entry, and a `bin`. */
function cliForms(): { label: string; argv: string[] }[] {
  const forms = [
    { label: '`npm run -s cronium --`', argv: ['npm', 'run', '-s', 'cronium', '--'] },
    { label: '`node src/cli/main.ts`', argv: [process.execPath, 'src/cli/main.ts'] },
  ];
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { bin?: string | Record<string, string> };
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.cronium;
  // Started as the user starts it: the file itself is executed (it is a shell script with its own
  // choice of Node, not a module for this Node).
  if (bin && existsSync(bin)) forms.push({ label: `bin \`${bin}\``, argv: [resolve(bin)] });
  return forms;
}

/**
 * Rebuilds out/cli when a file under src/ is newer than it, as the bin would otherwise start the sources
 * (a third slower) and the figures would not be the installed command's. Returns whether it rebuilt.
 */
async function freshBundle(): Promise<boolean> {
  const bundle = 'out/cli/cronium.js';
  const stale =
    !existsSync(bundle) ||
    spawnSync('find', ['src', '-newer', bundle, '-type', 'f', '-print', '-quit'], {
      encoding: 'utf8',
    }).stdout.trim() !== '';
  if (stale) await buildCli({ quiet: true });
  return stale;
}

/** env for a cronium process profiled by V8 (the bin execs node, which reads --cpu-prof from NODE_OPTIONS). */
const profEnv = (env: NodeJS.ProcessEnv, dir: string): NodeJS.ProcessEnv => ({
  ...env,
  NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${dir}`.trim(),
});

/** A script (Python, run on the host) writing `bytes` of log-like text: varied lengths, UTF-8, ANSI colour. */
const BULK_GENERATOR = `import random, sys
random.seed(10)
words = ["GET", "POST", "/api/v1/items", "200", "404", "user=alice", "took", "ms", "cache", "miss",
         "hit", "connection", "reset", "retrying", "Überweisung", "naïve", "café", "日本語のログ",
         "данные", "ошибка", "✓", "→", "🚀", "warning:", "error:", "0x7ffd", "{\\"id\\": 42}"]
colours = ["\\x1b[32m", "\\x1b[31m", "\\x1b[1;33m", "\\x1b[36m"]
lines = []
size = 0
while size < 4_000_000:
    n = random.choice([0, 1, 3, 6, 10, 14, 20, 30])
    line = " ".join(random.choice(words) for _ in range(n))
    if random.random() < 0.15:
        line = random.choice(colours) + line + "\\x1b[0m"
    if random.random() < 0.5:
        line = "2026-11-29T19:%02d:%02d.%03dZ " % (random.randrange(60), random.randrange(60), random.randrange(1000)) + line
    line = (line + "\\n").encode()
    lines.append(line)
    size += len(line)
block = b"".join(lines)
total = int(sys.argv[1])
with open(sys.argv[2], "wb") as out:
    while total > 0:
        out.write(block[:total])
        total -= len(block[:total])
`;

/** Executions in the history of the fan-out section's long-history job. */
const HISTORY_EXECUTIONS = 300_000;

/**
 * Gives the job `name` (a copy of `hostname`) a history of `count` ended executions, written straight into
 * the bench's SQLite store (one run holds them); returns how long that took (ms).
 */
function historyJob(dataDir: string, name: string, count: number): number {
  const started = performance.now();
  const db = new DatabaseSync(join(dataDir, 'cronium.db'), { timeout: 10_000 });
  try {
    const template = db.prepare('SELECT * FROM jobs WHERE name = ?').get('hostname') as Record<
      string,
      SQLInputValue
    >;
    const jobId = randomUUID();
    const columns = Object.keys(template);
    db.prepare(`INSERT INTO jobs (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).run(
      ...columns.map((c) => (c === 'id' ? jobId : c === 'name' ? name : template[c]!)),
    );
    const runId = randomUUID();
    const at = Date.now() - count;
    db.prepare(
      `INSERT INTO runs (id, job_id, job_name, input, trigger, concurrency, helper_mode, status, started_at, ended_at)
       VALUES (?, ?, ?, 'null', 'cli', 1, 'auto', 'partial', ?, ?)`,
    ).run(runId, jobId, name, at, at + count);
    const insert = db.prepare(
      `INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, exit_code, started_at, ended_at)
       VALUES (?, ?, ?, ?, 'past', 'past', ?, ?, ?, ?)`,
    );
    db.exec('BEGIN');
    for (let i = 0; i < count; i++) {
      const ok = i % 10 !== 0;
      insert.run(randomUUID(), runId, jobId, name, ok ? 'succeeded' : 'failed', ok ? 0 : 1, at + i, at + i);
    }
    db.exec('COMMIT');
    // Written back into the database file now: the runs measured must not pay for this checkpoint.
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return performance.now() - started;
}

/** A reader slower than the network: 64 KiB every 4 ms at most (≈ 16 MB/s). */
const SLOW_READER = `${'python3'} -c ${quote(
  'import sys, time\nr = sys.stdin.buffer.read1\nwhile r(65536):\n    time.sleep(0.004)\n',
)}`;

async function main(): Promise<void> {
  if (wants('store')) await storeBench();
  if (sections.size > 0 && [...sections].every((s) => s === 'store')) return;
  const harness = new SshHostHarness({ fleet: wants('fanout') ? FLEET : 0 });
  const h = await harness.start();
  // However the bench ends (Ctrl-C, a closed pipe, an error), the hosts go with it.
  process.once('exit', () => harness.stop());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(signal, () => process.exit(130));
  const dataDir = mkdtempSync(join(tmpdir(), 'cronium-bench-'));
  const profDir = process.env.CRONIUM_BENCH_PROF;
  // Every cronium process of the bench: the same data directory, and any free runtime port.
  const env = { ...process.env, CRONIUM_DATA_DIR: dataDir, CRONIUM_RUNTIME_PORT: '0' };
  const rebuilt = await freshBundle();
  const cli = cliForms();
  // The fastest way to start the command is the one measured in run figures (the bin, when there is one).
  const cronium = cli[cli.length - 1]!.argv;
  console.log(
    `# cronium bench — ${new Date().toISOString()}, ${REPS} repetitions per figure (medians), cronium and peer alternating; ` +
      `load average at start ${loadavg()
        .map((l) => l.toFixed(2))
        .join(
          ' ',
        )}; cronium started as ${cli[cli.length - 1]!.label}${rebuilt ? ' (bundle rebuilt first: it was older than src/)' : ''}`,
  );

  // Servers and jobs through the service (fast), then one in-process run on every host, which records
  // their host keys (accept-new) so that each whole-process run below is an ordinary run.
  const seed = await CroniumService.open({ dataDir, unknownHostKeys: 'accept-new', runtimePort: 0 });
  const add = async (host: TestHost) =>
    await seed.createServer({
      name: host.name,
      host: host.address,
      username: h.user,
      auth: { type: 'key', keyPath: h.keyPath },
    });
  for (const host of [h.hosts.h1, ...h.fleet]) await add(host);
  await seed.createJob({ name: 'true', language: 'bash', script: 'true' });
  await seed.createJob({ name: 'hostname', language: 'bash', script: 'hostname' });
  await seed.createJob({ name: 'bulk', language: 'bash', script: 'cat ~/bulk.txt' });
  await seed.createJob({ name: 'bulk-large', language: 'bash', script: 'cat ~/bulk-large.txt' });
  const seedRun = await seed.startRun({
    jobId: (await seed.getJob('true')).id,
    serverIds: ['h1', ...h.fleet.map((f) => f.name)],
    concurrency: 50,
  });
  const seeded = await seed.waitForRun(seedRun.id);
  if (seeded.status !== 'succeeded') throw new Error(`could not reach every host: ${seeded.status}`);
  await seed.close();
  const run = (job: string, on: string[], extra: string[] = []) => [
    ...cronium,
    'run',
    job,
    '--on',
    on.join(','),
    ...extra,
  ];

  try {
    if (wants('startup')) {
      header('Start-up (whole process)');
      for (const form of cli) {
        const flag = versionFlag(form.argv, env);
        const times = await repeat(REPS, () => timeShell(`${shLine([...form.argv, flag])} >/dev/null`, env));
        const t = figure(times);
        row(`${form.label} ${flag}`, t.text, '80 ms (target)', t.ms === null ? null : t.ms / 80, '≤ 80 ms');
      }
      const [c, s] = await alternate(
        REPS,
        () => timeShell(shLine(run('true', ['h1'])), env),
        () => timeShell(shLine(['ssh', ...sshArgs(h, h.hosts.h1.address), 'true'])),
      );
      const cm = figure(c);
      const sm = figure(s);
      row(
        '`cronium run true` on one host vs `ssh host true` (new connection each)',
        cm.text,
        sm.text,
        cm.ms === null || sm.ms === null ? null : cm.ms / sm.ms,
        '≤ 1.0×',
      );
      if (profDir)
        execFileSync(cronium[0]!, run('true', ['h1']).slice(1), {
          env: profEnv(env, profDir),
          stdio: 'ignore',
        });
    }

    if (wants('fanout')) {
      header('Fan-out: `hostname` (whole process, new connections)');
      const pssh = spawnSync('sh', ['-c', 'command -v parallel-ssh']).status === 0;
      if (!pssh) console.log('parallel-ssh: not installed (apt-get install pssh) — peer figures skipped');
      const psshLine = (hosts: TestHost[], p: number) => [
        'parallel-ssh',
        '-p',
        String(p),
        '-x',
        `-i ${h.keyPath} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes`,
        ...hosts.flatMap((f) => ['-H', `${h.user}@${f.address}`]),
        'hostname',
      ];
      const version = await repeat(REPS, () =>
        timeShell(`${shLine([...cronium, versionFlag(cronium, env)])} >/dev/null 2>&1`, env),
      );
      const startup = median(version.map((m) => m.ms));
      for (const n of [8, FLEET]) {
        const fleet = h.fleet.slice(0, n);
        const names = fleet.map((f) => f.name);
        const reps = n === FLEET ? Math.max(3, Math.ceil(REPS / 2)) : REPS;
        const [c, p] = await alternate(
          reps,
          () => timeWithRss(run('hostname', names, ['--concurrency', String(n)]), '>/dev/null', env),
          () =>
            pssh
              ? timeWithRss(psshLine(fleet, n), '>/dev/null')
              : Promise.resolve({ ms: NaN, rssMB: null, code: null }),
        );
        const cm = median(c.map((m) => m.ms));
        const pm = median(p.map((m) => m.ms));
        if (c.some((m) => m.code !== 0)) console.log(`(a cronium run on ${n} hosts did not exit 0)`);
        row(
          `${n} hosts, concurrency ${n}: time vs \`parallel-ssh -p ${n}\``,
          `${ms(cm)} (start-up ${ms(startup)}, run ${ms(cm - startup)})`,
          pssh ? ms(pm) : '-',
          pssh ? cm / pm : null,
          n === 8 ? '≤ 0.6×' : 'reported',
        );
        const cr = median(c.map((m) => m.rssMB!));
        const pr = pssh ? median(p.map((m) => m.rssMB!)) : NaN;
        row(
          `${n} hosts: peak RSS`,
          `${cr.toFixed(0)} MB`,
          pssh ? `${pr.toFixed(0)} MB (parallel-ssh itself)` : '-',
          pssh ? cr / pr : null,
          'reported',
        );
        if (profDir && n === 8)
          execFileSync(
            run('hostname', names, ['--concurrency', '8'])[0]!,
            run('hostname', names, ['--concurrency', '8']).slice(1),
            {
              env: profEnv(env, profDir),
              stdio: 'ignore',
            },
          );
      }
      // A job with a long history: its event figures (successCount…) are read from the store once per
      // run, not once per host (the query reads every execution the job ever had).
      const history = historyJob(dataDir, 'hostname-history', HISTORY_EXECUTIONS);
      const names = h.fleet.slice(0, 8).map((f) => f.name);
      const long = await repeat(Math.max(3, Math.ceil(REPS / 2)), () =>
        timeShell(`${shLine(run('hostname-history', names, ['--concurrency', '8']))} >/dev/null 2>&1`, env),
      );
      const lm = figure(long);
      row(
        `8 hosts, a job with ${HISTORY_EXECUTIONS.toLocaleString('en')} executions in its history (made in ${ms(history)})`,
        lm.text,
        '-',
        null,
        'reported',
      );
    }

    if (wants('bulk')) {
      header(`Bulk: ${BULK_BYTES / 1e6} MB of log-like text (\`cat\` of a file made on the host)`);
      // Made on the host by a small script, as the test user (the file is in the user's home).
      execFileSync('ssh', [...sshArgs(h, h.hosts.h1.address), `python3 - ${BULK_BYTES} bulk.txt`], {
        input: BULK_GENERATOR,
      });
      const sshCat = shLine(['ssh', ...sshArgs(h, h.hosts.h1.address), 'cat ~/bulk.txt']);
      const [c, s] = await alternate(
        REPS,
        () => timeWithRss(run('bulk', ['h1']), '>/dev/null', env),
        () => timeShell(`${sshCat} >/dev/null`),
      );
      const cm = median(c.map((m) => m.ms));
      const sm = median(s.map((m) => m.ms));
      if (c.some((m) => m.code !== 0)) console.log('(a bulk cronium run did not exit 0)');
      row('to /dev/null: time vs `ssh host cat … >/dev/null`', ms(cm), ms(sm), cm / sm, '≤ 1.25×');
      row(
        'to /dev/null: peak RSS of the cronium process',
        `${median(c.map((m) => m.rssMB!)).toFixed(0)} MB`,
        '-',
        null,
        'flat',
      );
      // The same text, three times the size: peak RSS must not grow with it.
      execFileSync(
        'ssh',
        [...sshArgs(h, h.hosts.h1.address), `python3 - ${BULK_LARGE_BYTES} bulk-large.txt`],
        { input: BULK_GENERATOR },
      );
      const large = await repeat(Math.max(1, Math.floor(REPS / 3)), () =>
        timeWithRss(run('bulk-large', ['h1']), '>/dev/null', env),
      );
      if (large.some((m) => m.code !== 0)) console.log('(a large bulk cronium run did not exit 0)');
      const largeRss = median(large.map((m) => m.rssMB!));
      const smallRss = median(c.map((m) => m.rssMB!));
      row(
        `${BULK_LARGE_BYTES / 1e6} MB to /dev/null: peak RSS (cronium: ${BULK_LARGE_BYTES / 1e6} MB; "peer": ${BULK_BYTES / 1e6} MB)`,
        `${largeRss.toFixed(0)} MB (time ${ms(median(large.map((m) => m.ms)))})`,
        `${smallRss.toFixed(0)} MB`,
        largeRss / smallRss,
        'flat (≈ 1.0×)',
      );
      execFileSync('ssh', [...sshArgs(h, h.hosts.h1.address), 'rm -f bulk-large.txt']);
      const slowReps = Math.max(1, Math.floor(REPS / 3));
      const [cs, ss] = await alternate(
        slowReps,
        () => timeWithRss(run('bulk', ['h1']), `| ${SLOW_READER}`, env),
        () => timeShell(`${sshCat} | ${SLOW_READER}`),
      );
      const csm = median(cs.map((m) => m.ms));
      const ssm = median(ss.map((m) => m.ms));
      row(`into a slow reader (≈16 MB/s), ${slowReps}×: time`, ms(csm), ms(ssm), csm / ssm, 'reported');
      row(
        'into a slow reader: peak RSS of the cronium process',
        `${median(cs.map((m) => m.rssMB!)).toFixed(0)} MB`,
        '-',
        null,
        'flat',
      );
      if (profDir)
        execFileSync('sh', ['-c', `${shLine(run('bulk', ['h1']))} >/dev/null`], {
          env: profEnv(env, profDir),
          stdio: 'inherit',
        });
    }

    if (wants('inprocess')) await inProcess(h, dataDir);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** An open raw ssh2 connection whose exec('true') calls record their times. */
async function rawSsh2(h: TestHosts): Promise<{ exec: () => Promise<number>; end: () => void }> {
  const client = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    client.on('ready', resolve).on('error', reject);
    client.connect({
      host: h.hosts.h1.address,
      username: h.user,
      privateKey: readFileSync(h.keyPath),
    });
    client.setNoDelay(true);
  });
  const exec = () =>
    new Promise<number>((resolve, reject) => {
      const t = performance.now();
      client.exec('true', (err, ch) => {
        if (err) return reject(err);
        ch.on('close', () => resolve(performance.now() - t)).resume();
        ch.stderr.resume();
      });
    });
  return { exec, end: () => client.end() };
}

/** Today's in-process figures: warm per-execution overhead vs raw ssh2, helper calls vs plain HTTP. */
async function inProcess(h: TestHosts, dataDir: string): Promise<void> {
  const service = await CroniumService.open({ dataDir, unknownHostKeys: 'accept-new', runtimePort: 0 });
  const runOnce = async (job: string) => {
    const started = performance.now();
    const r = await service.startRun({ jobId: (await service.getJob(job)).id, serverIds: ['h1'] });
    await service.waitForRun(r.id);
    return performance.now() - started;
  };
  try {
    header('In one warm process');
    const raw = await rawSsh2(h);
    const [c, r] = await alternate(50, () => runOnce('true'), raw.exec);
    raw.end();
    const cm = median(c);
    const rm = median(r);
    row(
      "`true` on a warm connection, stored in SQLite, vs raw ssh2 exec('true')",
      ms(cm),
      ms(rm),
      cm / rm,
      '≤ 3×',
    );

    await service.setVariable({ key: 'bench', value: { some: 'value', n: 1 } });
    await service.createJob({ name: 'helpers-py', language: 'python', script: PY_HELPER_BENCH });
    await service.createJob({ name: 'helpers-node', language: 'node', script: NODE_HELPER_BENCH });
    for (const job of ['helpers-py', 'helpers-node']) {
      const figures: Record<string, { helper: number; raw: number | null; health: number | null }> = {};
      for (const mode of ['api', 'bundled'] as const) {
        const started = await service.startRun({
          jobId: (await service.getJob(job)).id,
          serverIds: ['h1'],
          helperMode: mode,
        });
        const done = await service.waitForRun(started.id);
        const e = await service.getExecution(done.executionIds[0]!);
        if (e.status !== 'succeeded')
          throw new Error(
            `${job} ${mode}: ${e.status} ${e.errorMessage} ${(await service.readLog(e.id))
              .map((chunk) => chunk.text)
              .join('')}`,
          );
        figures[mode] = e.output as { helper: number; raw: number | null; health: number | null };
      }
      const api = figures.api!;
      const us = (s: number) => `${((s / 1000) * 1e6).toFixed(0)} µs`;
      const lang = job === 'helpers-py' ? 'Python' : 'Node.js';
      row(
        `${lang}: 1,000 getVariable calls, API mode vs plain HTTP GET through the same tunnel (per call)`,
        us(api.helper),
        us(api.raw!),
        api.helper / api.raw!,
        '≤ 1.5×',
      );
      row(
        `${lang}: /health per call; bundled mode per call`,
        us(api.health!),
        '-',
        null,
        `bundled ${us(figures.bundled!.helper)}`,
      );
    }
  } finally {
    await service.close();
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
