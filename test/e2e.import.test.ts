/**
 * Issue 11 parts 1 and 2 end to end in real Chromium (browser mode, real sshd hosts): the Import dialog
 * (hosts with checkboxes, what each becomes, what cannot be imported and why; an imported host tests
 * online without a trust prompt), search and tag filters on servers and jobs, "select by tag / all" in the
 * run dialog, and history's text search and "not succeeded" filter.
 * Screenshots go to test-artifacts/e2e-import/.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';

import { CroniumService } from '../src/service/service.ts';
import { openBrowser, startServe, stopServe } from './support/browser.ts';
import { hosts, tempDir } from './support/fixtures.ts';

const ARTIFACTS = 'test-artifacts/e2e-import';
const h = hosts();

describe('import, tags and search in the app (Chromium, real hosts)', () => {
  const data = tempDir();
  const files = tempDir('cronium-e2e-import-');
  const profile = tempDir('cronium-chromium-');
  const sshConfig = join(files.path, 'config');
  const knownHosts = join(files.path, 'known_hosts');
  let serve: ChildProcess;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  const rowNames = (table: string, prefix: string) =>
    page
      .getByTestId(table)
      .locator(`tbody tr[data-testid^="${prefix}"]`)
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-testid')!)) as Promise<string[]>;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(
      sshConfig,
      `Host web-a
  HostName ${h.hosts.h1.address}
Host web-b
  HostName ${h.hosts.h2.address}
Host legacy
  HostName ${h.hosts.h3.address}
  ProxyCommand nc %h %p
Host *
  User ${h.user}
  IdentityFile ${h.keyPath}
`,
    );
    const key = (name: string) => readFileSync(join(h.dir, `${name}_host_ed25519.pub`), 'utf8').trim();
    writeFileSync(knownHosts, `${h.hosts.h1.address} ${key('h1')}\n${h.hosts.h2.address} ${key('h2')}\n`);

    const seed = await CroniumService.open({
      dataDir: data.path,
      unknownHostKeys: 'accept-new',
      runtimePort: 0,
    });
    // Nothing listens on port 1: runs there fail at once (history's "not succeeded").
    for (const [name, tags] of [
      ['down-a', ['prod']],
      ['down-b', ['prod', 'db']],
      ['down-c', []],
    ] as const)
      await seed.createServer({
        name,
        host: '127.0.0.1',
        port: 1,
        username: h.user,
        auth: { type: 'key', keyPath: h.keyPath },
        tags: [...tags],
      });
    await seed.createJob({ name: 'deploy', language: 'bash', script: 'echo deployed', tags: ['ops'] });
    await seed.createJob({ name: 'backup', language: 'bash', script: 'echo saved', tags: ['db'] });
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
    files.remove();
    profile.remove();
  });
  beforeEach((ctx) => {
    onTestFailed(async () => void (await shot(`failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`)));
  });

  it('imports chosen hosts from an ssh_config, says what cannot be imported, and trusts their keys', async () => {
    await page.getByTestId('import-servers').click();
    const dialog = page.getByTestId('import-dialog');
    await dialog.waitFor();
    await page.getByTestId('import-ssh-config').fill(sshConfig);
    await page.getByTestId('import-known-hosts').fill(knownHosts);
    await page.getByTestId('import-preview').click();
    await page.getByTestId('import-row-web-a').waitFor();
    expect(await page.getByTestId('import-row-web-a').textContent()).toContain(
      `${h.user}@${h.hosts.h1.address}:22`,
    );
    expect(await page.getByTestId('import-row-web-a').getByTestId('import-host-key').textContent()).toBe(
      'trusted from known_hosts (ssh-ed25519)',
    );
    expect(await page.getByTestId('import-skipped-legacy').textContent()).toMatch(
      /legacy: ProxyCommand is not supported/,
    );
    await shot('import-preview');

    await page.getByTestId('import-check-web-b').uncheck();
    expect(await page.getByTestId('import-apply').textContent()).toBe('Import 1 server');
    await page.getByTestId('import-check-web-b').check();
    expect(await page.getByTestId('import-apply').textContent()).toBe('Import 2 servers');
    await page.getByTestId('import-apply').click();
    await dialog.waitFor({ state: 'detached' });
    expect(await page.getByTestId('toast').textContent()).toBe('Imported 2 servers from your SSH config.');

    // The app asks before trusting an unknown key; an imported host has none to ask about.
    const row = page.getByTestId('server-row-web-a');
    await row.getByTestId('test-server').click();
    await expect
      .poll(() => row.getByTestId('server-status').textContent(), { timeout: 20_000 })
      .toBe('online');
    expect(await page.getByTestId('host-key-prompt').count()).toBe(0);
  });

  it('narrows servers by search text and by tag', async () => {
    const all = await rowNames('servers-table', 'server-row-');
    expect(all).toHaveLength(5);
    await page.getByTestId('servers-search').fill('DOWN-B');
    expect(await rowNames('servers-table', 'server-row-')).toEqual(['server-row-down-b']);
    await page.getByTestId('servers-search').fill(h.hosts.h2.address);
    expect(await rowNames('servers-table', 'server-row-')).toEqual(['server-row-web-b']);
    await page.getByTestId('servers-search').fill('');
    await page.getByTestId('servers-tag-filter').selectOption('prod');
    expect(await rowNames('servers-table', 'server-row-')).toEqual([
      'server-row-down-a',
      'server-row-down-b',
    ]);
    expect(await page.getByTestId('servers-filter-count').textContent()).toBe('2 of 5');
    await page.getByTestId('servers-tag-filter').selectOption('');
  });

  it('narrows jobs by search text and by tag', async () => {
    await page.getByTestId('nav-jobs').click();
    await page.getByTestId('jobs-table').waitFor();
    await page.getByTestId('jobs-search').fill('back');
    expect(await rowNames('jobs-table', 'job-row-')).toEqual(['job-row-backup']);
    await page.getByTestId('jobs-search').fill('');
    await page.getByTestId('jobs-tag-filter').selectOption('ops');
    expect(await rowNames('jobs-table', 'job-row-')).toEqual(['job-row-deploy']);
    await page.getByTestId('jobs-tag-filter').selectOption('');
  });

  it('selects servers by tag, all or none in the run dialog', async () => {
    await page.getByTestId('job-row-deploy').getByTestId('run-job').click();
    await page.getByTestId('run-dialog').waitFor();
    const checked = async () => {
      const names: string[] = [];
      for (const n of ['down-a', 'down-b', 'down-c', 'web-a', 'web-b'])
        if (await page.getByTestId(`run-server-${n}`).isChecked()) names.push(n);
      return names;
    };
    await page.getByTestId('run-select-all').click();
    expect(await checked()).toEqual(['down-a', 'down-b', 'down-c', 'web-a', 'web-b']);
    await page.getByTestId('run-select-none').click();
    expect(await checked()).toEqual([]);
    expect(await page.getByTestId('run-select-tag-prod').textContent()).toBe('tag:prod (2)');
    await page.getByTestId('run-select-tag-prod').click();
    expect(await checked()).toEqual(['down-a', 'down-b']);
    await page.getByTestId('run-server-web-a').check();
    expect(await page.getByTestId('run-start').textContent()).toBe('▶ Run on 3 servers');
    await page.getByTestId('run-start').click();
    await expect
      .poll(() => page.getByTestId('live-view').locator('h1').getByTestId('status-badge').textContent(), {
        timeout: 30_000,
      })
      .toBe('partial');
  });

  it('searches history and filters it to what did not succeed', async () => {
    await page.getByTestId('nav-history').click();
    await page.getByTestId('history-table').waitFor();
    const servers = () =>
      page
        .getByTestId('history-table')
        .locator('tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.children[2]!.textContent!).sort()) as Promise<string[]>;
    await expect.poll(servers).toEqual(['down-a', 'down-b', 'web-a']);
    await page.getByTestId('filter-status').selectOption('not_succeeded');
    await expect.poll(servers).toEqual(['down-a', 'down-b']);
    await page.getByTestId('filter-status').selectOption('');
    await page.getByTestId('history-search').fill('web-A deploy');
    await expect.poll(servers).toEqual(['web-a']);
    await page.getByTestId('history-search').fill('refused');
    await expect.poll(servers).toEqual(['down-a', 'down-b']);
    await shot('history-search');
    expect(pageErrors).toEqual([]);
  });
});
