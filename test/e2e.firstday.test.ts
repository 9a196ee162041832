/**
 * Issue 11 part 8 end to end in real Chromium (browser mode, real sshd hosts): what the first day in the app
 * ran into — dialogs that keep the focus and ask before throwing edits away, the log's copy, download, wrap
 * and times, why a log or a server is empty or offline, Cancelling… that ends with the run, the execution
 * detail's id and input, a removed job's history, a jump server in use, malformed JSON refused.
 * Screenshots go to test-artifacts/e2e-firstday/.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';

import { CroniumService } from '../src/service/service.ts';
import { openBrowser, startServe, stopServe } from './support/browser.ts';
import { ownHosts, tempDir } from './support/fixtures.ts';

const ARTIFACTS = 'test-artifacts/e2e-firstday';

const h = ownHosts('e2efd');
afterAll(async () => h.removeUser());

// A line longer than any row, an input echoed back, a variable set: what the log and detail tests read.
const REPORT = `echo "input: $(cronium.input)"
cronium.setVariable greeting hello
printf 'w%.0s' $(seq 1 400); echo
echo "report done"
`;

describe('the first day in the app (Chromium, real hosts)', () => {
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
  // Browser-side code goes as text: this file is type-checked for Node, not the DOM.
  /** Is the focus inside the open dialog (the innermost one)? */
  const focusInDialog = () =>
    page.evaluate(
      "(() => { const d = document.querySelectorAll('[role=dialog]'); return d.length > 0 && d[d.length - 1].contains(document.activeElement); })()",
    ) as Promise<boolean>;
  const clipboard = () => page.evaluate('navigator.clipboard.readText()') as Promise<string>;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const seed = await CroniumService.open({
      dataDir: data.path,
      unknownHostKeys: 'accept-new',
      runtimePort: 0,
    });
    const h1 = await seed.createServer({
      name: 'h1',
      host: h.hosts.h1.address,
      username: h.user,
      auth: { type: 'key', keyPath: h.keyPath },
    });
    await seed.testServer('h1');
    // Hops through h1, so h1 is a jump server in use.
    await seed.createServer({
      name: 'via',
      host: h.hosts.h3.address,
      username: h.user,
      auth: { type: 'key', keyPath: h.keyPath },
      jumpServerId: h1.id,
    });
    // Nothing listens on port 1: never connects.
    await seed.createServer({
      name: 'down',
      host: '127.0.0.1',
      port: 1,
      username: h.user,
      auth: { type: 'key', keyPath: h.keyPath },
    });
    // A real host whose key is not known yet, with a user it will refuse.
    await seed.createServer({
      name: 'badlogin',
      host: h.hosts.h2.address,
      username: 'nobody-of-cronium',
      auth: { type: 'key', keyPath: h.keyPath },
    });
    await seed.createJob({ name: 'report', language: 'bash', script: REPORT, defaultServerIds: [h1.id] });
    await seed.createJob({
      name: 'slow',
      language: 'bash',
      script: 'echo started; sleep 60\n',
      defaultServerIds: [h1.id],
    });
    await seed.close();
    const started = await startServe(data.path);
    serve = started.child;
    context = await openBrowser(profile.path);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: new URL(started.url).origin,
    });
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

  it('says up front that a jump server is in use, and offers no removal that would fail', async () => {
    const row = page.getByTestId('server-row-h1');
    expect(await row.getByTestId('server-in-use').textContent()).toBe('jump server for via');
    expect(await row.getByTestId('delete-server').isDisabled()).toBe(true);
    expect(await row.getByTestId('delete-server').getAttribute('title')).toMatch(/Jump server for via/);
    expect(await page.getByTestId('server-row-via').getByTestId('delete-server').isDisabled()).toBe(false);
  });

  it('shows why a server is offline in its row, not only in a tooltip', async () => {
    const row = page.getByTestId('server-row-down');
    await row.getByTestId('test-server').click();
    await expect.poll(() => row.getByTestId('server-status').textContent()).toBe('offline');
    expect(await row.getByTestId('server-offline-reason').textContent()).toMatch(/refused the connection/);
    expect(await row.getByTestId('server-offline-reason').isVisible()).toBe(true);
  });

  it('closes the trust dialog when the login then fails, and shows the failure', async () => {
    const row = page.getByTestId('server-row-badlogin');
    await row.getByTestId('test-server').click();
    await page.getByTestId('host-key-prompt').waitFor();
    expect(await focusInDialog()).toBe(true);
    await page.getByTestId('trust-key').click();
    await page.getByTestId('host-key-prompt').waitFor({ state: 'detached' });
    const refused = /^Authentication as nobody-of-cronium on badlogin .* failed/;
    expect(await page.getByTestId('toast').textContent()).toMatch(/^badlogin: Authentication .* failed/);
    expect(await row.getByTestId('server-status').textContent()).toBe('offline');
    expect(await row.getByTestId('server-offline-reason').textContent()).toMatch(refused);
    await shot('servers');
  });

  it('asks before Escape throws away unsaved edits in the job editor', async () => {
    await page.getByTestId('nav-jobs').click();
    await page.getByTestId('add-job').click();
    await page.getByTestId('job-name').fill('half-written');
    await page.keyboard.press('Escape');
    await page.getByTestId('confirm-dialog').waitFor();
    expect(await focusInDialog()).toBe(true);
    await shot('discard-question');
    await page.getByTestId('confirm-cancel').click();
    expect(await page.getByTestId('job-name').inputValue()).toBe('half-written');
    await page.keyboard.press('Escape');
    await page.getByTestId('confirm-ok').click();
    await page.getByTestId('job-form').waitFor({ state: 'detached' });
    expect(count("SELECT count(*) AS n FROM jobs WHERE name = 'half-written'")).toBe(0);
  });

  it('moves the focus into the run dialog: Ctrl+Enter starts at once; Tab stays inside', async () => {
    const runButton = page.getByTestId('job-row-report').getByTestId('run-job');
    await runButton.click();
    await page.getByTestId('run-dialog').waitFor();
    expect(await focusInDialog()).toBe(true);
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press(i % 3 === 2 ? 'Shift+Tab' : 'Tab');
      expect(await focusInDialog()).toBe(true);
    }
    await page.keyboard.press('Escape');
    await page.getByTestId('run-dialog').waitFor({ state: 'detached' });
    // The focus went back to the button that opened the dialog.
    expect(
      await page.evaluate(
        "document.activeElement.dataset.testid === 'run-job' && !!document.activeElement.closest('[data-testid=job-row-report]')",
      ),
    ).toBe(true);

    await runButton.click();
    await page.getByTestId('run-dialog').waitFor();
    await page.keyboard.press('Control+Enter');
    await page.getByTestId('live-view').waitFor();
    await expect
      .poll(() => page.getByTestId('status-card-h1').getByTestId('status-badge').textContent(), {
        timeout: 20_000,
      })
      .toBe('succeeded');
    await page.getByTestId('log-view').getByText('report done').waitFor();
  });

  it('copies, downloads, wraps and timestamps the log', async () => {
    const log = page.getByTestId('log-view');
    const lines = await page.locator('.log-line .text').allTextContents();
    await log.getByTestId('log-copy-all').click();
    const copied = await clipboard();
    expect(copied).toBe(lines.join('\n') + '\n');
    expect(copied).toContain('w'.repeat(400));

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      log.getByTestId('log-download').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^report-h1-[0-9a-f]{8}\.log$/);
    expect(readFileSync((await download.path())!, 'utf8')).toBe(copied);

    await log.getByTestId('log-timestamps').check();
    const times = await log.getByTestId('log-time').allTextContents();
    expect(times).toHaveLength(lines.length);
    for (const t of times) expect(t).toMatch(/^\d\d:\d\d:\d\d\.\d{3}$/);
    await log.getByTestId('log-copy-visible').click();
    await expect.poll(() => clipboard()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} input: /);

    const long = page.locator('.log-line', { hasText: 'wwww' });
    expect((await long.boundingBox())!.height).toBe(18);
    await log.getByTestId('log-wrap').check();
    const wrapped = (await long.boundingBox())!;
    expect(wrapped.height).toBeGreaterThan(18);
    // The whole text is inside its row: nothing cut off, nothing spilling onto the next line.
    const fits = await page.evaluate(
      "(() => { const el = [...document.querySelectorAll('.log-line')].find((l) => l.textContent.includes('wwww')); const t = el.querySelector('.text'); return t.scrollHeight <= el.clientHeight + 1 && t.scrollWidth <= t.clientWidth + 1; })()",
    );
    expect(fits).toBe(true);
    const next = page.locator('.log-line', { hasText: 'report done' });
    expect((await next.boundingBox())!.y).toBeGreaterThanOrEqual(wrapped.y + wrapped.height - 1);
    await shot('log-wrapped-times');
    await log.getByTestId('log-wrap').uncheck();
    await log.getByTestId('log-timestamps').uncheck();
  });

  it('says why a host never produced output instead of "No output yet."', async () => {
    await page.getByTestId('nav-jobs').click();
    await page.getByTestId('job-row-report').getByTestId('run-job').click();
    await page.getByTestId('run-server-h1').uncheck();
    await page.getByTestId('run-server-down').check();
    await page.getByTestId('run-start').click();
    const card = page.getByTestId('status-card-down');
    await expect
      .poll(() => card.getByTestId('status-badge').textContent(), { timeout: 20_000 })
      .toBe('error');
    const empty = page.getByTestId('log-empty');
    await expect.poll(() => empty.textContent()).toMatch(/^No output: the script never ran on down\. .+/);
    expect(await empty.textContent()).not.toContain('No output yet');
  });

  it('shows Cancelling… only until the run has ended', async () => {
    await page.getByTestId('nav-jobs').click();
    await page.getByTestId('job-row-slow').getByTestId('run-job').click();
    await page.getByTestId('run-start').click();
    await page.getByTestId('log-view').getByText('started').waitFor({ timeout: 20_000 });
    await page.getByTestId('cancel-run').click();
    await page.getByTestId('cancelling').waitFor();
    await expect
      .poll(() => page.getByTestId('live-view').locator('h1').getByTestId('status-badge').textContent(), {
        timeout: 20_000,
      })
      .toBe('cancelled');
    expect(await page.getByTestId('cancelling').count()).toBe(0);
    expect(await page.getByTestId('cancel-run').count()).toBe(0);
  });

  it('shows the execution’s id (copyable), input and variable changes; no debug timing in History', async () => {
    await page.getByTestId('nav-history').click();
    const row = page.getByTestId('history-row').filter({ hasText: 'report' }).filter({ hasText: 'h1' });
    await row.first().waitFor();
    expect(await page.getByTestId('history-view').textContent()).not.toMatch(/first page in/);
    await row.first().click();
    const detail = page.getByTestId('execution-detail');
    await detail.waitFor();
    const id = (await detail.getByTestId('execution-id').textContent())!;
    expect(count(`SELECT count(*) AS n FROM executions WHERE id = '${id}' AND job_name = 'report'`)).toBe(1);
    await detail.getByTestId('copy-id').click();
    await expect.poll(() => clipboard()).toBe(id);
    expect(await detail.getByTestId('execution-input').textContent()).toBe('—');
    expect(await detail.getByTestId('variable-changes').textContent()).toBe('set greeting = "hello"');
    await shot('history-detail');
    await page.keyboard.press('Escape');
  });

  it('says a removed job was removed when its history is opened, instead of a uuid lookup error', async () => {
    await page.getByTestId('nav-jobs').click();
    await page.getByTestId('job-row-report').getByRole('button', { name: 'Delete' }).click();
    expect(await page.getByTestId('confirm-message').textContent()).toMatch(/Remove the job report\?/);
    await page.getByTestId('confirm-ok').click();
    await page.getByTestId('job-row-report').waitFor({ state: 'detached' });
    await page.getByTestId('nav-history').click();
    await page.getByTestId('history-row').filter({ hasText: 'report' }).first().click();
    const detail = page.getByTestId('execution-detail');
    expect(await detail.getByTestId('job-removed').textContent()).toBe(
      'The job "report" was removed; its history is kept, but it cannot run again.',
    );
    expect(await detail.getByTestId('rerun').isDisabled()).toBe(true);
    expect(await detail.textContent()).not.toMatch(/No job named/);
    await page.keyboard.press('Escape');
  });

  it('refuses malformed JSON for a variable with a field error, and saves nothing', async () => {
    await page.getByTestId('nav-variables').click();
    await page.getByRole('button', { name: '+ New variable' }).click();
    await page.getByTestId('variable-key').fill('settings');
    await page.getByTestId('variable-value').fill('{"retries": 3,}');
    await page.getByTestId('variable-save').click();
    expect(await page.getByTestId('field-error').textContent()).toMatch(/^Input must be valid JSON/);
    expect(count("SELECT count(*) AS n FROM variables WHERE key = 'settings'")).toBe(0);
    await page.getByTestId('variable-value').fill('{"retries": 3}');
    await page.getByTestId('variable-save').click();
    await page.getByTestId('variables-table').getByText('{"retries":3}').waitFor();
    expect(pageErrors).toEqual([]);
  });
});
