/**
 * Issue 9 case 3: one rule per domain value, at every door. Each bad value is tried through the CLI (its
 * real `main`, in process), the IPC/browser dispatcher, and — for variable keys — the runtime API; every
 * door refuses it as invalid_input with the same message, and nothing is written. Good edge values pass.
 */
import { Writable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDispatcher, type Dispatch } from '../src/api/dispatcher.ts';
import { main } from '../src/cli/main.ts';
import { applyCollected, keyToHex } from '../src/runtime/helperSession.ts';
import { ExecutionRegistry, type RuntimeContext } from '../src/runtime/executionRegistry.ts';
import { RuntimeServer } from '../src/runtime/runtimeServer.ts';
import { TokenService } from '../src/runtime/tokens.ts';
import { KeyFileSecretStore } from '../src/secrets/secretStore.ts';
import { CroniumService } from '../src/service/service.ts';
import { openDatabase, type Database } from '../src/store/database.ts';
import { normalizeHost, runtimePortFromEnv, VARIABLE_KEY_MAX } from '../src/core/rules.ts';
import { withDatabase } from './support/database.ts';
import { runJob, serviceWithHosts, tempDir } from './support/fixtures.ts';

interface Refusal {
  kind: string;
  message: string;
  fields?: Record<string, string>;
}

const dir = tempDir('cronium-valid-');
let service: CroniumService;
let dispatch: Dispatch;

/** The CLI's own main, in process, with --json: the refusal it prints on stderr. */
async function cli(args: string[], stdin = ''): Promise<{ code: number; error: Refusal | null }> {
  let stderr = '';
  const sink = (write: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, done) {
        write(String(chunk));
        done();
      },
    });
  const code = await main(['--data-dir', dir.path, '--json', ...args], {
    stdout: sink(() => {}),
    stderr: sink((s) => (stderr += s)),
    readStdin: () => stdin,
    env: { CRONIUM_RUNTIME_PORT: '0' },
  });
  const line = stderr.trim().split('\n').pop() ?? '';
  return { code, error: line ? (JSON.parse(line) as { error: Refusal }).error : null };
}

async function viaDispatcher(method: string, args: unknown[]): Promise<Refusal | null> {
  const result = await dispatch(method, args);
  return result.ok ? null : result.error;
}

function counts() {
  return {
    servers: service.listServers().length,
    jobs: service.listJobs().length,
    variables: service.listVariables().length,
  };
}

beforeAll(() => {
  service = new CroniumService({ dataDir: dir.path, runtimePort: 0, unknownHostKeys: 'accept-new' });
  dispatch = createDispatcher(service);
});
afterAll(async () => {
  await service.close();
  dir.remove();
});

const server = (over: Record<string, unknown>) => ({
  name: 'srv',
  host: '10.0.0.1',
  port: 22,
  username: 'deploy',
  auth: { type: 'agent' },
  ...over,
});
// --flag=value and the name after "--", so that values starting with "-" reach the rules as values.
const serverArgs = (over: { name?: string; host?: string; port?: string; user?: string; tag?: string }) => [
  'server',
  'add',
  `--host=${over.host ?? '10.0.0.1'}`,
  ...(over.port === undefined ? [] : [`--port=${over.port}`]),
  `--user=${over.user ?? 'deploy'}`,
  '--agent',
  ...(over.tag === undefined ? [] : [`--tag=${over.tag}`]),
  '--',
  over.name ?? 'srv',
];

