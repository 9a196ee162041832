/**
 * Issue 15: scripts written for the Cronium platform run here unchanged. Each script of
 * test/cronium-corpus/ (written in Cronium's style: its templates, its docs page's examples for every
 * helper in the three languages, its runner's helper tests, its SDKs) runs on a real host in API mode and
 * in bundled mode, from the same variables and input; both must record the same results, and the results
 * must be what the script means.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Execution } from '../src/core/domain.ts';
import type { CroniumService } from '../src/service/service.ts';
import { hosts, serviceWithHosts } from './support/fixtures.ts';

const LANGUAGES = { py: 'python', js: 'node', sh: 'bash' } as const;
const TYPES = { python: 'PYTHON', node: 'NODEJS', bash: 'BASH' } as const;

interface Recorded {
  exec: Execution;
  stdout: string;
  stderr: string;
  /** Final values of the variables the case names (undefined: not set). */
  vars: Record<string, unknown>;
  job: { id: string; name: string };
}

interface Case {
  input?: unknown;
  vars?: Record<string, unknown>;
  /** Variables to read back after the run, besides those in `vars`. */
  watch?: string[];
  check: (r: Recorded, language: 'python' | 'node' | 'bash') => void;
}

const address = () => hosts().hosts.h1.address;

const CASES: Record<string, Case> = {
  template: {
    input: { user_id: 'u-7', items: [1, 2] },
    check: (r) => {
      expect(r.exec.output).toMatchObject({
        success: true,
        processed_input: { user_id: 'u-7', items: [1, 2] },
        calculation_result: 42,
      });
      expect(r.stdout).toContain('No API key set');
    },
  },
  'docs-input': {
    check: (r) => {
      expect(r.exec.output).toEqual({ user_id: 'unknown', message: 'Hello World', config: {} });
      expect(r.stdout).toContain('Processing message: Hello World');
    },
  },
  'docs-output': {
    check: (r) => {
      expect(r.exec.output).toEqual({
        success: true,
        message: 'Data processed successfully',
        data: { processed_items: 42, total_time: '2.5s', errors: [] },
        next_action: 'send_notification',
      });
    },
  },
  'docs-variables': {
    vars: { EXAMPLE_API_KEY: 'k-123', COUNTER: '4' },
    watch: ['LAST_PROCESSED', 'REDIS_HOST'],
    check: (r) => {
      expect(r.exec.output).toEqual({ key: 'k-123', redis: 'localhost', counter: '5' });
      expect(String(r.vars.COUNTER)).toBe('5');
      expect(r.vars.LAST_PROCESSED).toBe('2025-06-17T10:30:00Z');
      expect(r.vars.REDIS_HOST).toBeUndefined();
      expect(r.stdout).toContain('Processing count: 5');
    },
  },
  'docs-conditions': {
    input: { threshold: 100 },
    check: (r, language) => {
      // The Python and Bash examples process 150, the Node.js one 50.
      expect(r.exec.condition).toBe(language !== 'node');
      expect(r.stdout).toContain(language === 'node' ? 'within threshold' : 'exceeds threshold 100');
    },
  },
  'docs-event': {
    check: (r, language) => {
      expect(r.exec.output).toEqual({
        id: r.job.id,
        name: r.job.name,
        type: TYPES[language],
        runLocation: 'REMOTE',
        eventName: r.job.name,
        userId: userInfo().username,
      });
      expect(r.stdout).toContain(`Running on server: h1 (${address()})`);
      expect(r.stdout).toContain('Success Count: 0');
      expect(r.stdout).toMatch(/Event Name: corpus-docs-event/);
    },
  },
  'docs-complete': {
    input: { items: [1, 2, 3, -1] },
    vars: { TOTAL_PROCESSED: '10' },
    check: (r, language) => {
      expect(String(r.vars.TOTAL_PROCESSED)).toBe('13');
      expect(r.exec.condition).toBe(false);
      expect(r.stdout).toContain('Processed 3 items with 1 errors');
      if (language === 'bash') {
        // bc prints ".75", which is not JSON: Cronium's SDK records such text as a string, and so do we.
        expect(typeof r.exec.output).toBe('string');
        expect(r.exec.output).toContain('"processed_count": 3');
      } else {
        const rate = language === 'python' ? 'success_rate' : 'successRate';
        expect(r.exec.output).toMatchObject({ success: false, [rate]: 0.75 });
      }
    },
  },
  sdk: {
    vars: { sdk_runs: 2, sdk_count: 10 },
    watch: ['sdk_huge', 'sdk_tags', 'sdk_log', 'sdk_gone'],
    check: (r, language) => {
      expect(r.exec.condition).toBe(true);
      expect(r.vars.sdk_runs).toBe(3);
      expect(r.vars.sdk_huge).toBeUndefined();
      if (language === 'bash') {
        expect(r.exec.output).toBe(`Hello from ${r.job.name}`);
        expect(r.stdout).toBe(`event ${r.job.name} (BASH) on ${address()}; count 16; yes/yes\n`);
        expect(r.vars.sdk_count).toBe(16);
        expect(r.vars.sdk_log).toBe('first,second');
        expect(r.vars.sdk_gone).toBeUndefined();
        return;
      }
      expect(r.exec.output).toMatchObject({
        runs_before: 2,
        refused: 413,
        timeout_is_error: true,
        type: TYPES[language],
        input: {},
      });
      if (language === 'python') {
        expect(r.exec.output).toMatchObject({ tags: ['a', 'b'], bad_condition: 'CroniumAPIError' });
        expect(r.vars.sdk_tags).toEqual(['a', 'b']);
      } else expect(r.exec.output).toMatchObject({ condition: true });
    },
  },
  'runner-helpers': {
    input: { name: 'test', value: 42, config: { host: 'localhost', port: 8080 } },
    vars: { API_KEY: 'secret123', DEBUG: 'true' },
    watch: ['NEW_VAR', 'COUNTER'],
    check: (r) => {
      expect(r.stdout).toContain('Name: test, Value: 42, Host: localhost\n');
      expect(r.stdout).toContain('API_KEY: secret123, DEBUG: true\n');
      expect(r.stdout).toContain(`Event: ${r.job.id} - ${r.job.name}\n`);
      expect(r.stdout).toContain('missing:[]\n');
      expect(r.exec.output).toEqual({ name: 'test', value: 42 });
      expect(r.vars.NEW_VAR).toBe('test_value');
      expect(r.vars.COUNTER).toBe(42);
    },
  },
  'sdk-examples': {
    input: ['a', 'b', 'c'],
    watch: ['counter', 'config', 'last_run'],
    check: (r, language) => {
      expect(r.exec.output).toEqual({
        processed: true,
        count: 3,
        config: { mode: 'test', debug: true },
        items_processed: 3,
      });
      expect(r.exec.condition).toBe(true);
      expect(r.vars.counter).toBe(2);
      expect(r.vars.config).toEqual({ mode: 'test', debug: true });
      expect(typeof r.vars.last_run).toBe('string');
      expect(r.stdout).toContain(`Event Type: ${TYPES[language]}\nVariable not found\n`);
    },
  },
  'runner-output': {
    check: (r) => {
      expect(r.exec.output).toEqual({ result: 'success', count: 100, nested: { ok: true } });
      expect(r.stdout).toBe('Output saved\n');
    },
  },
};

