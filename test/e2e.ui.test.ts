/**
 * Issue 11 part 8 end to end in real Chromium (browser mode, real sshd hosts), the items added to the core:
 * a server's helper mode set in its form (a host without forwarding then runs without the fallback
 * warning), a stored passphrase removed from the form, and the values an execution set shown in its
 * detail (a secret one masked). Screenshots go to test-artifacts/e2e-ui/.
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

const ARTIFACTS = 'test-artifacts/e2e-ui';

const h = ownHosts('e2eui');
afterAll(async () => h.removeUser());

const VARS = `cronium.setVariable plain hi
cronium.setVariable token rotated-8471
echo vars done
`;

describe('server helper mode, passphrase removal, variable values (Chromium, real hosts)', () => {
  const data = tempDir();
  const profile = tempDir('cronium-chromium-');
  let serve: ChildProcess;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  const row = <T>(sql: string) => {
    const db = new DatabaseSync(join(data.path, 'cronium.db'));
    const r = db.prepare(sql).get() as T;
    db.close();
    return r;
  };
  /** Runs the job "vars" on its servers from the Jobs view; resolves once nf's card shows an end. */
  const runVars = async () => {
    await page.getByTestId('nav-jobs').click();
    await page.getByTestId('job-row-vars').getByTestId('run-job').click();
    await page.getByTestId('run-start').click();
    const card = page.getByTestId('status-card-nf');
    await expect
      .poll(() => card.getByTestId('status-badge').textContent(), { timeout: 20_000 })
      .toBe('succeeded');
    return card;
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const seed = await CroniumService.open({
      dataDir: data.path,
      unknownHostKeys: 'accept-new',
      runtimePort: 0,
    });
    const nf = await seed.createServer({
      name: 'nf',
      host: h.hosts.noforward.address,
      port: h.hosts.noforward.port,
      username: h.user,
      auth: { type: 'key', keyPath: h.keyPath },
    });
    // A passphrase stored for a key that has none (any more).
    await seed.createServer({
      name: 'pp',
      host: h.hosts.h1.address,
      username: h.user,
      auth: { type: 'key', keyPath: h.keyPath, passphrase: 'stale-passphrase' },
    });
    // Host keys trusted now (first use), as a person would after the trust dialog.
    await seed.testServer('nf');
    await seed.testServer('pp');
    await seed.setVariable({ key: 'token', value: 'first', secret: true });
    await seed.createJob({ name: 'vars', language: 'bash', script: VARS, defaultServerIds: [nf.id] });
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

  it('sets a server’s helper mode in its form: the host without forwarding stops warning', async () => {
    let card = await runVars();
    expect(await card.getByTestId('fallback-badge').count()).toBe(1);

    await page.getByTestId('nav-servers').click();
    await page.getByTestId('server-row-nf').getByRole('button', { name: 'Edit' }).click();
    const mode = page.getByTestId('server-helper-mode');
    expect(await mode.inputValue()).toBe('default');
    await mode.selectOption('bundled');
    await shot('server-helper-mode');
    await page.getByTestId('server-save').click();
    await page.getByTestId('server-form').waitFor({ state: 'detached' });
    expect(row<{ m: string }>("SELECT helper_mode AS m FROM servers WHERE name = 'nf'").m).toBe('bundled');

    card = await runVars();
    expect(await card.getByTestId('fallback-badge').count()).toBe(0);
    expect(await card.textContent()).toMatch(/bundled/);
    expect(await page.getByTestId('fallback-reason').count()).toBe(0);
    await page.getByTestId('log-view').getByText('vars done').waitFor();
    expect(await page.getByTestId('log-view').textContent()).not.toMatch(/fell back/);
  });

  it('removes a stored passphrase from the server form', async () => {
    await page.getByTestId('nav-servers').click();
    // Nothing stored, nothing to remove.
    await page.getByTestId('server-row-nf').getByRole('button', { name: 'Edit' }).click();
    expect(await page.getByTestId('server-clear-secret').count()).toBe(0);
    await page.keyboard.press('Escape');
    await page.getByTestId('server-form').waitFor({ state: 'detached' });

    await page.getByTestId('server-row-pp').getByRole('button', { name: 'Edit' }).click();
    await page.getByTestId('server-clear-secret').check();
    expect(await page.getByTestId('server-passphrase').isDisabled()).toBe(true);
    await shot('clear-passphrase');
    await page.getByTestId('server-save').click();
    await page.getByTestId('server-form').waitFor({ state: 'detached' });
    expect(row<{ s: string | null }>("SELECT secret AS s FROM servers WHERE name = 'pp'").s).toBeNull();
    await page.getByTestId('server-row-pp').getByRole('button', { name: 'Edit' }).click();
    expect(await page.getByTestId('server-clear-secret').count()).toBe(0);
    await page.keyboard.press('Escape');
    // The server still logs in.
    const pp = page.getByTestId('server-row-pp');
    await pp.getByTestId('test-server').click();
    await expect
      .poll(() => pp.getByTestId('server-status').textContent(), { timeout: 20_000 })
      .toBe('online');
  });

  it('shows the values an execution set in its detail, a secret one masked', async () => {
    await page.getByTestId('nav-history').click();
    await page.getByTestId('history-row').filter({ hasText: 'vars' }).first().click();
    const detail = page.getByTestId('execution-detail');
    await detail.waitFor();
    expect(await detail.getByTestId('variable-change').allTextContents()).toEqual([
      'set plain = "hi"',
      'set token = •••••• (secret)',
    ]);
    expect(await detail.textContent()).not.toContain('rotated-8471');
    await shot('variable-values');
    await page.keyboard.press('Escape');
    expect(pageErrors).toEqual([]);
  });
});