/** Bad values per field: [field, value as the CLI takes it, value as the dispatcher takes it]. */
const SERVER_CASES: [string, Record<string, string>, Record<string, unknown>][] = [
  ...['1e3', '0x16', '0', '65536', '22.0', ' 22', '-1', '', '1_000', '٢٢'].map(
    (v) => ['port', { port: v }, { port: v }] as [string, Record<string, string>, Record<string, unknown>],
  ),
  ...[
    '[::1]:2222',
    'host:22',
    '[fd00::2',
    '[not-v6]',
    'a b',
    'deploy@web1',
    '999.1.1.1',
    '-web.example',
    'web_.-x',
    'x'.repeat(254),
    `${'a'.repeat(64)}.example`,
    'fe80::1%',
    'tab\there',
    'nul\u0000host',
  ].map(
    (v) => ['host', { host: v }, { host: v }] as [string, Record<string, string>, Record<string, unknown>],
  ),
  ...['a b', 'a@b', 'a:b', '-oProxyCommand=x', 'x'.repeat(65), 'bell\u0007', ''].map(
    (v) =>
      ['username', { user: v }, { username: v }] as [string, Record<string, string>, Record<string, unknown>],
  ),
  ...['bad name', '-x', 'x'.repeat(65), 'ü', 'a/b'].map(
    (v) => ['name', { name: v }, { name: v }] as [string, Record<string, string>, Record<string, unknown>],
  ),
  ...['x'.repeat(41), 'bell\u0007'].map(
    (v) => ['tags.0', { tag: v }, { tags: [v] }] as [string, Record<string, string>, Record<string, unknown>],
  ),
];

describe('servers: every door refuses the same values with the same message', () => {
  it.each(SERVER_CASES)('%s %j', async (field, cliValue, apiValue) => {
    const before = counts();
    const fromApi = await viaDispatcher('createServer', [server(apiValue)]);
    const fromCli = await cli(serverArgs(cliValue));
    expect(fromApi).toMatchObject({ kind: 'invalid_input', fields: { [field]: expect.any(String) } });
    expect(fromCli.code).toBe(2);
    expect(fromCli.error).toEqual(fromApi);
    expect(counts()).toEqual(before);
  });

  it.each([
    ['a NUL', 'pass\u0000word'],
    ['over 1024 characters', 'p'.repeat(1025)],
  ])('a password with %s is refused when saved, by the CLI and the dispatcher alike', async (_what, pw) => {
    const before = counts();
    const fromApi = await viaDispatcher('createServer', [
      server({ name: 'pw', auth: { type: 'password', password: pw } }),
    ]);
    const fromCli = await cli(
      ['server', 'add', 'pw', '--host', '10.0.0.1', '--user', 'u', '--password-stdin'],
      pw + '\n',
    );
    expect(fromApi).toMatchObject({ kind: 'invalid_input', fields: { 'auth.password': expect.any(String) } });
    expect(fromCli.error).toEqual(fromApi);
    expect(counts()).toEqual(before);
  });

  it('accepts the edge values, normalized: ports 1 and 65535, IPv6 in brackets, zone ids, upper case names', async () => {
    const good: [Record<string, string>, { host: string; port: number }][] = [
      [
        { name: 'e1', port: '1', host: '[FD00::2]' },
        { host: 'fd00::2', port: 1 },
      ],
      [
        { name: 'e2', port: '65535', host: 'fe80::1%eth0' },
        { host: 'fe80::1%eth0', port: 65535 },
      ],
      [
        { name: 'e3', host: 'Web-1.Example.COM.' },
        { host: 'web-1.example.com', port: 22 },
      ],
      [
        { name: 'e4', host: '::ffff:10.0.0.1', port: '0022' },
        { host: '::ffff:10.0.0.1', port: 22 },
      ],
      [
        { name: 'e5', host: `${'a'.repeat(63)}.b_c.internal` },
        { host: `${'a'.repeat(63)}.b_c.internal`, port: 22 },
      ],
    ];
    for (const [args, expected] of good) {
      const r = await cli(serverArgs(args));
      expect(r, JSON.stringify(args)).toEqual({ code: 0, error: null });
      expect(service.getServer(args.name!)).toMatchObject(expected);
    }
    const viaApi = await dispatch('createServer', [
      server({ name: 'e6', host: '[::1]', port: '2222', username: 'DOMAIN\\admin', tags: ['x'.repeat(40)] }),
    ]);
    expect(viaApi).toMatchObject({ ok: true, value: { host: '::1', port: 2222, username: 'DOMAIN\\admin' } });
    const pw = 'p'.repeat(1000) + 'ü€😀\t\n';
    const withPassword = await dispatch('createServer', [
      server({ name: 'e7', auth: { type: 'password', password: pw } }),
    ]);
    expect(withPassword).toMatchObject({ ok: true });
  });
});

