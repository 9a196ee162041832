/**
 * Issue 11 part 8: an execution records the values of the variables it changed (shown in its detail and by
 * `cronium show`), in API and bundled mode alike, on a real host: the value as JSON text, a secret
 * variable's value never, a secret job value copied into a plain variable masked, a long value cut.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { VARIABLE_CHANGE_TEXT_MAX } from '../src/core/domain.ts';
import { changeText } from '../src/cli/format.ts';
import type { CroniumService } from '../src/service/service.ts';
import { ownHosts, runJob, serviceWithHosts } from './support/fixtures.ts';

const h = ownHosts('varchg');
afterAll(async () => h.removeUser());

const ENV_SECRET = 'env-secret-4711';

const SCRIPT = `set -e
cronium.setVariable plain hello
cronium.setVariable count 42
cronium.setVariable obj '{"a":[1,{"b":null}]}'
cronium.setVariable token rotated-value-0815
cronium.setVariable copied "$API_TOKEN"
cronium.setVariable long "$(printf 'x%.0s' $(seq 1 3000))"
cronium.setVariable gone 1
cronium.deleteVariable gone
cronium.deleteVariable old
`;

describe('the values an execution set, in its history', () => {
  let service: CroniumService;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ service, close } = await serviceWithHosts({ tunnelLingerMs: 0 }, h));
  });
  afterAll(async () => close());

  it.each(['api', 'bundled'] as const)('records each set value (secrets masked) in %s mode', async (mode) => {
    await service.setVariable({ key: 'token', value: 'first-secret', secret: true });
    await service.setVariable({ key: 'old', value: 'x' });
    const r = await runJob(
      service,
      { language: 'bash', script: SCRIPT, env: [{ key: 'API_TOKEN', value: ENV_SECRET, secret: true }] },
      ['h1'],
      { helperMode: mode },
    );
    expect(r.exec).toMatchObject({ status: 'succeeded', helperMode: mode });
    const byKey = Object.fromEntries(r.exec.variableChanges.map((c) => [c.key, c]));
    expect(byKey.plain).toEqual({ key: 'plain', op: 'set', value: '"hello"' });
    expect(byKey.count).toEqual({ key: 'count', op: 'set', value: '42' });
    expect(byKey.obj).toEqual({ key: 'obj', op: 'set', value: '{"a":[1,{"b":null}]}' });
    // The secret variable: that it changed, never to what.
    expect(byKey.token).toEqual({ key: 'token', op: 'set', secret: true });
    expect(await service.getVariableValue('token')).toBe('rotated-value-0815');
    // A secret job value copied into a plain variable is stored (the script asked for it) but masked here.
    expect(await service.getVariableValue('copied')).toBe(ENV_SECRET);
    expect(byKey.copied).toEqual({ key: 'copied', op: 'set', value: '"***"' });
    const long = byKey.long!.value!;
    expect(long).toHaveLength(VARIABLE_CHANGE_TEXT_MAX);
    expect(long).toMatch(/^"x+…$/);
    expect(byKey.gone).toEqual({ key: 'gone', op: 'delete' });
    expect(byKey.old).toEqual({ key: 'old', op: 'delete' });
    // Read back from the store, as the detail view and `cronium show` read it.
    const stored = await service.getExecution(r.exec.id);
    expect(stored.variableChanges).toEqual(r.exec.variableChanges);
    expect(JSON.stringify(stored)).not.toContain('rotated-value-0815');
    expect(JSON.stringify(stored)).not.toContain(ENV_SECRET);
    expect(stored.variableChanges.map(changeText)).toEqual(
      expect.arrayContaining([
        'set plain = "hello"',
        'set token = (secret)',
        'set copied = "***"',
        'delete gone',
      ]),
    );
  });
});
