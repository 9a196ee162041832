/**
 * Issue 13 item 3 in real Chromium (browser mode, real sshd hosts): who started each run shows in the
 * history row's tooltip and the execution's detail, history's search finds runs by it, and a run from
 * before it was recorded reads "unknown". Screenshots go to test-artifacts/e2e-startedBy/.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CroniumService } from '../src/service/service.ts';
import { openBrowser, startServe, stopServe } from './support/browser.ts';
import { ownHosts, tempDir } from './support/fixtures.ts';

const ARTIFACTS = 'test-artifacts/e2e-startedBy';
const ME = `${userInfo().username}@${hostname().split('.')[0]}`;

const h = ownHosts('e2esby');
afterAll(() => h.removeUser());

describe('who started each run, in the app (Chromium, real hosts)', () => {
  const data = tempDir();
  const profile = tempDir('cronium-chromium-');
  let serve: ChildProcess;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const options = { dataDir: data.path, unknownHostKeys: 'accept-new' as const, runtimePort: 0 };
    const seed = await CroniumService.open(options);
    const h1 = (
      await seed.createServer({
        name: 'h1',
        host: h.hosts.h1.address,
        username: h.user,
        auth: { type: 'key', keyPath: h.keyPath },
      })
    ).id;
    const mine = await seed.createJob({
      name: 'mine',
      language: 'bash',
      script: 'echo mine\n',
      defaultServerIds: [h1],
    });
    const theirs = await seed.createJob({
      name: 'theirs',
      language: 'bash',
      script: 'echo theirs\n',
      defaultServerIds: [h1],
    });
    await seed.waitForRun((await seed.startRun({ jobId: mine.id, serverIds: [h1] })).id);
    await seed.close();
    const worker = await CroniumService.open({ ...options, actor: 'worker w9@rack3' });
    await worker.waitForRun((await worker.startRun({ jobId: theirs.id, serverIds: [h1] })).id);
    await worker.close();
    // A run recorded before the audit trail: its actor is null.
    const db = new DatabaseSync(join(data.path, 'cronium.db'));
    db.exec(
      "UPDATE runs SET started_by = NULL WHERE job_name = 'mine'; UPDATE executions SET started_by = NULL WHERE job_name = 'mine'",
    );
    db.close();
    const again = await CroniumService.open(options);
    await again.waitForRun((await again.startRun({ jobId: mine.id, serverIds: [h1] })).id);
    await again.close();

    const started = await startServe(data.path);
    serve = started.child;
    context = await openBrowser(profile.path);
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(started.url);
    await page.getByTestId('nav-history').click();
    await page.getByTestId('history-table').waitFor();
  });
  afterAll(async () => {
    await context?.close();
    await stopServe(serve);
    data.remove();
    profile.remove();
  });

  it('shows the actor as each history row tooltip and in the detail; search finds it', async () => {
    const rows = page.getByTestId('history-row');
    await expect.poll(() => rows.count()).toBe(3);
    const titles = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('title')));
    expect(titles.sort()).toEqual(
      [`started by ${ME}`, 'started by unknown', 'started by worker w9@rack3'].sort(),
    );

    await page.getByTestId('history-search').fill('w9@rack3');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('theirs');
    await rows.first().click();
    await expect.poll(() => page.getByTestId('execution-started-by').textContent()).toBe('worker w9@rack3');
    await page.screenshot({ path: join(ARTIFACTS, 'detail-worker.png') });
    await page.keyboard.press('Escape');

    await page.getByTestId('history-search').fill('');
    await expect.poll(() => rows.count()).toBe(3);
    await rows.filter({ hasText: 'mine' }).last().click();
    await expect.poll(() => page.getByTestId('execution-started-by').textContent()).toBe('unknown');
    expect(pageErrors).toEqual([]);
  });
});
