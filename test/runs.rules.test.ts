/**
 * Issue 11 parts 3 and 5, the rules alone: job parameters (declaration, values from text and JSON, the
 * run's values with defaults, merged over the input) and output groups from stdout hashes.
 */
import { describe, expect, it } from 'vitest';

import type { JobParam } from '../src/core/domain.ts';
import { groupLabel, outputGroups } from '../src/core/outputGroups.ts';
import { formatParamSpec, paramValue, parseParamSpec, resolveParams } from '../src/core/rules.ts';
import { mergeParams } from '../src/service/runInputs.ts';

const param = (p: Partial<JobParam> & Pick<JobParam, 'name' | 'type'>): JobParam => ({
  choices: [],
  default: null,
  description: '',
  ...p,
});

describe('parameter declarations (--param)', () => {
  it.each([
    ['region:string', { name: 'region', type: 'string', default: null, choices: [] }],
    ['n:number=2.5', { name: 'n', type: 'number', default: 2.5 }],
    ['dry:boolean=yes', { name: 'dry', type: 'boolean', default: true }],
    [
      'env:choice(dev|prod)=prod # where',
      { type: 'choice', choices: ['dev', 'prod'], default: 'prod', description: 'where' },
    ],
    ['msg:string=a # b # c', { default: 'a', description: 'b # c' }],
    ['url:string=http://x:80/=y', { default: 'http://x:80/=y' }],
  ])('reads %j', (spec, expected) => {
    expect(parseParamSpec(spec)).toMatchObject(expected);
  });

  it.each([
    ['n', /is not name:type/],
    ['n:integer', /is not name:type/],
    ['1n:number', /letters, digits and "_"/],
    ['n:number=ten', /n is a number; got "ten"/],
    ['env:choice()', /a choice is not empty|lists its values/],
    ['env:choice(a|a)', /listed twice/],
    ['env:choice(a|b)=c', /env is one of a, b; got "c"/],
    ['b:boolean=maybe', /b is true or false/],
  ])('refuses %j', (spec, message) => {
    expect(() => parseParamSpec(spec)).toThrow(message);
  });

  it('writes each declaration back as it reads it', async () => {
    for (const spec of ['a:string', 'b:number=3', 'c:boolean=false # flag', 'd:choice(x|y z)=y z'])
      expect(formatParamSpec(parseParamSpec(spec))).toBe(spec);
  });
});

describe('parameter values', () => {
  const n = param({ name: 'n', type: 'number' });
  it.each([
    ['3', 3],
    [' -2.5 ', -2.5],
    ['.5', 0.5],
    ['1e3', 1000],
    [7, 7],
  ])('a number from %j', (raw, value) => expect(paramValue(n, raw)).toEqual({ value }));
  it.each(['0x10', '', 'Infinity', 'NaN', '1,5', true, null])('not a number: %j', (raw) =>
    expect(paramValue(n, raw)).toHaveProperty('error'),
  );
  it('booleans from words and JSON, choices only as listed', () => {
    const b = param({ name: 'b', type: 'boolean' });
    expect(['TRUE', 'yes', 'on', '1', true].map((v) => paramValue(b, v))).toEqual(
      Array(5).fill({ value: true }),
    );
    expect(['false', 'No', 'off', '0', false].map((v) => paramValue(b, v))).toEqual(
      Array(5).fill({ value: false }),
    );
    const c = param({ name: 'c', type: 'choice', choices: ['eu', '1'] });
    expect(paramValue(c, 'eu')).toEqual({ value: 'eu' });
    expect(paramValue(c, 1)).toEqual({ value: '1' });
    expect(paramValue(c, 'EU')).toEqual({ error: 'c is one of eu, 1; got "EU"' });
    expect(paramValue(param({ name: 's', type: 'string' }), 5)).toEqual({ error: 's is text; got 5' });
  });

  it('fills defaults, and names every problem at once', () => {
    const declared = [
      param({ name: 'region', type: 'choice', choices: ['eu', 'us'] }),
      param({ name: 'count', type: 'number', default: 2 }),
    ];
    expect(resolveParams(declared, { region: 'eu' })).toEqual({ values: { region: 'eu', count: 2 } });
    expect(resolveParams(declared, { region: 'us', count: '' })).toEqual({
      values: { region: 'us', count: 2 },
    });
    expect(resolveParams(declared, { count: 'x', extra: 1 })).toEqual({
      errors: {
        'params.extra': 'no parameter named "extra" (this job has region, count)',
        'params.region': 'region is required',
        'params.count': 'count is a number; got "x"',
      },
    });
    expect(resolveParams([], { a: 1 })).toEqual({
      errors: { 'params.a': 'no parameter named "a" (this job has none)' },
    });
    // A name from an object's prototype is not a parameter nor a value.
    expect(
      resolveParams(declared, JSON.parse('{"__proto__": 1, "region": "eu"}') as Record<string, unknown>),
    ).toHaveProperty('errors');
  });

  it('merges the values over the input, which must then be an object', () => {
    expect(mergeParams({ a: 1, n: 0 }, { n: 2 })).toEqual({ a: 1, n: 2 });
    expect(mergeParams(null, { n: 2 })).toEqual({ n: 2 });
    expect(mergeParams(undefined, { n: 2 })).toEqual({ n: 2 });
    expect(mergeParams([1], {})).toEqual([1]);
    expect(() => mergeParams([1], { n: 2 })).toThrow(/takes a JSON object as input/);
    expect(() => mergeParams('text', { n: 2 })).toThrow(/takes a JSON object as input/);
  });
});

describe('output groups', () => {
  const e = (serverName: string, stdoutHash: string | null) => ({
    id: `id-${serverName}`,
    serverName,
    stdoutHash,
  });
  it('groups equal hashes, largest first, and leaves out hosts without output', () => {
    const groups = outputGroups([
      e('a', 'x'),
      e('b', 'y'),
      e('c', 'x'),
      e('d', null),
      e('f', 'x'),
      e('g', 'z'),
    ]);
    expect(groups.map((g) => [g.stdoutHash, g.servers])).toEqual([
      ['x', ['a', 'c', 'f']],
      ['y', ['b']],
      ['z', ['g']],
    ]);
    expect(groups.map(groupLabel)).toEqual(['3 hosts: identical', '1 host', '1 host']);
    expect(outputGroups([e('a', null)])).toEqual([]);
  });
});
