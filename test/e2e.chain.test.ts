/**
 * Issue 12, parts 3 and 4 end to end in real Chromium: the chain and notice fields of the job editor,
 * a chained run on a real host, the chain shown in the history detail (each run linking its parent, the
 * parent its next runs), the webhook received by a local server, and browser mode's desktop notification.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server as HttpServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';

import { CroniumService } from '../src/service/service.ts';
import { openBrowser, startServe, stopServe } from './support/browser.ts';
import { ownHosts, tempDir } from './support/fixtures.ts';

const ARTIFACTS = 'test-artifacts/e2e';

const h = ownHosts('e2echain');
afterAll(async () => h.removeUser());

describe('chains and notices in the app (Chromium, browser mode, a real host)', () => {
  const data = tempDir();
  const profile = tempDir('cronium-chromium-');
  let serve: ChildProcess;
  let context: BrowserContext;
  let page: Page;
  let hook: HttpServer;
  let hookUrl = '';
  const hookBodies: { run: { id: string; status: string }; job: { name: string } }[] = [];
  const pageErrors: string[] = [];
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  /** The store as the app wrote it, read by a second process's service (they share the database). */
  async function stored<T>(read: (s: CroniumService) => T): Promise<T> {
    const s = await CroniumService.open({
      dataDir: data.path,
      unknownHostKeys: 'accept-new',
      runtimePort: 0,
    });
    try {
      return read(s);
    } finally {
      await s.close();
    }
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    hook = createServer((req, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString('utf8')));
      req.on('end', () => {
        hookBodies.push(JSON.parse(text) as (typeof hookBodies)[number]);
        res.end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook/secret-T0KEN`;

    const seed = await CroniumService.open({
      dataDir: data.path,
      unknownHostKeys: 'accept-new',
      runtimePort: 0,
    });
    await seed.createServer({
      name: 'h1',
      host: h.hosts.h1.address,
      port: h.hosts.h1.port,
      username: h.user,
      auth: { type: 'key', keyPath: h.keyPath },
    });
    await seed.testServer('h1');
    await seed.createJob({
      name: 'first',
      language: 'python',
      script: 'cronium.output({"word": "relayed"})\n',
      defaultServerIds: ['h1'],
    });
    await seed.createJob({
      name: 'second',
      language: 'bash',
      script: 'echo "second got $(cronium.input word)"\n',
    });
    await seed.close();
    const started = await startServe(data.path);
    serve = started.child;
    context = await openBrowser(profile.path);
    // Browser mode's notifications are the page's Notification API: recorded here instead of shown.
    await context.addInitScript(() => {
      const notices: { title: string; body: string | undefined }[] = [];
      (globalThis as unknown as { notices: typeof notices }).notices = notices;
      class RecordedNotification {
        static permission = 'granted';
        static requestPermission = () => Promise.resolve('granted');
        constructor(title: string, options?: { body?: string }) {
          notices.push({ title, body: options?.body });
        }
      }
      (globalThis as unknown as { Notification: unknown }).Notification = RecordedNotification;
    });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(started.url);
    await page.getByTestId('servers-table').waitFor();
  });
  afterAll(async () => {
    await context?.close();
    await stopServe(serve);
    await new Promise((resolve) => hook?.close(resolve));
    data.remove();
    profile.remove();
  });

  beforeEach((ctx) => {
    onTestFailed(async () => void (await shot(`failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`)));
  });

  it('saves a chain link, a desktop notification and a webhook from the job editor', async () => {
    await page.getByTestId('nav-jobs').click();
    await page.getByTestId('job-row-first').getByRole('button', { name: 'Edit' }).click();
    const form = page.getByTestId('job-form');
    await form.waitFor();
    await page.getByTestId('add-chain-link').click();
    const link = page.getByTestId('chain-link');
    expect(await link.count()).toBe(1);
    // The job list offers the other jobs, not the one being edited.
    expect(await link.getByTestId('chain-job').locator('option').allTextContents()).toEqual([
      'choose a job…',
      'second',
    ]);
    await link.getByTestId('chain-on').selectOption('success');
    await link.getByTestId('chain-job').selectOption({ label: 'second' });
    await link.getByTestId('chain-servers').selectOption('same');
    await page.getByTestId('job-desktop-notify').selectOption('always');
    await page.getByTestId('job-webhook').fill(hookUrl);
    await page.getByTestId('job-webhook-notify').selectOption('always');
    await shot('job-editor-chain');
    await page.getByTestId('job-save').click();
    await form.waitFor({ state: 'detached' });

    const job = await stored(async (s) => await s.getJob('first'));
    const second = await stored(async (s) => await s.getJob('second'));
    expect(job.chain).toEqual([{ on: 'success', jobId: second.id, servers: 'same' }]);
    expect(job.desktopNotify).toBe('always');
    expect(job.webhook).toEqual({ notify: 'always', origin: new URL(hookUrl).origin });

    // Opened again, the editor shows the link and keeps the webhook it cannot see.
    await page.getByTestId('job-row-first').getByRole('button', { name: 'Edit' }).click();
    await form.waitFor();
    expect(await page.getByTestId('chain-job').inputValue()).toBe(second.id);
    expect(await page.getByTestId('job-webhook').inputValue()).toBe('');
    expect(await page.getByTestId('job-webhook').getAttribute('placeholder')).toContain(
      new URL(hookUrl).origin,
    );
    expect(await page.content()).not.toContain('T0KEN');
    await page.getByTestId('job-save').click();
    await form.waitFor({ state: 'detached' });
    expect((await stored(async (s) => await s.getJob('first'))).webhook).not.toBeNull();
  });

  it('refuses a link that makes a loop, naming it', async () => {
    await page.getByTestId('job-row-second').getByRole('button', { name: 'Edit' }).click();
    await page.getByTestId('add-chain-link').click();
    await page.getByTestId('chain-job').selectOption({ label: 'first' });
    await page.getByTestId('job-save').click();
    expect(await page.getByTestId('field-error').first().textContent()).toContain(
      'these links make a loop: second → first → second',
    );
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect((await stored(async (s) => await s.getJob('second'))).chain).toEqual([]);
  });

  it('runs the chain and shows it in history: the child links its parent, the parent its child', async () => {
    await page.getByTestId('job-row-first').getByTestId('run-job').click();
    await page.getByTestId('run-server-h1').check();
    await page.getByTestId('run-start').click();
    await page.getByTestId('live-view').waitFor();

    await page.getByTestId('nav-history').click();
    const chained = page.getByTestId('history-row').filter({ hasText: 'second' });
    await expect.poll(() => chained.count(), { timeout: 20_000 }).toBe(1);
    await expect
      .poll(() => chained.first().getByTestId('status-badge').textContent(), { timeout: 20_000 })
      .toBe('succeeded');
    await chained.first().click();
    const detail = page.getByTestId('execution-detail');
    await detail.getByText('second got relayed').waitFor();
    // The run is read after the execution: its fields fill in once it arrives.
    await expect.poll(() => detail.getByTestId('run-trigger').textContent()).toBe('chain');
    expect(JSON.parse((await detail.getByTestId('execution-input').textContent())!)).toEqual({
      word: 'relayed',
    });
    await shot('history-chain-child');

    // Its parent, one click away: the first job's execution, whose chain step leads back here.
    await detail.getByTestId('chain-parent').click();
    await expect.poll(() => detail.getByTestId('run-trigger').textContent()).toBe('manual');
    expect(await page.getByTestId('chain-step').textContent()).toMatch(/on success → second execution \w{8}/);
    await expect
      .poll(() => detail.getByTestId('notifications').textContent(), { timeout: 15_000 })
      .toMatch(/webhook: delivered \(HTTP 200, 1 try\)/);
    await shot('history-chain-parent');
    await page.getByTestId('chain-child').click();
    await expect.poll(() => detail.getByTestId('run-trigger').textContent()).toBe('chain');
    await page.keyboard.press('Escape');

    expect(hookBodies.map((b) => [b.job.name, b.run.status])).toEqual([['first', 'succeeded']]);
    // desktopNotify "always" on first; second has none.
    const notices = await page.evaluate(() => (globalThis as unknown as { notices: unknown[] }).notices);
    expect(notices).toEqual([{ title: 'first succeeded', body: expect.stringContaining('1 server') }]);
    expect(pageErrors).toEqual([]);
  });
});
