/** A schedule's parameters are checked against its job's declaration when it is saved, as `run --set` is. */
import { afterAll, expect, it } from 'vitest';

import { CroniumError } from '../src/core/errors.ts';
import { describeEngines } from './support/engines.ts';
import { tempDir } from './support/fixtures.ts';

describeEngines('schedule parameters', async ({ openService }) => {
  const dir = tempDir();
  const service = await openService({ dataDir: dir.path, agentSocket: '' });
  afterAll(async () => {
    await service.close();
    dir.remove();
  });
  await service.createServer({ name: 's1', host: '10.0.0.1', username: 'ops', auth: { type: 'agent' } });
  const job = await service.createJob({
    name: 'deploy',
    language: 'bash',
    script: 'true',
    defaultServerIds: ['s1'],
    params: [
      { name: 'env', type: 'choice', choices: ['dev', 'prod'] },
      { name: 'count', type: 'number', default: 1 },
    ],
  });
  const add = async (params: Record<string, string>) =>
    await service.createSchedule({
      name: `s-${Object.keys(params).join('-')}`,
      jobId: job.id,
      cron: '@hourly',
      params,
    });

  it.each([
    [{ env: 'qa' }, 'params.env', /one of dev, prod/],
    [{ env: 'dev', count: 'abc' }, 'params.count', /is a number/],
    [{ env: 'dev', nope: 'x' }, 'params.nope', /no parameter named "nope"/],
    [{ count: '2' }, 'params.env', /env is required/],
  ])('refuses %j naming %s, and saves nothing', async (params, field, message) => {
    let error: unknown;
    try {
      await add(params);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CroniumError);
    expect((error as CroniumError).fields?.[field]).toMatch(message);
    expect(await service.listSchedules()).toEqual([]);
  });

  it('saves valid parameters as given', async () => {
    expect((await add({ env: 'prod', count: '3' })).params).toEqual({ env: 'prod', count: '3' });
  });
});
