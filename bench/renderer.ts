/**
 * npm run bench:ui — renderer performance in real Chromium through browser mode, against a real sshd host:
 *   1. a history of 1,000,000 executions: time from opening History to its first rows;
 *   2. a job printing 1,000,000 log lines streamed live: the longest main-thread task and the memory used.
 * Prints figures; asserts nothing. Needs root (test hosts) and /usr/bin/chromium.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import { CroniumService } from '../src/service/service.ts';
import { openSqlite } from '../src/store/sqliteEngine.ts';
import { openBrowser, startServe, stopServe } from '../test/support/browser.ts';
import { SshHostHarness } from '../test/support/sshHosts.ts';

const HISTORY = 1_000_000;
const LINES = 1_000_000;

const harness = new SshHostHarness();
const h = await harness.start();
process.once('exit', () => harness.stop());
const dataDir = mkdtempSync(join(tmpdir(), 'cronium-bench-ui-'));
const profile = mkdtempSync(join(tmpdir(), 'cronium-bench-chromium-'));

// Seed: one server, one job, and 1,000,000 past executions written straight into the store.
const seed = await CroniumService.open({ dataDir, unknownHostKeys: 'accept-new', runtimePort: 0 });
await seed.createServer({
  name: 'h1',
  host: h.hosts.h1.address,
  username: h.user,
  auth: { type: 'key', keyPath: h.keyPath },
});
await seed.testServer('h1');
const job = await seed.createJob({
  name: 'million',
  language: 'python',
  script: `import sys\nw = sys.stdout.write\nfor i in range(${LINES}):\n    w("line %07d \\x1b[32mok\\x1b[0m some ordinary log text\\n" % i)\n`,
});
const server = await seed.getServer('h1');
const started = Date.now() - HISTORY * 1000;
// The facade keeps its connection: the seed writes through a connection of its own on the same file.
// (The raw node:sqlite handle: a million prepared inserts in one transaction, as fast as SQLite goes.)
const seedStore = openSqlite(dataDir);
const seedDb = seedStore.raw;
seedDb.exec('BEGIN');
const run = seedDb.prepare(
  "INSERT INTO runs (id, job_id, job_name, trigger, concurrency, helper_mode, status, started_at, ended_at) VALUES (?, ?, 'million', 'manual', 1, 'auto', ?, ?, ?)",
);
const exec = seedDb.prepare(
  "INSERT INTO executions (id, run_id, job_id, job_name, server_id, server_name, status, exit_code, helper_mode, started_at, ended_at) VALUES (?, ?, ?, 'million', ?, 'h1', ?, ?, 'api', ?, ?)",
);
for (let i = 0; i < HISTORY; i++) {
  const runId = randomUUID();
  const ok = i % 7 !== 0;
  run.run(runId, job.id, ok ? 'succeeded' : 'failed', started + i * 1000, started + i * 1000 + 900);
  exec.run(
    randomUUID(),
    runId,
    job.id,
    server.id,
    ok ? 'succeeded' : 'failed',
    ok ? 0 : 1,
    started + i * 1000,
    started + i * 1000 + 900,
  );
}
seedDb.exec('COMMIT');
await seedStore.close();
await seed.close();

const { child, url } = await startServe(dataDir);
const context = await openBrowser(profile);
try {
  const page = await context.newPage();
  // Browser-side code is passed as text: this file is type-checked for Node, not the DOM.
  await page.addInitScript(
    "window.__longTasks = []; new PerformanceObserver((list) => list.getEntries().forEach((e) => window.__longTasks.push(e.duration))).observe({ type: 'longtask', buffered: true });",
  );
  await page.goto(url);
  await page.getByTestId('servers-table').waitFor();

  console.log(`# History of ${HISTORY.toLocaleString()} executions`);
  const t0 = performance.now();
  await page.getByTestId('nav-history').click();
  await page.getByTestId('history-row').first().waitFor();
  const firstRows = performance.now() - t0;
  const inApp = await page.getByTestId('history-view').getAttribute('data-first-page-ms');
  console.log(
    `time to first rows: ${firstRows.toFixed(0)} ms from the click (first page in ${inApp} ms) (target < 100 ms; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')})`,
  );

  console.log(`\n# ${LINES.toLocaleString()} log lines streamed live`);
  await page.evaluate('window.__longTasks.length = 0');
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  if (process.env.PROFILE) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.start');
  }
  await page.getByTestId('nav-jobs').click();
  await page.getByTestId('job-row-million').getByTestId('run-job').click();
  await page.getByTestId('run-server-h1').check();
  const t1 = performance.now();
  await page.getByTestId('run-start').click();
  await page.getByTestId('status-card-h1').getByText('succeeded').waitFor({ timeout: 600_000 });
  await page.waitForFunction(
    `Number((document.querySelector('[data-testid=log-count]')?.textContent ?? '').replace(/\\D/g, '')) >= ${LINES}`,
    undefined,
    { timeout: 120_000 },
  );
  const streamed = performance.now() - t1;
  if (process.env.PROFILE) {
    const { profile: prof } = (await cdp.send('Profiler.stop')) as {
      profile: {
        nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
        samples: number[];
        timeDeltas: number[];
      };
    };
    const self = new Map<string, number>();
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    prof.samples.forEach((id, i) => {
      const f = byId.get(id)!.callFrame;
      const key = `${f.functionName || '(anon)'} ${f.url.split('/').pop()}:${f.lineNumber}`;
      self.set(key, (self.get(key) ?? 0) + (prof.timeDeltas[i] ?? 0) / 1000);
    });
    for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15))
      console.log(`  ${v.toFixed(0).padStart(6)} ms  ${k}`);
  }
  const tasks = (await page.evaluate('window.__longTasks')) as number[];
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = (await cdp.send('Performance.getMetrics')) as {
    metrics: { name: string; value: number }[];
  };
  const heap = metrics.find((m) => m.name === 'JSHeapUsedSize')!.value / 1024 / 1024;
  const domNodes = metrics.find((m) => m.name === 'Nodes')!.value;
  const lines = await page.getByTestId('log-count').textContent();
  console.log(`streamed and shown: ${lines} in ${(streamed / 1000).toFixed(1)} s`);
  console.log(
    `longest main-thread task: ${tasks.length ? Math.max(...tasks).toFixed(0) : '< 50'} ms (${tasks.length} tasks over 50 ms) (target: none over 100 ms)`,
  );
  console.log(`JS heap used after GC: ${heap.toFixed(0)} MB; DOM nodes: ${domNodes} (target < 300 MB)`);

  // Scrolling through the whole log stays a matter of a few rendered rows.
  await page.evaluate('window.__longTasks.length = 0');
  await page.getByTestId('log-follow').uncheck();
  const scroller = page.locator('.log-lines');
  for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
    await scroller.evaluate((el, f) => (el.scrollTop = (el.scrollHeight - el.clientHeight) * f), fraction);
    await page.waitForTimeout(50);
  }
  const scrollTasks = (await page.evaluate('window.__longTasks')) as number[];
  console.log(
    `scrolling across the log: longest task ${scrollTasks.length ? Math.max(...scrollTasks).toFixed(0) : '< 50'} ms`,
  );
} finally {
  await context.close();
  await stopServe(child);
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(profile, { recursive: true, force: true });
}

// Playwright's connection can keep the event loop alive: end here (the hosts stop on exit).
process.exit(0);
