/**
 * The helper rules both modes share (src/runtime/helperRules.ts) and the runtime endpoints that apply
 * them: Cronium's condition words, text output, {} for no input, field lookups, increments in one store
 * transaction, and the size limits measured on the value (not on the request body).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ExecutionRegistry, type RuntimeContext } from '../src/runtime/executionRegistry.ts';
import {
  appendValue,
  coerceCondition,
  fieldPaths,
  fieldText,
  incrementValue,
  MAX_OUTPUT_BYTES,
  MAX_VARIABLE_BYTES,
} from '../src/runtime/helperRules.ts';
import { RuntimeServer } from '../src/runtime/runtimeServer.ts';
import { TokenService } from '../src/runtime/tokens.ts';
import { composeCore } from '../src/service/compose.ts';
import { CroniumService } from '../src/service/service.ts';
import type { SqlDatabase as Database } from '../src/store/sql.ts';
import { describeEngines } from './support/engines.ts';
import { tempDir } from './support/fixtures.ts';

describe('helper rules', () => {
  it("reads conditions as Cronium's Bash SDK does, in every language", () => {
    for (const yes of [true, 1, -2, 0.5, 'true', 'TRUE', ' yes ', 'on', '1'])
      expect(coerceCondition(yes)).toBe(true);
    for (const no of [false, 0, 'false', 'No', 'off', '0']) expect(coerceCondition(no)).toBe(false);
    for (const bad of ['maybe', '', '2', null, undefined, [], {}, Number.NaN])
      expect(coerceCondition(bad)).toBeNull();
  });

  it('increments whole numbers only, unset counting as 0', () => {
    expect(incrementValue('k', undefined, undefined)).toEqual({ value: 1 });
    expect(incrementValue('k', '41', 1)).toEqual({ value: 42 });
    expect(incrementValue('k', 10, '-3')).toEqual({ value: 7 });
    expect(incrementValue('k', 'ten', 1)).toEqual({
      error: 'variable "k" is not a number, so it was not incremented',
    });
    // Issue 13: `by` is any finite number; integers stay integers.
    expect(incrementValue('k', 1.5, 1)).toEqual({ value: 2.5 });
    expect(incrementValue('k', 1, 0.5)).toEqual({ value: 1.5 });
    expect(incrementValue('k', 1, 'NaN')).toEqual({ error: 'the increment must be a finite number' });
  });

  it('appends text, with the separator only between values', () => {
    expect(appendValue(undefined, 'a', ',')).toBe('a');
    expect(appendValue('', 'a', ',')).toBe('a');
    expect(appendValue('a', 'b', ',')).toBe('a,b');
    expect(appendValue(12, '3', undefined)).toBe('123');
    expect(appendValue('a', 5, ',')).toEqual({
      error: 'appendVariable takes text and an optional separator',
    });
  });

  it('looks fields up by dotted path, strings raw and others as JSON', () => {
    const value = { name: 'n', server: { address: '10.0.0.1', port: 22 }, list: [1], nil: null };
    expect(fieldText(value, 'name')).toBe('n');
    expect(fieldText(value, 'server.address')).toBe('10.0.0.1');
    expect(fieldText(value, 'server')).toBe('{"address":"10.0.0.1","port":22}');
    expect(fieldText(value, 'list')).toBe('[1]');
    expect(fieldText(value, 'nil')).toBe('');
    expect(fieldText(value, 'missing.deeper')).toBe('');
    expect(fieldPaths(value)).toEqual(['name', 'server', 'server.address', 'server.port', 'list', 'nil']);
    expect(fieldPaths([1, 2])).toEqual([]);
  });
});

function context(executionId: string, input: unknown): RuntimeContext {
  return {
    executionId,
    jobId: 'job-1',
    serverId: 'srv-1',
    input,
    event: { executionId, server: { address: '10.1.2.3' } },
    output: undefined,
    outputSet: false,
    condition: null,
    changes: [],
  };
}

describeEngines('runtime endpoints for the Cronium semantics (real HTTP, the real store)', (e) => {
  const dir = tempDir();
  let service: CroniumService;
  let db: Database;
  let runtime: RuntimeServer;
  let registry: ExecutionRegistry;
  let tokens: TokenService;
  let base: string;

  beforeAll(async () => {
    // The service's own runtime carries the store's transactional variable access.
    const core = await composeCore(await e.serviceOptions({ dataDir: dir.path, runtimePort: 0 }));
    service = new CroniumService(core);
    runtime = core.runtime;
    await service.startRuntime();
    base = `http://127.0.0.1:${runtime.port}`;
    db = await e.openStore({ dataDir: dir.path });
    // Tokens signed with the key the core's runtime checks (sealed by the core's secret store).
    tokens = new TokenService(db, core.secrets);
    registry = core.registry;
    registry.register(context('exec-none', null));
    registry.register(context('exec-in', { a: { b: 'c' } }));
  });
  afterAll(async () => {
    await db.close();
    await service.close();
    dir.remove();
  });

  const call = async (id: string, path: string, init: RequestInit = {}) => {
    const token = await tokens.sign({ executionId: id, jobId: 'job-1', serverId: 'srv-1', timeoutSec: 60 });
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token}`);
    const res = await fetch(`${base}/executions/${id}/${path}`, { ...init, headers });
    return { status: res.status, text: await res.text() };
  };
  const json = (body: unknown): RequestInit => ({
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  const text = (body: string): RequestInit => ({
    method: 'POST',
    body,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  });

  it('answers {} for a run without input, and single fields as text', async () => {
    expect(JSON.parse((await call('exec-none', 'input')).text)).toMatchObject({ data: {} });
    expect((await call('exec-in', 'input?field=a.b')).text).toBe('c');
    expect((await call('exec-in', 'context?field=server.address')).text).toBe('10.1.2.3');
    expect((await call('exec-in', 'context?field=nothing')).text).toBe('');
  });

  it('records text that is not JSON as a string, JSON text with its type, and fields one by one', async () => {
    const ctx = registry.get('exec-none')!;
    expect((await call('exec-none', 'output', text('Hello'))).status).toBe(200);
    expect(ctx.output).toBe('Hello');
    await call('exec-none', 'output', text('{"n": 1}'));
    expect(ctx.output).toEqual({ n: 1 });
    await call('exec-none', 'output?key=count', text('100'));
    expect(ctx.output).toEqual({ n: 1, count: 100 });
  });

  it('coerces condition words and refuses others', async () => {
    const ctx = registry.get('exec-none')!;
    expect((await call('exec-none', 'condition', json({ condition: 'yes' }))).status).toBe(200);
    expect(ctx.condition).toBe(true);
    expect((await call('exec-none', 'condition', json({ condition: 0 }))).status).toBe(200);
    expect(ctx.condition).toBe(false);
    expect((await call('exec-none', 'condition', json({ condition: 'maybe' }))).status).toBe(400);
  });

  it('increments in the store: 200 concurrent requests lose no count', async () => {
    await service.setVariable({ key: 'n', value: 5 });
    await Promise.all(
      Array.from({ length: 200 }, () => call('exec-none', 'variables/n/increment', json({}))),
    );
    expect(await service.getVariableValue('n')).toBe(205);
    const r = await call('exec-none', 'variables/n/increment?format=raw', json({ by: -5 }));
    expect(r).toEqual({ status: 200, text: '200' });
    await service.setVariable({ key: 'word', value: 'abc' });
    expect((await call('exec-none', 'variables/word/increment', json({}))).status).toBe(400);
    expect(await service.getVariableValue('word')).toBe('abc');
    await call('exec-none', 'variables/log/append', json({ value: 'a' }));
    await call('exec-none', 'variables/log/append', json({ value: 'b', separator: '|' }));
    expect(await service.getVariableValue('log')).toBe('a|b');
  });

  it('measures the limits on the value: 2 MB of output passes, 16 MiB + 1 and 1 MiB + 1 do not', async () => {
    const ctx = registry.get('exec-in')!;
    const rows = Array.from({ length: 20_000 }, () => 'x'.repeat(100));
    expect((await call('exec-in', 'output', json({ data: { rows } }))).status).toBe(200);
    expect((ctx.output as { rows: string[] }).rows).toHaveLength(20_000);
    const over = await call('exec-in', 'output', text('y'.repeat(MAX_OUTPUT_BYTES - 1)));
    expect(over.status).toBe(413);
    expect(JSON.parse(over.text).message).toBe(
      `the output is ${MAX_OUTPUT_BYTES + 1} bytes, over the limit of ${MAX_OUTPUT_BYTES} bytes (16 MiB)`,
    );
    const put = (body: string) =>
      call('exec-in', 'variables/big', { method: 'PUT', body, headers: { 'content-type': 'text/plain' } });
    expect((await put('z'.repeat(MAX_VARIABLE_BYTES - 2))).status).toBe(200);
    expect((await put('z'.repeat(MAX_VARIABLE_BYTES - 1))).status).toBe(413);
  });
});
