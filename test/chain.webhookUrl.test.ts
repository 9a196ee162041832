/** A job's webhook URL follows the one webhook rule: a URL fetch cannot send is refused when saved. */
import { afterAll, expect, it } from 'vitest';

import { CroniumError } from '../src/core/errors.ts';
import { describeEngines } from './support/engines.ts';
import { tempDir } from './support/fixtures.ts';

describeEngines('job webhook URL', async ({ openService }) => {
  const dir = tempDir();
  const service = await openService({ dataDir: dir.path, agentSocket: '' });
  afterAll(async () => {
    await service.close();
    dir.remove();
  });
  const save = async (url: string) =>
    await service.createJob({
      name: `j${Math.random().toString(36).slice(2, 8)}`,
      language: 'bash',
      script: 'true',
      webhook: { url, notify: 'always' },
    });

  it.each([
    'http://user:pw@127.0.0.1:18777/x',
    'https://token@hooks.example.com/x',
    'ftp://example.com/x',
    'not a url',
  ])('refuses %s on the webhook.url field, saving nothing', async (url) => {
    const before = (await service.listJobs()).length;
    let error: unknown;
    try {
      await save(url);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CroniumError);
    expect(Object.keys((error as CroniumError).fields ?? {})).toEqual(['webhook.url']);
    expect(await service.listJobs()).toHaveLength(before);
  });

  it('keeps a plain https URL (only its origin is shown)', async () => {
    expect((await save('https://hooks.example.com/services/T0/B0/secret')).webhook).toMatchObject({
      origin: 'https://hooks.example.com',
    });
  });
});
