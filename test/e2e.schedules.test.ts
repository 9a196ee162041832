/**
 * Issue 12 part 1 end to end in real Chromium: the Schedules view of browser mode (`cronium serve`, which
 * fires schedules while it is open) against a real host — a bad expression refused per field, a schedule
 * added with its next fire times, runs it fires shown as its last result and in the history with their
 * trigger, the enable switch, removal.
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

const h = ownHosts('e2esch');
afterAll(async () => h.removeUser());

describe('schedules in Chromium (browser mode, real host)', () => {
  const data = tempDir();
  const profile = tempDir('cronium-chromium-');
  let serve: ChildProcess;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  const query = <T>(sql: string) => {
    const db = new DatabaseSync(join(data.path, 'cronium.db'));
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
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
      name: 'tick',
      language: 'bash',
      script: 'echo "tick from $(hostname)"',
      timeoutSec: 30,
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

  it('refuses a bad cron expression and a job without servers, per field, saving nothing', async () => {
    await page.getByTestId('nav-schedules').click();
    await page.getByTestId('empty-state').waitFor();
    await page.getByTestId('add-schedule').click();
    await page.getByTestId('schedule-name').fill('every2');
    await page.getByTestId('schedule-cron').fill('*/2 * * * * * *');
    await page.getByTestId('schedule-tz').fill('Nowhere/City');
    await page.getByTestId('schedule-save').click();
    await page.getByTestId('field-error').first().waitFor();
    expect(await page.getByTestId('field-error').allTextContents()).toEqual(
      expect.arrayContaining([
        'not a cron expression: it has 7 fields: use 5 (minute hour day month weekday), or 6 with seconds first',
        'not a time zone this system knows (use an IANA name such as Europe/Berlin)',
      ]),
    );
    // With a good expression and zone, the missing servers are named.
    await page.getByTestId('schedule-cron').fill('@hourly');
    await page.getByTestId('schedule-tz').fill('');
    await page.getByTestId('schedule-save').click();
    await expect
      .poll(() => page.getByTestId('field-error').allTextContents())
      .toEqual(['say where to run it: tick has no default servers']);
    await shot('schedule-form-errors');
    expect(query('SELECT id FROM schedules')).toEqual([]);
  });

  it('adds a schedule with its next fire times; the runs it fires show as its last result and in history', async () => {
    await page.getByTestId('schedule-cron').fill('*/2 * * * * *');
    await page.getByTestId('schedule-tz').fill('UTC');
    await page.getByTestId('schedule-server-h1').check();
    await page.getByTestId('schedule-overlap').selectOption('allow');
    await page.getByTestId('schedule-save').click();
    const row = page.getByTestId('schedule-row-every2');
    await row.waitFor();
    const next = (await row
      .getByTestId('schedule-next-fire')
      .evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-at'))))) as number[];
    expect(next).toHaveLength(3);
    expect([next[1]! - next[0]!, next[2]! - next[1]!]).toEqual([2000, 2000]);
    expect(next[0]! % 2000).toBe(0);
    // Browser mode fires it: its last result turns succeeded.
    await expect
      .poll(() => row.getByTestId('schedule-last').textContent(), { timeout: 30_000, interval: 250 })
      .toMatch(/^succeeded/);
    await shot('schedules');
    const runs = query<{ trigger: string; schedule_id: string }>('SELECT trigger, schedule_id FROM runs');
    expect(runs.length).toBeGreaterThanOrEqual(1);
    const [schedule] = query<{ id: string }>("SELECT id FROM schedules WHERE name = 'every2'");
    for (const r of runs) expect(r).toEqual({ trigger: 'schedule', schedule_id: schedule!.id });

    await page.getByTestId('nav-history').click();
    await page.getByTestId('history-row').first().click();
    await expect.poll(() => page.getByTestId('execution-trigger').textContent()).toBe('schedule every2');
    await page.keyboard.press('Escape');
  });

  it('the enable switch pauses and resumes; Delete removes the schedule and keeps its runs', async () => {
    await page.getByTestId('nav-schedules').click();
    const row = page.getByTestId('schedule-row-every2');
    const enabled = row.getByTestId('schedule-enabled');
    await enabled.uncheck();
    await expect
      .poll(() => query<{ enabled: number }>('SELECT enabled FROM schedules'))
      .toEqual([{ enabled: 0 }]);
    await expect.poll(() => row.getByTestId('schedule-next').textContent()).toBe('paused');
    const runsWhilePaused = query('SELECT id FROM runs').length;
    await enabled.check();
    await expect
      .poll(() => query<{ enabled: number }>('SELECT enabled FROM schedules'))
      .toEqual([{ enabled: 1 }]);
    await expect.poll(() => row.getByTestId('schedule-next-fire').count()).toBe(3);
    // Resumed, it fires again.
    await expect
      .poll(() => query('SELECT id FROM runs').length, { timeout: 20_000 })
      .toBeGreaterThan(runsWhilePaused);

    await row.getByTestId('remove-schedule').click();
    await page.getByTestId('confirm-ok').click();
    await page.getByTestId('empty-state').waitFor();
    expect(query('SELECT id FROM schedules')).toEqual([]);
    expect(query('SELECT id FROM runs').length).toBeGreaterThan(0);
    expect(pageErrors).toEqual([]);
  });
});
