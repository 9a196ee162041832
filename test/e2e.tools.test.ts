/**
 * Issue 15 part 4 end to end in real Chromium (browser mode, a real sshd host): the Tools view adds a
 * Slack webhook (its URL never comes back to the page), refuses a bad email tool field by field, a job's
 * tool action then shows in the execution's detail, and removing the tool asks first. Screenshots go to
 * test-artifacts/e2e-tools/.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';

import { CroniumService } from '../src/service/service.ts';
import { openBrowser, startServe, stopServe } from './support/browser.ts';
import { ownHosts, tempDir } from './support/fixtures.ts';

const ARTIFACTS = 'test-artifacts/e2e-tools';
const TOKEN = 'e2eWEBHOOKtoken0123456789';

const h = ownHosts('e2etools');
afterAll(async () => h.removeUser());

describe('the Tools view (Chromium, a real host)', () => {
  const data = tempDir();
  const profile = tempDir('cronium-chromium-');
  let serve: ChildProcess;
  let context: BrowserContext;
  let page: Page;
  let hooks: Server;
  let hookBase = '';
  const received: unknown[] = [];
  const pageErrors: string[] = [];
  /** Every response body the page got from the app (to prove the secret never comes back). */
  const bodies: string[] = [];
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    hooks = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        received.push(JSON.parse(Buffer.concat(parts).toString('utf8')));
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', () => resolve()));
    hookBase = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;
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
    await seed.createJob({
      name: 'notify',
      language: 'python',
      script: 'cronium.send_slack_message("#ops", "nightly backup finished")\n',
      defaultServerIds: [h1.id],
    });
    await seed.close();
    const started = await startServe(data.path);
    serve = started.child;
    context = await openBrowser(profile.path);
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('websocket', (ws) => ws.on('framereceived', (f) => bodies.push(String(f.payload))));
    page.on(
      'response',
      (r) =>
        void r.text().then(
          (t) => bodies.push(t),
          () => {},
        ),
    );
    await page.goto(started.url);
    await page.getByTestId('servers-table').waitFor();
  });
  afterAll(async () => {
    await context?.close();
    await stopServe(serve);
    hooks?.close();
    data.remove();
    profile.remove();
  });

  beforeEach((ctx) => {
    onTestFailed(async () => void (await shot(`failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`)));
  });

  it('adds a Slack webhook; the list shows where it points, never its URL', async () => {
    await page.getByTestId('nav-tools').click();
    await page.getByTestId('tools-view').waitFor();
    await page.getByTestId('tool-add').click();
    await page.getByTestId('tool-type').selectOption('slack');
    await page.getByTestId('tool-name').fill('team-slack');
    await page.getByTestId('tool-webhook-url').fill(`${hookBase}/services/T1/B1/${TOKEN}`);
    expect(await page.getByTestId('tool-webhook-url').getAttribute('type')).toBe('password');
    await page.getByTestId('tool-save').click();
    const row = page.getByTestId('tool-row').filter({ hasText: 'team-slack' });
    await row.waitFor();
    expect(await row.textContent()).toContain(`webhook on ${new URL(hookBase).host}`);
    await shot('tools-list');
    await page.reload();
    await page.getByTestId('nav-tools').click();
    await page.getByTestId('tool-row').first().waitFor();
    expect(await page.content()).not.toContain(TOKEN);
    expect(bodies.length).toBeGreaterThan(0);
    expect(bodies.join('\n')).not.toContain(TOKEN);
  });

  it('refuses an email tool field by field and keeps the form', async () => {
    await page.getByTestId('tool-add').click();
    await page.getByTestId('tool-type').selectOption('email');
    await page.getByTestId('tool-name').fill('mail');
    await page.getByTestId('tool-host').fill('smtp.example.com');
    await page.getByTestId('tool-port').fill('99999');
    await page.getByTestId('tool-from').fill('not an address');
    await page.getByTestId('tool-save').click();
    await expect
      .poll(() => page.getByTestId('field-error').allTextContents())
      .toEqual(['port must be 1–65535', 'an email address such as ops@example.com']);
    await shot('tools-email-refused');
    await page.getByTestId('tool-form').getByText('Cancel').click();
    expect(await page.getByTestId('tool-row').count()).toBe(1);
  });

  it("shows a job's tool action in its execution's detail", async () => {
    const runner = await CroniumService.open({
      dataDir: data.path,
      unknownHostKeys: 'accept-new',
      runtimePort: 0,
    });
    try {
      const job = await runner.getJob('notify');
      const run = await runner.startRun({ jobId: job.id, serverIds: job.defaultServerIds });
      await runner.waitForRun(run.id);
    } finally {
      await runner.close();
    }
    expect(received).toEqual([{ channel: '#ops', text: 'nightly backup finished' }]);
    await page.getByTestId('nav-history').click();
    await page.getByTestId('history-row').filter({ hasText: 'notify' }).first().click();
    const action = page.getByTestId('tool-action');
    await action.waitFor();
    expect(await action.textContent()).toMatch(/✓ slack send_message to #ops \(team-slack\): sent/);
    await shot('tools-execution-detail');
    await page.keyboard.press('Escape');
  });

  it('asks before removing a tool, then removes it', async () => {
    await page.getByTestId('nav-tools').click();
    await page.getByTestId('tool-row').filter({ hasText: 'team-slack' }).getByTestId('tool-remove').click();
    await page.getByTestId('confirm-dialog').waitFor();
    expect(await page.getByTestId('confirm-message').textContent()).toMatch(/Remove the tool team-slack\?/);
    await page.getByTestId('confirm-ok').click();
    await page.getByTestId('tool-row').waitFor({ state: 'detached' });
    expect(await page.getByTestId('tools-view').textContent()).toContain('No tools yet');
    expect(pageErrors).toEqual([]);
  });
});