const job = (over: Record<string, unknown>) => ({ name: 'jb', language: 'bash', script: 'true', ...over });

describe('jobs and runs: the same rules through the CLI and the dispatcher', () => {
  const CASES: [string, string[], Record<string, unknown>][] = [
    ['timeoutSec', ['--timeout', '1e3'], { timeoutSec: '1e3' }],
    ['timeoutSec', ['--timeout', '0x10'], { timeoutSec: '0x10' }],
    ['timeoutSec', ['--timeout', '0'], { timeoutSec: 0 }],
    ['timeoutSec', ['--timeout', '604801'], { timeoutSec: 604801 }],
    ['env.0.key', ['--env', 'A B=1'], { env: [{ key: 'A B', value: '1' }] }],
    ['env.0.key', ['--env', '1A=1'], { env: [{ key: '1A', value: '1' }] }],
    ['env.0.key', ['--env', 'CRONIUM_X=1'], { env: [{ key: 'CRONIUM_X', value: '1' }] }],
    ['env.0.value', ['--env', 'A=x\u0000y'], { env: [{ key: 'A', value: 'x\u0000y' }] }],
    [
      'env.0.value',
      ['--env', `A=${'v'.repeat(131_072)}`],
      { env: [{ key: 'A', value: 'v'.repeat(131_072) }] },
    ],
    ['script', ['--script', 'echo a\u0000b'], { script: 'echo a\u0000b' }],
    [
      'defaultInput',
      ['--input', JSON.stringify('x'.repeat(1024 * 1024))],
      { defaultInput: 'x'.repeat(1024 * 1024) },
    ],
    ['tags.0', ['--tag', 'x'.repeat(41)], { tags: ['x'.repeat(41)] }],
  ];

  it.each(CASES)('%s %#', async (field, flags, apiValue) => {
    const before = counts();
    const fromApi = await viaDispatcher('createJob', [job(apiValue)]);
    const hasScript = flags.includes('--script');
    const fromCli = await cli([
      'job',
      'add',
      'jb',
      '--lang',
      'bash',
      ...(hasScript ? [] : ['--script', 'true']),
      ...flags,
    ]);
    expect(fromApi).toMatchObject({ kind: 'invalid_input', fields: { [field]: expect.any(String) } });
    expect(fromCli.error).toEqual(fromApi);
    expect(counts()).toEqual(before);
  });

  it('refuses a concurrency or page limit that is not a decimal whole number, at the dispatcher and the CLI', async () => {
    const created = await dispatch('createJob', [job({ name: 'conc' })]);
    expect(created.ok).toBe(true);
    await dispatch('createServer', [server({ name: 'conc-s' })]);
    for (const bad of ['1e3', '0x10', '0', '501', 1.5]) {
      const fromApi = await viaDispatcher('startRun', [
        { jobId: 'conc', serverIds: ['conc-s'], concurrency: bad },
      ]);
      expect(fromApi).toMatchObject({ kind: 'invalid_input', fields: { concurrency: expect.any(String) } });
      if (typeof bad === 'string') {
        const fromCli = await cli(['run', 'conc', '--on', 'conc-s', '--concurrency', bad]);
        expect(fromCli.error).toEqual(fromApi);
      }
    }
    for (const bad of ['1e2', '0', '1001']) {
      const fromApi = await viaDispatcher('queryHistory', [{ limit: bad }]);
      const fromCli = await cli(['history', '--limit', bad]);
      expect(fromApi).toMatchObject({ kind: 'invalid_input', fields: { limit: expect.any(String) } });
      expect(fromCli.error).toEqual(fromApi);
    }
    expect(service.queryHistory({}).items).toEqual([]);
  });

  it('accepts edge values: 604800 s, a 127 KiB environment value with newlines, unicode scripts', async () => {
    const r = await cli([
      'job',
      'add',
      'edge',
      '--lang',
      'python',
      '--script',
      'print("ü€😀")\r\n',
      '--timeout',
      '604800',
      '--env',
      `BIG=${'v\n'.repeat(60_000)}`,
      '--env',
      '_x9=ok',
    ]);
    expect(r).toEqual({ code: 0, error: null });
    expect(service.getJob('edge')).toMatchObject({ timeoutSec: 604800 });
  });
});

