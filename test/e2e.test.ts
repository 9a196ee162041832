/**
 * End to end in real Chromium: `cronium serve` as a real process, against real sshd hosts, clicking
 * through the real renderer. Screenshots of the main screens go to test-artifacts/e2e/.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';

import { CroniumService } from '../src/service/service.ts';
import { openBrowser, startServe, stopServe } from './support/browser.ts';
import { ownHosts, tempDir } from './support/fixtures.ts';

const ARTIFACTS = 'test-artifacts/e2e';

// A test user of this file's own: its home (~/.cronium) and processes are nobody else's.
const h = ownHosts('e2e');
afterAll(async () => h.removeUser());

describe('the app in Chromium (browser mode, real hosts)', () => {
  const data = tempDir();
  const profile = tempDir('cronium-chromium-');
  let serve: ChildProcess;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  const rows = (table: string) => {
    const db = new DatabaseSync(join(data.path, 'cronium.db'));
    const n = (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    db.close();
    return n;
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // h2 and noforward are saved (and their keys known) beforehand; h1 is added through the UI.
    const seed = await CroniumService.open({
      dataDir: data.path,
      unknownHostKeys: 'accept-new',
      runtimePort: 0,
    });
    for (const name of ['h2', 'noforward'] as const) {
      await seed.createServer({
        name,
        host: h.hosts[name].address,
        username: h.user,
        auth: { type: 'key', keyPath: h.keyPath },
      });
      await seed.testServer(name);
    }
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

  it('shows field errors for bad server input and saves nothing', async () => {
    const before = rows('servers');
    await page.getByTestId('add-server').click();
    await page.getByTestId('server-name').fill('bad name!');
    await page.getByTestId('server-port').fill('99999');
    await page.getByTestId('server-save').click();
    const errors = page.getByTestId('field-error');
    await errors.first().waitFor();
    const texts = await errors.allTextContents();
    expect(texts).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/letters, digits/),
        'host is required',
        'port must be 1–65535',
        'user is required',
      ]),
    );
    await shot('server-form-errors');
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect(rows('servers')).toBe(before);
  });

  it('adds a server, asks before trusting its host key, and shows it online', async () => {
    await page.getByTestId('add-server').click();
    await page.getByTestId('server-name').fill('h1');
    await page.getByTestId('server-host').fill(h.hosts.h1.address);
    await page.getByTestId('server-user').fill(h.user);
    await page.getByTestId('server-key').fill(h.keyPath);
    await page.getByTestId('server-save').click();
    const row = page.getByTestId('server-row-h1');
    await row.waitFor();
    await row.getByTestId('test-server').click();
    await expect(page.getByTestId('fingerprint').textContent()).resolves.toBe(h.hosts.h1.hostKeyFingerprint);
    await shot('host-key-prompt');
    await page.getByTestId('trust-key').click();
    await expect.poll(() => row.getByTestId('server-status').textContent()).toBe('online');
    await shot('servers');
  });

  it('refuses a changed host key plainly, showing both fingerprints', async () => {
    const fake = 'SHA256:' + Buffer.alloc(32, 9).toString('base64').replace(/=+$/, '');
    const db = new DatabaseSync(join(data.path, 'cronium.db'));
    db.prepare('UPDATE known_hosts SET fingerprint = ? WHERE host = ?').run(fake, h.hosts.h2.address);
    db.close();
    await page.getByTestId('server-row-h2').getByTestId('test-server').click();
    const box = page.getByTestId('host-key-changed');
    await box.waitFor();
    const text = await box.textContent();
    expect(text).toContain(fake);
    expect(text).toContain(h.hosts.h2.hostKeyFingerprint);
    expect(await page.getByTestId('trust-key').isDisabled()).toBe(true);
    await shot('host-key-changed');
    await page.getByRole('button', { name: 'Cancel' }).click();
  });

  it('creates a job in the editor (and refuses a bad one)', async () => {
    await page.getByTestId('nav-jobs').click();
    await page.getByTestId('add-job').click();
    await page.getByTestId('job-timeout').fill('-5');
    await page.getByTestId('job-save').click();
    await page.getByTestId('field-error').first().waitFor();
    expect(await page.getByTestId('field-error').allTextContents()).toEqual(
      expect.arrayContaining(['name is required', 'timeout must be at least 1 second']),
    );
    expect(rows('jobs')).toBe(0);

    await page.getByTestId('job-name').fill('count');
    await page.getByTestId('job-timeout').fill('60');
    await page.locator('.cm-content').click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(
      'for i in 1 2 3 4 5; do echo "line $i"; sleep 0.5; done\nprintf "\\033[31mred\\033[0m done\\n"\necho oops >&2\ncronium.output \'{"n": 5}\'\n',
    );
    await shot('job-editor');
    await page.getByTestId('job-save').click();
    await page.getByTestId('job-row-count').waitFor();
    expect(rows('jobs')).toBe(1);
  });

  it('runs it and shows the log arriving live, then the result', async () => {
    await page.getByTestId('job-row-count').getByTestId('run-job').click();
    await page.getByTestId('run-server-h1').check();
    await page.getByTestId('run-start').click();
    await page.getByTestId('live-view').waitFor();
    const log = page.getByTestId('log-view');
    await log.getByText('line 1').waitFor();
    // Seen while the script still runs: the last line is not there yet.
    expect(await log.getByText('line 5').count()).toBe(0);
    await expect
      .poll(() => page.getByTestId('status-card-h1').getByTestId('status-badge').textContent(), {
        timeout: 15_000,
      })
      .toBe('succeeded');
    await log.getByText('line 5').waitFor();
    expect(await page.locator('.log-line.err').allTextContents()).toEqual([expect.stringContaining('oops')]);
    // ANSI colour codes become colour, not escape characters.
    const red = page.locator('.log-line', { hasText: 'red done' });
    expect(await red.textContent()).not.toContain('[31m');
    await shot('live');
  });

  it('finds the run in history with its output and phases', async () => {
    await page.getByTestId('nav-history').click();
    const row = page.getByTestId('history-row').first();
    await row.waitFor();
    expect(await row.textContent()).toContain('count');
    await row.click();
    const detail = page.getByTestId('execution-detail');
    await detail.waitFor();
    expect(await detail.getByTestId('status-badge').first().textContent()).toBe('succeeded');
    expect(JSON.parse((await detail.getByTestId('output').textContent())!)).toEqual({ n: 5 });
    expect(await detail.getByTestId('phases').textContent()).toMatch(
      /connect \d+ ms · deploy \d+ ms · script \d+ ms/,
    );
    await detail.getByText('line 3').waitFor();
    await shot('history-detail');
    await page.keyboard.press('Escape');
  });

  it('flags a host that refuses forwarding: fallback badge and reason, live and in history', async () => {
    await page.getByTestId('nav-jobs').click();
    await page.getByTestId('job-row-count').getByTestId('run-job').click();
    await page.getByTestId('run-server-noforward').check();
    await page.getByTestId('run-start').click();
    const card = page.getByTestId('status-card-noforward');
    await card.getByTestId('fallback-badge').waitFor();
    expect(await page.getByTestId('fallback-reason').textContent()).toMatch(
      /Helpers fell back to bundled mode: the server refused remote port forwarding/,
    );
    await expect
      .poll(() => card.getByTestId('status-badge').textContent(), { timeout: 15_000 })
      .toBe('succeeded');
    await shot('live-fallback');
    await page.getByTestId('nav-history').click();
    const flagged = page.getByTestId('history-row').filter({ has: page.getByTestId('fallback-badge') });
    await flagged.first().waitFor();
    await flagged.first().click();
    await page.getByTestId('execution-detail').getByTestId('fallback-reason').waitFor();
    await shot('history-fallback');
    await page.keyboard.press('Escape');
    expect(pageErrors).toEqual([]);
  });
});
