/**
 * Issue 13's last mile in real Chromium: browser mode (`cronium serve`) on the team's PostgreSQL store
 * shows a run that the CLI of another "machine" (its own data directory) sent `--via workers` — in history
 * while it runs, its log lines in the live view before it ends — and Cancel in the page stops it on the
 * worker, whose remote process goes away. `cronium worker` is a process with a data directory of its own.
 * Screenshots go to test-artifacts/e2e-team/.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CroniumService } from '../src/service/service.ts';
import { PostgresDatabase } from '../src/store/postgresEngine.ts';
import { openBrowser, startServe, stopServe } from './support/browser.ts';
import { ownHosts, tempDir } from './support/fixtures.ts';
import { startWorker } from './support/processes.ts';
import { startPostgres, type TestPostgres } from './support/postgres.ts';
import { onHost } from './support/sshHosts.ts';

const ARTIFACTS = 'test-artifacts/e2e-team';

const h = ownHosts('e2eteam');
afterAll(() => h.removeUser());

describe('a worker run in the app (Chromium, PostgreSQL, real hosts)', () => {
  const appDir = tempDir('cronium-team-app-');
  const cliDir = tempDir('cronium-team-cli-');
  const workerDir = tempDir('cronium-team-worker-');
  const profile = tempDir('cronium-chromium-');
  let pg: TestPostgres;
  let store: PostgresDatabase;
  let env: NodeJS.ProcessEnv;
  let serve: ChildProcess;
  let worker: ChildProcess;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  const lines = () => page.locator('[data-testid=log-view] .log-line .text').allTextContents();
  const badge = (server: string) =>
    page.getByTestId(`status-card-${server}`).getByTestId('status-badge').textContent();
  /** 'alive' while the script's shell runs on the host (it writes its pid first), else ''. */
  const remote = () =>
    onHost(h, 'kill -0 "$(cat ~/teamtick.pid 2>/dev/null)" 2>/dev/null && echo alive || true').trim();

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    pg = await startPostgres();
    const url = pg.createDatabase('team_e2e');
    env = {
      CRONIUM_DATABASE_URL: url,
      CRONIUM_TEAM_KEY: randomBytes(32).toString('base64'),
      CRONIUM_TEAM_KEY_FILE: undefined,
      CRONIUM_SECRET_STORE: 'key-file',
      CRONIUM_RUNTIME_PORT: '0',
    };
    store = new PostgresDatabase(url);
    const seed = await CroniumService.open({
      dataDir: appDir.path,
      unknownHostKeys: 'accept-new',
      runtimePort: 0,
      databaseUrl: url,
      env: { ...process.env, ...env },
      keychain: null,
    });
    await seed.createServer({
      name: 'h1',
      host: h.hosts.h1.address,
      username: h.user,
      auth: { type: 'key', keyPath: h.keyPath },
    });
    expect((await seed.testServer('h1')).error).toBeNull();
    await seed.createJob({
      name: 'teamtick',
      language: 'bash',
      script: 'echo $$ > ~/teamtick.pid\nfor i in $(seq 1 900); do echo "tick $i"; sleep 0.1; done\n',
    });
    await seed.close();

    worker = (await startWorker('rack1', { ...process.env, ...env, CRONIUM_DATA_DIR: workerDir.path })).child;

    const started = await startServe(appDir.path, env);
    serve = started.child;
    context = await openBrowser(profile.path);
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(started.url);
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await stopServe(serve);
    if (worker && worker.exitCode === null) {
      const exited = new Promise((r) => worker.once('exit', r));
      worker.kill('SIGTERM');
      await exited;
    }
    onHost(h, 'kill "$(cat ~/teamtick.pid 2>/dev/null)" 2>/dev/null || true');
    await store?.close();
    pg?.stop();
    for (const d of [appDir, cliDir, workerDir, profile]) d.remove();
  }, 60_000);

  it('shows the run in history and its log live while it runs, and Cancel ends it on the worker', async () => {
    // Another machine's CLI: its own data directory, the same URL and team key.
    const cli = spawn(
      process.execPath,
      ['src/cli/main.ts', 'run', 'teamtick', '--on', 'h1', '--via', 'workers'],
      {
        env: { ...process.env, ...env, CRONIUM_DATA_DIR: cliDir.path },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    cli.stdout.on('data', (d) => (stdout += d));
    cli.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => cli.on('close', resolve));
    try {
      // History lists it while it runs, as running.
      await page.getByTestId('nav-history').click();
      const row = page.getByTestId('history-row').filter({ hasText: 'teamtick' });
      await expect.poll(() => row.count(), { timeout: 30_000 }).toBe(1);
      await expect
        .poll(() => row.getByTestId('status-badge').textContent(), { timeout: 30_000 })
        .toBe('running');
      await shot('history-running');
      const taken = await store.all<{ worker: string }>(
        `SELECT worker FROM executions WHERE job_name = 'teamtick'`,
      );
      expect(taken).toEqual([{ worker: 'rack1' }]);

      // The live view streams its log before it ends: later ticks keep arriving.
      await page.getByTestId('nav-live').click();
      await expect
        .poll(() => page.getByTestId('live-view').locator('h1').textContent(), { timeout: 30_000 })
        .toMatch(/^teamtick/);
      expect(await badge('h1')).toBe('running');
      await expect
        .poll(async () => (await lines()).filter((l) => /^tick \d+$/.test(l)).length, { timeout: 20_000 })
        .toBeGreaterThan(5);
      const seen = (await lines()).length;
      await expect.poll(async () => (await lines()).length, { timeout: 20_000 }).toBeGreaterThan(seen);
      // In order, with nothing missing: tick 1, 2, 3, … as the host printed them.
      const ticks = (await lines()).filter((l) => /^tick \d+$/.test(l)).map((l) => Number(l.slice(5)));
      expect(ticks).toEqual(ticks.map((_, i) => i + 1));
      expect(
        (await store.all(`SELECT 1 FROM runs WHERE job_name = 'teamtick' AND status = 'running'`)).length,
      ).toBe(1);
      await shot('live-worker-run');
      expect(remote()).toBe('alive');

      await page.getByTestId('cancel-run').click();
      await expect.poll(() => badge('h1'), { timeout: 20_000 }).toBe('cancelled');
      await expect.poll(remote, { timeout: 15_000 }).toBe('');
      await shot('cancelled');
      expect(await exited).toBe(130);
      expect(stdout).toMatch(/^tick 1\n/);
      expect(stderr).toMatch(/cancelled/);
      const [e] = await store.all<{ status: string; worker: string }>(
        `SELECT status, worker FROM executions WHERE job_name = 'teamtick'`,
      );
      expect(e).toEqual({ status: 'cancelled', worker: 'rack1' });
      // The detail names the worker that ran it.
      await page.getByTestId('nav-history').click();
      await row.click();
      await expect.poll(() => page.getByTestId('execution-worker').textContent()).toBe('rack1');
    } finally {
      cli.kill('SIGTERM');
    }
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