describe('variable keys: CLI, dispatcher, runtime API and bundled collection', () => {
  const db: { current?: Database } = {};
  let runtime: RuntimeServer;
  let registry: ExecutionRegistry;
  let tokens: TokenService;
  let base: string;
  const store = new Map<string, unknown>();
  const rdir = tempDir();
  const ctx = (): RuntimeContext => ({
    executionId: 'exec-v',
    jobId: 'j',
    serverId: 's',
    input: null,
    event: {},
    output: undefined,
    outputSet: false,
    condition: null,
    changes: [],
  });

  beforeAll(async () => {
    db.current = openDatabase(rdir.path);
    tokens = new TokenService(db.current, new KeyFileSecretStore(rdir.path));
    registry = new ExecutionRegistry();
    runtime = new RuntimeServer({
      tokens,
      registry,
      variables: {
        get: (k) => (store.has(k) ? { value: store.get(k) } : null),
        set: (k, v) => void store.set(k, v),
        remove: (k) => store.delete(k),
        all: () => [...store].map(([key, value]) => ({ key, value })),
      },
    });
    base = `http://127.0.0.1:${(await runtime.listen(0)).port}`;
    registry.register(ctx());
  });
  afterAll(async () => {
    await runtime.close();
    db.current?.close();
    rdir.remove();
  });

  const BAD_KEYS = [
    'k'.repeat(VARIABLE_KEY_MAX + 1),
    'k'.repeat(10_000),
    'a/b',
    'a b',
    'a\u0000b',
    'bell\u0007',
    'ключ',
    '../x',
    'a\\b',
  ];

  it.each(BAD_KEYS.map((k) => [k.length > 40 ? `${k.slice(0, 10)}…(${k.length})` : JSON.stringify(k), k]))(
    'refuses the key %s at every door with one message',
    async (_label, key) => {
      const before = counts();
      const fromApi = await viaDispatcher('setVariable', [{ key, value: 1 }]);
      const fromCli = await cli(['var', 'set', key, '1']);
      const token = await tokens.sign({ executionId: 'exec-v', jobId: 'j', serverId: 's', timeoutSec: 60 });
      const res = await fetch(`${base}/executions/exec-v/variables/${encodeURIComponent(key)}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{"value":1}',
      });
      const body = (await res.json()) as { error: string; message: string };
      expect(fromApi).toMatchObject({ kind: 'invalid_input', fields: { key: expect.any(String) } });
      expect(fromCli.error).toEqual(fromApi);
      expect(res.status).toBe(400);
      expect(body).toEqual({ success: false, error: 'invalid_input', message: fromApi!.message });
      expect(counts()).toEqual(before);
      expect(store.has(key)).toBe(false);
      // A bundled-mode script that wrote such a key anyway: not stored, said in the log.
      const collected = new Map([
        ['.cronium.changes', `set ${keyToHex(key)}\n`],
        [`.cronium.var.${keyToHex(key)}.json`, '1'],
      ]);
      const problems = await applyCollected(collected, ctx(), {
        get: () => null,
        set: (k) => store.set(k, 'collected'),
        remove: () => false,
        all: () => [],
      });
      expect(store.has(key)).toBe(false);
      expect(problems.join('\n')).toContain(fromApi!.fields!.key);
    },
  );

  it(`accepts keys up to ${VARIABLE_KEY_MAX} characters, whose bundled file names stay under 255 bytes`, async () => {
    const key = 'K'.repeat(VARIABLE_KEY_MAX - 9) + 'a.b:c-d_e';
    expect(await cli(['var', 'set', key, '{"n":1}'])).toEqual({ code: 0, error: null });
    expect(service.getVariableValue(key)).toEqual({ n: 1 });
    expect(Buffer.byteLength(`.cronium.var.${keyToHex(key)}.json`)).toBeLessThan(255);
    const token = await tokens.sign({ executionId: 'exec-v', jobId: 'j', serverId: 's', timeoutSec: 60 });
    const res = await fetch(`${base}/executions/exec-v/variables/${encodeURIComponent(key)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"value":2}',
    });
    expect(res.status).toBe(200);
    expect(store.get(key)).toBe(2);
  });
});