const FILES = Object.keys(CASES).flatMap((name) =>
  (['py', 'js', 'sh'] as const)
    .map((ext) => `${name}.${ext}`)
    .filter((file) => {
      try {
        readFileSync(new URL(`./cronium-corpus/${file}`, import.meta.url));
        return true;
      } catch {
        return false;
      }
    }),
);

/** What must be identical between the two modes: volatile values (ids, times) replaced by their role. */
function comparable(r: Recorded) {
  const ids: [string, string][] = [
    [r.exec.id, '<execution>'],
    [r.exec.runId, '<run>'],
    [r.job.id, '<job>'],
  ];
  const scrub = (text: string) =>
    ids
      .reduce((t, [id, role]) => t.split(id).join(role), text)
      .replace(/\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)?/g, '<time>');
  const dropTimes = (value: unknown): unknown =>
    typeof value === 'string'
      ? scrub(value)
      : Array.isArray(value)
        ? value.map(dropTimes)
        : value && typeof value === 'object'
          ? Object.fromEntries(
              Object.entries(value)
                .filter(([k]) => k !== 'timestamp')
                .map(([k, v]) => [k, dropTimes(v)]),
            )
          : value;
  return {
    status: r.exec.status,
    exitCode: r.exec.exitCode,
    output: dropTimes(r.exec.output),
    condition: r.exec.condition,
    changes: r.exec.variableChanges.map((c) => `${c.op} ${c.key}`).sort(),
    vars: dropTimes(r.vars),
    stdout: scrub(r.stdout),
    stderr: scrub(r.stderr),
  };
}

