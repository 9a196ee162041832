/**
 * Issue 11 parts 3–6 end to end in real Chromium (browser mode, real sshd hosts): the run dialog's
 * parameter form and its validation, output groups (3 identical hosts + 1 different, a diff against a
 * chosen baseline) and the merged log with its host and stream filters, re-running only the host that
 * failed, and a run started from the CLI appearing live in the page, where one host and then the whole
 * run are cancelled. Screenshots go to test-artifacts/e2e-runs/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';

import { CroniumService } from '../src/service/service.ts';
import { openBrowser, startServe, stopServe } from './support/browser.ts';
import { ownHosts, tempDir } from './support/fixtures.ts';

const ARTIFACTS = 'test-artifacts/e2e-runs';

const h = ownHosts('e2eruns');
afterAll(async () => h.removeUser());

describe('parameters, re-runs, many hosts and runs from the CLI (Chromium, real hosts)', () => {
  const data = tempDir();
  const profile = tempDir('cronium-chromium-');
  let serve: ChildProcess;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  const count = (sql: string) => {
    const db = new DatabaseSync(join(data.path, 'cronium.db'));
    const n = (db.prepare(sql).get() as { n: number }).n;
    db.close();
    return n;
  };
  const lines = () => page.locator('[data-testid=log-view] .log-line .text').allTextContents();
  const openRunDialog = async (job: string) => {
    await page.getByTestId('nav-jobs').click();
    await page.getByTestId(`job-row-${job}`).getByTestId('run-job').click();
    await page.getByTestId('run-dialog').waitFor();
  };
  const badge = (server: string) =>
    page.getByTestId(`status-card-${server}`).getByTestId('status-badge').textContent();

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const seed = await CroniumService.open({
      dataDir: data.path,
      unknownHostKeys: 'accept-new',
      runtimePort: 0,
    });
    const add = async (name: string, host: string) =>
      (await seed.createServer({ name, host, username: h.user, auth: { type: 'key', keyPath: h.keyPath } }))
        .id;
    const h1 = await add('h1', h.hosts.h1.address);
    const h2 = await add('h2', h.hosts.h2.address);
    // No python3 on h3: a Python job fails there.
    const h3 = await add('h3', h.hosts.h3.address);
    // a1..a3 reach h1, b reaches h2: a script printing the address it was reached at differs on b only.
    const fleet: string[] = [];
    for (const name of ['a1', 'a2', 'a3']) fleet.push(await add(name, h.hosts.h1.address));
    fleet.push(await add('b', h.hosts.h2.address));
    // Trusted now (browser mode asks about unknown keys); a1..a3 and b share h1's and h2's keys.
    for (const name of ['h1', 'h2', 'h3']) expect((await seed.testServer(name)).error).toBeNull();
    await seed.createJob({
      name: 'deploy',
      language: 'bash',
      script: 'echo "input: $(cronium.input)"\n',
      defaultServerIds: [h1],
      params: [
        { name: 'region', type: 'choice', choices: ['eu', 'us'], description: 'where to deploy' },
        { name: 'count', type: 'number', default: 2 },
      ],
    });
    await seed.createJob({
      name: 'addr',
      language: 'bash',
      script: 'echo "$SSH_CONNECTION" | cut -d" " -f3\necho same on every host\necho "to stderr" >&2\n',
      defaultServerIds: fleet,
    });
    await seed.createJob({
      name: 'py',
      language: 'python',
      script: 'print("ok")\n',
      defaultServerIds: [h1, h2, h3],
    });
    await seed.createJob({
      name: 'ticker',
      language: 'bash',
      script: 'for i in $(seq 1 600); do echo "tick $i"; sleep 0.1; done\n',
      defaultServerIds: [h1, h2],
    });
    await seed.close();
    const started = await startServe(data.path);
    serve = started.child;
    context = await openBrowser(profile.path);
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(started.url);
    await page.getByTestId('servers-table').waitFor();
  });
  afterAll(async () => {
    await context?.close();
    await stopServe(serve);
    data.remove();
    profile.remove();
  });

  beforeEach((ctx) => {
    onTestFailed(async () => void (await shot(`failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`)));
  });

  it('renders the parameters as a form, checks them as they are typed, and starts nothing invalid', async () => {
    await openRunDialog('deploy');
    const dialog = page.getByTestId('run-dialog');
    expect(await page.getByTestId('run-param-count').inputValue()).toBe('2');
    await page.getByTestId('run-param-count').fill('abc');
    await expect
      .poll(() => dialog.getByTestId('field-error').allTextContents())
      .toEqual(['count is a number; got "abc"']);
    await page.getByTestId('run-start').click();
    await expect
      .poll(() => dialog.getByTestId('field-error').allTextContents())
      .toEqual(['region is required', 'count is a number; got "abc"']);
    await shot('param-form-errors');
    expect(count('SELECT count(*) AS n FROM runs')).toBe(0);

    await page.getByTestId('run-param-region').selectOption('us');
    await page.getByTestId('run-param-count').fill('3');
    expect(await dialog.getByTestId('field-error').count()).toBe(0);
    await page.getByTestId('run-start').click();
    await page.getByTestId('live-view').waitFor();
    await expect.poll(() => badge('h1'), { timeout: 20_000 }).toBe('succeeded');
    const line = (await lines()).find((l) => l.startsWith('input: '))!;
    expect(JSON.parse(line.slice('input: '.length))).toEqual({ region: 'us', count: 3 });
  });

  it('groups 3 identical hosts, diffs the fourth against a chosen baseline, and merges the logs', async () => {
    await openRunDialog('addr');
    await page.keyboard.press('Control+Enter');
    await page.getByTestId('live-view').waitFor();
    for (const server of ['a1', 'a2', 'a3', 'b'])
      await expect.poll(() => badge(server), { timeout: 30_000 }).toBe('succeeded');
    const groups = page.getByTestId('output-groups');
    await expect
      .poll(() => groups.getByTestId('output-group').allTextContents())
      .toEqual(['3 hosts: identical a1, a2, a3 (baseline)', '1 host b']);
    await groups.getByTestId('diff-b').locator('summary').click();
    const diff = await groups
      .getByTestId('diff-b')
      .getByTestId('diff-lines')
      .locator('div')
      .allTextContents();
    expect(diff).toEqual([`- ${h.hosts.h1.address}`, `+ ${h.hosts.h2.address}`, '  same on every host']);
    // b as the baseline: each of a1..a3 is now the one that differs.
    await groups.getByTestId('groups-baseline').selectOption({ label: 'b' });
    await expect.poll(() => groups.locator('details').count()).toBe(3);
    expect(await groups.getByTestId('diff-a2').locator('summary').textContent()).toBe('a2 against b');
    await shot('output-groups');

    // The merged log: every host's lines, prefixed; filtered by host and by stream.
    await page.getByTestId('log-merged').click();
    await expect
      .poll(async () => (await lines()).filter((l) => l.endsWith('same on every host')).length)
      .toBe(4);
    expect(await lines()).toContain(`[b] ${h.hosts.h2.address}`);
    expect(await lines()).toContain('[a3] to stderr');
    await page.getByTestId('merged-host-a1').uncheck();
    await expect.poll(async () => (await lines()).some((l) => l.startsWith('[a1]'))).toBe(false);
    expect((await lines()).filter((l) => l.endsWith('same on every host'))).toHaveLength(3);
    await page.getByTestId('merged-stream-stdout').uncheck();
    await expect
      // In the order the lines began (hosts run side by side): compared as a set.
      .poll(async () => (await lines()).filter((l) => !l.includes('cronium')).sort())
      .toEqual(['[a2] to stderr', '[a3] to stderr', '[b] to stderr']);
    await shot('merged-log');
  });

  it('re-runs only the host that did not succeed, as attempt 2 of that run', async () => {
    await openRunDialog('py');
    await page.keyboard.press('Control+Enter');
    await page.getByTestId('live-view').waitFor();
    await expect.poll(() => badge('h3'), { timeout: 30_000 }).toBe('error');
    await expect.poll(() => badge('h2'), { timeout: 30_000 }).toBe('succeeded');
    const first = count("SELECT count(*) AS n FROM runs WHERE job_name = 'py'");
    await page.getByTestId('rerun-failed').click();
    await expect.poll(() => page.getByTestId('retry-of').isVisible()).toBe(true);
    expect(await page.getByTestId('retry-of').textContent()).toMatch(/^attempt 2 · repeats run [0-9a-f]{8}$/);
    expect(await page.getByTestId('status-grid').locator('[data-testid^=status-card-]').count()).toBe(1);
    await expect.poll(() => badge('h3'), { timeout: 30_000 }).toBe('error');
    expect(
      count("SELECT count(*) AS n FROM runs WHERE job_name = 'py' AND trigger = 'retry' AND attempt = 2"),
    ).toBe(1);
    expect(count("SELECT count(*) AS n FROM runs WHERE job_name = 'py'")).toBe(first + 1);
    await shot('rerun-failed');
  });

  it('shows a run started from the CLI live, and cancels one of its hosts, then the run', async () => {
    await page.getByTestId('nav-live').click();
    const cli = spawn(process.execPath, ['src/cli/main.ts', 'run', 'ticker'], {
      env: { ...process.env, CRONIUM_DATA_DIR: data.path, CRONIUM_RUNTIME_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    cli.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => cli.on('close', resolve));
    try {
      await expect
        .poll(() => page.getByTestId('live-view').locator('h1').textContent(), { timeout: 30_000 })
        .toMatch(/^ticker/);
      await expect.poll(() => badge('h2'), { timeout: 30_000 }).toBe('running');
      // The log streams: later ticks keep arriving.
      await expect
        .poll(async () => (await lines()).filter((l) => /^tick \d+$/.test(l)).length, { timeout: 20_000 })
        .toBeGreaterThan(5);
      const seen = (await lines()).length;
      await expect.poll(async () => (await lines()).length, { timeout: 20_000 }).toBeGreaterThan(seen);
      await shot('cli-run-live');

      await page.getByTestId('cancel-host-h2').click();
      await expect.poll(() => badge('h2'), { timeout: 20_000 }).toBe('cancelled');
      expect(await badge('h1')).toBe('running');
      await page.getByTestId('cancel-run').click();
      await expect.poll(() => badge('h1'), { timeout: 20_000 }).toBe('cancelled');
      expect(await exited).toBe(1);
      expect(stderr).toMatch(/h2: cancelled/);
      expect(stderr).toMatch(/run cancelled/);
    } finally {
      cli.kill('SIGTERM');
    }
    expect(pageErrors).toEqual([]);
  });
});