describe('the rules themselves', () => {
  it('CRONIUM_RUNTIME_PORT takes decimal 0–65535 only', () => {
    expect(runtimePortFromEnv({})).toBeUndefined();
    expect(runtimePortFromEnv({ CRONIUM_RUNTIME_PORT: '0' })).toBe(0);
    expect(runtimePortFromEnv({ CRONIUM_RUNTIME_PORT: '65535' })).toBe(65535);
    for (const bad of ['1e3', '0x16', '65536', '-1', ' 80', 'eighty'])
      expect(() => runtimePortFromEnv({ CRONIUM_RUNTIME_PORT: bad }), bad).toThrow(
        /CRONIUM_RUNTIME_PORT: port (is a whole number in decimal digits, 0|must be 0) \(any free port\) to 65535/,
      );
  });

  it('says why a host is refused: a port after the address, a missing bracket, user@host', () => {
    expect(normalizeHost('[fd00::2]:2222')).toEqual({ error: expect.stringMatching(/port field/) });
    expect(normalizeHost('[fd00::2')).toEqual({ error: expect.stringMatching(/closing "]"/) });
    expect(normalizeHost('me@host')).toEqual({ error: expect.stringMatching(/user separately/) });
    expect(normalizeHost('fe80::1%Eth0')).toEqual({ host: 'fe80::1%Eth0' });
  });
});

describe('nothing about a key can break a later bundled run (real host)', () => {
  it('runs in bundled mode beside a key stored before the rule, and after a script tried a key too long', async () => {
    const { service: s, close } = serviceWithHosts();
    try {
      // A key the old rules let in (a legacy database): 150 characters, 300 hex digits as a file name.
      const legacy = 'L'.repeat(150);
      withDatabase(s, (db) =>
        db
          .prepare(
            'INSERT INTO variables (key, value, secret, updated_at, updated_by) VALUES (?, ?, 0, ?, ?)',
          )
          .run(legacy, '"old"', Date.now(), 'user'),
      );
      const script =
        `cronium.setVariable ${'T'.repeat(150)} x || echo "refused: $?"\n` +
        'cronium.setVariable ok-key fine\ncronium.output "{\\"v\\":\\"$(cronium.getVariable ok-key)\\"}"';
      for (let i = 0; i < 2; i++) {
        const r = await runJob(s, { language: 'bash', script }, ['h1'], { helperMode: 'bundled' });
        expect(r.exec, r.text('h1')).toMatchObject({
          status: 'succeeded',
          helperMode: 'bundled',
          output: { v: 'fine' },
        });
        expect(r.text('h1')).toMatch(/refused: [1-9]/);
      }
      expect(
        s
          .listVariables()
          .map((v) => v.key)
          .sort(),
      ).toEqual([legacy, 'ok-key']);
      expect(s.getVariableValue(legacy)).toBe('old');
    } finally {
      await close();
    }
  }, 120_000);
});