describe('scripts written for Cronium run unchanged, the same in API and bundled mode', () => {
  let service: CroniumService;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ service, close } = await serviceWithHosts({ tunnelLingerMs: 0 }));
  });
  afterAll(async () => close());

  /** Runs a corpus file as a fresh job (no history) from the case's variables and input. */
  async function record(file: string, mode: 'api' | 'bundled'): Promise<Recorded> {
    const [name, ext] = file.split('.') as [string, keyof typeof LANGUAGES];
    const spec = CASES[name]!;
    for (const v of await service.listVariables()) await service.removeVariable(v.key);
    for (const [key, value] of Object.entries(spec.vars ?? {})) await service.setVariable({ key, value });
    const script = readFileSync(new URL(`./cronium-corpus/${file}`, import.meta.url), 'utf8');
    const job = await service.createJob({ name: `corpus-${name}`, language: LANGUAGES[ext], script });
    try {
      const run = await service.startRun({
        jobId: job.id,
        serverIds: ['h1'],
        helperMode: mode,
        ...(spec.input === undefined ? {} : { input: spec.input }),
      });
      const done = await service.waitForRun(run.id);
      const exec = await service.getExecution(done.executionIds[0]!);
      const log = await service.readLog(exec.id, -1, 1_000_000);
      const text = (stream: string) =>
        log
          .filter((c) => c.stream === stream)
          .map((c) => c.text)
          .join('');
      const keys = new Set([...Object.keys(spec.vars ?? {}), ...(spec.watch ?? [])]);
      const present = new Set((await service.listVariables()).map((v) => v.key));
      const vars = Object.fromEntries(
        await Promise.all(
          [...keys]
            .sort()
            .map(async (k) => [k, present.has(k) ? await service.getVariableValue(k) : undefined]),
        ),
      );
      return {
        exec,
        stdout: text('stdout'),
        stderr: text('stderr'),
        vars,
        job: { id: job.id, name: job.name },
      };
    } finally {
      await service.removeJob(job.id);
    }
  }

  it.each(FILES)('%s', async (file) => {
    const [name, ext] = file.split('.') as [string, keyof typeof LANGUAGES];
    const api = await record(file, 'api');
    const bundled = await record(file, 'bundled');
    expect(api.exec.helperMode).toBe('api');
    expect(bundled.exec.helperMode).toBe('bundled');
    for (const r of [api, bundled]) {
      expect(r.stderr).toBe('');
      expect(r.exec.status).toBe('succeeded');
      CASES[name]!.check(r, LANGUAGES[ext]);
    }
    expect(comparable(bundled)).toEqual(comparable(api));
  });

  it.each(['api', 'bundled'] as const)(
    'in %s mode the event carries the job record from the history store',
    async (mode) => {
      const script = `import sys\nmode = cronium.input().get("exit", 0)\ncronium.output(cronium.event())\nsys.exit(mode)\n`;
      const job = await service.createJob({ name: `history-${mode}`, language: 'python', script });
      const runOnce = async (exit: number) => {
        const run = await service.startRun({
          jobId: job.id,
          serverIds: ['h1'],
          helperMode: mode,
          input: { exit },
        });
        const done = await service.waitForRun(run.id);
        return service.getExecution(done.executionIds[0]!);
      };
      const first = await runOnce(0);
      expect(first.output).toMatchObject({ successCount: 0, failureCount: 0, lastRunAt: null });
      await runOnce(3);
      const third = await runOnce(0);
      const fourth = await runOnce(0);
      expect(fourth.output).toMatchObject({
        id: job.id,
        eventId: job.id,
        type: 'PYTHON',
        eventType: 'PYTHON',
        successCount: 2,
        failureCount: 1,
        lastRunAt: new Date(third.startedAt).toISOString(),
        metadata: { runId: fourth.runId, trigger: 'manual', attempt: 1, serverName: 'h1' },
        server: { name: 'h1', address: address() },
      });
      const event = fourth.output as { startTime: string; startedAt: string };
      expect(event.startTime).toBe(event.startedAt);
    },
  );
});
