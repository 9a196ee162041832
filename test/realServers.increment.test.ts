/**
 * Issue 13 item 3: `cronium.incrementVariable(key, by)` in every language and both helper modes. Parallel
 * executions on real hosts that each count once end at the number of executions (never lose a count),
 * whether they run in one process or in several CLI processes sharing the store; a value that is not a
 * number is refused (a helper error in API mode, an execution note at collect in bundled mode) and left
 * as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { keyToHex, applyCollected } from '../src/runtime/bundledCollect.ts';
import type { RuntimeContext } from '../src/runtime/executionRegistry.ts';
import { composeCore } from '../src/service/compose.ts';
import { CroniumService } from '../src/service/service.ts';
import { runCli } from './support/cli.ts';
import { runJob, serviceWithHosts, tempDir } from './support/fixtures.ts';

const MODES = ['api', 'bundled'] as const;
const LANGUAGES = ['bash', 'python', 'node'] as const;

/** A script that adds `by` to `key` once and prints what the helper returned. */
const INCREMENT = {
  bash: (key: string, by: string) => `v=$(cronium.incrementVariable ${key} ${by}) || exit 1\necho "got=$v"\n`,
  python: (key: string, by: string) =>
    `print("got=%s" % cronium.incrementVariable(${JSON.stringify(key)}, ${by}))\n`,
  node: (key: string, by: string) =>
    `console.log('got=' + cronium.incrementVariable(${JSON.stringify(key)}, ${by}));\n`,
};

describe('incrementVariable', () => {
  let service: CroniumService;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ service, close } = await serviceWithHosts({ tunnelLingerMs: 0 }));
  });
  afterAll(() => close());

  /** Starts `count` runs of one job at once (alternating hosts) and waits for all; every execution must succeed. */
  async function parallel(script: string, language: (typeof LANGUAGES)[number], mode: string, count: number) {
    const job = await service.createJob({
      name: `inc-${Math.random().toString(36).slice(2)}`,
      language,
      script,
    });
    // Started together: the increments race each other in the store.
    const runs = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        service.startRun({ jobId: job.id, serverIds: [i % 2 ? 'h2' : 'h1'], helperMode: mode }),
      ),
    );
    const executions = [];
    for (const run of runs) {
      const done = await service.waitForRun(run.id);
      for (const id of done.executionIds) executions.push(await service.getExecution(id));
    }
    for (const e of executions)
      expect(e, JSON.stringify(e)).toMatchObject({ status: 'succeeded', helperMode: mode });
    return executions;
  }

  describe.each(LANGUAGES)('%s', (language) => {
    it.each(MODES)(
      'in %s mode, 3 and then 10 executions at once each counting once end at 3 and 13',
      async (mode) => {
        const key = `count_${language}_${mode}`;
        const three = await parallel(INCREMENT[language](key, '1'), language, mode, 3);
        expect(await service.getVariableValue(key)).toBe(3);
        // "values set" shows each increment like a set, with the value that execution wrote or saw.
        for (const e of three) {
          const change = e.variableChanges.find((c) => c.key === key);
          expect(change).toMatchObject({ op: 'set', value: expect.stringMatching(/^[123]$/) });
        }
        await parallel(INCREMENT[language](key, '1'), language, mode, 10);
        expect(await service.getVariableValue(key)).toBe(13);
      },
    );

    it.each(MODES)('in %s mode adds a fraction and a negative step; integers stay integers', async (mode) => {
      const key = `frac_${language}_${mode}`;
      await service.setVariable({ key, value: 2 });
      const r = await runJob(service, { language, script: INCREMENT[language](key, '0.5') }, ['h1'], {
        helperMode: mode,
      });
      expect(r.exec.status).toBe('succeeded');
      expect(r.text('h1', 'stdout')).toBe('got=2.5\n');
      expect(await service.getVariableValue(key)).toBe(2.5);
      const back = await runJob(service, { language, script: INCREMENT[language](key, '-1.5') }, ['h1'], {
        helperMode: mode,
      });
      expect(back.text('h1', 'stdout')).toBe('got=1\n');
      expect(await service.getVariableValue(key)).toBe(1);
      expect((await service.listVariables()).find((v) => v.key === key)!.value).toBe(1);
    });

    it.each(MODES)(
      'in %s mode refuses a variable that is not a number and leaves it as it was',
      async (mode) => {
        const key = `word_${language}_${mode}`;
        await service.setVariable({ key, value: 'abc' });
        const script =
          language === 'bash'
            ? `cronium.incrementVariable ${key}; echo "rc=$?"\n`
            : language === 'python'
              ? `try:\n    cronium.incrementVariable("${key}")\nexcept cronium.CroniumAPIError as e:\n    print("refused", e.status_code, e.message)\n`
              : `try { cronium.incrementVariable('${key}'); } catch (e) { console.log('refused', e.statusCode, e.message); }\n`;
        const r = await runJob(service, { language, script }, ['h1'], { helperMode: mode });
        expect(r.exec.status).toBe('succeeded');
        const message = `variable "${key}" is not a number, so it was not incremented`;
        if (language === 'bash') {
          expect(r.text('h1', 'stdout')).toBe('rc=1\n');
          expect(r.text('h1', 'stderr')).toBe(`cronium: ${message}\n`);
        } else expect(r.text('h1', 'stdout')).toBe(`refused 400 ${message}\n`);
        expect(await service.getVariableValue(key)).toBe('abc');
        expect(r.exec.variableChanges).toEqual([]);
      },
    );

    it.each(MODES.flatMap((mode) => [0, 1].map((which) => [mode, which] as const)))(
      'in %s mode refuses a step that is not a finite number (case %i)',
      async (mode, which) => {
        const key = `step_${language}_${mode}_${which}`;
        // Not a number; and a number's text beyond a double's range (the same in API and bundled mode).
        const bad = {
          bash: ['1x', '1e400'],
          python: ['float("inf")', '10**400'],
          node: ['NaN', '"1e400"'],
        }[language][which]!;
        const script =
          language === 'bash'
            ? `cronium.incrementVariable ${key} ${bad}; echo "rc=$?"\n`
            : language === 'python'
              ? `try:\n    cronium.incrementVariable("${key}", ${bad})\nexcept cronium.CroniumAPIError as e:\n    print("refused", e.message)\n`
              : `try { cronium.incrementVariable('${key}', ${bad}); } catch (e) { console.log('refused', e.message); }\n`;
        const r = await runJob(service, { language, script }, ['h1'], { helperMode: mode });
        expect(r.text('h1', language === 'bash' ? 'stderr' : 'stdout')).toContain(
          'the increment must be a finite number',
        );
        expect((await service.listVariables()).some((v) => v.key === key)).toBe(false);
      },
    );
  });

  it('in bundled mode applies a set then increments in one run as the value the script saw', async () => {
    const key = 'set_then_inc';
    await service.setVariable({ key, value: 100 });
    const script = `cronium.setVariable ${key} 5\ncronium.incrementVariable ${key} 2\ncronium.incrementVariable ${key}\n`;
    const r = await runJob(service, { language: 'bash', script }, ['h1'], { helperMode: 'bundled' });
    expect(r.text('h1', 'stdout')).toBe('7\n8\n');
    expect(await service.getVariableValue(key)).toBe(8);
  });

  it('keeps a secret variable secret when it is incremented, in both modes', async () => {
    await service.setVariable({ key: 'secret_count', value: 40, secret: true });
    for (const mode of MODES) {
      const r = await runJob(
        service,
        { language: 'python', script: INCREMENT.python('secret_count', '1') },
        ['h1'],
        {
          helperMode: mode,
        },
      );
      expect(r.exec.status).toBe('succeeded');
      expect(r.exec.variableChanges).toEqual([{ key: 'secret_count', op: 'set', secret: true }]);
    }
    expect(await service.getVariableValue('secret_count')).toBe(42);
    expect((await service.listVariables()).find((v) => v.key === 'secret_count')).toMatchObject({
      secret: true,
      value: null,
    });
  });
});

describe('incrementVariable at collect (bundled mode)', () => {
  it('refuses an increment when the stored value stopped being a number during the run; nothing written', async () => {
    const dir = tempDir();
    const core = await composeCore({ dataDir: dir.path, keychain: null, runtimePort: 0 });
    const service = new CroniumService(core);
    try {
      await service.setVariable({ key: 'n', value: 'no longer a number' });
      const context: RuntimeContext = {
        executionId: 'exec-1',
        jobId: 'j',
        serverId: 's',
        input: null,
        event: {},
        output: undefined,
        outputSet: false,
        condition: null,
        changes: [],
      };
      // What the helpers journalled: two increments of "n" (its file holds the script's own view).
      const files = new Map([
        ['.cronium.changes', `incr ${keyToHex('n')} 1\nincr ${keyToHex('n')} 2\n`],
        [`.cronium.var.${keyToHex('n')}.json`, '3'],
      ]);
      const problems = await applyCollected(files, context, core.variables.access());
      expect(problems).toEqual([
        'cronium.incrementVariable(n): variable "n" is not a number, so it was not incremented',
      ]);
      expect(await service.getVariableValue('n')).toBe('no longer a number');
      expect(context.changes).toEqual([]);
      // A number: the sum of the run's steps is added to what is stored now, not the script's view.
      await service.setVariable({ key: 'n', value: 10 });
      expect(await applyCollected(files, context, core.variables.access())).toEqual([]);
      expect(await service.getVariableValue('n')).toBe(13);
      expect(context.changes).toEqual([{ key: 'n', op: 'set', value: '13' }]);
      // An unset key starts at 0, and the refused upsert of a failed increment left no row behind.
      const missing = new Map([['.cronium.changes', `incr ${keyToHex('fresh')} 4\n`]]);
      expect(await applyCollected(missing, context, core.variables.access())).toEqual([]);
      expect(await service.getVariableValue('fresh')).toBe(4);
    } finally {
      await service.close();
      dir.remove();
    }
  });
});

describe('incrementVariable from several CLI processes', () => {
  it.each(MODES)(
    'in %s mode: 3 `cronium run` processes at once, each counting once, end at 3',
    async (mode) => {
      const { service, dir, close } = await serviceWithHosts({ tunnelLingerMs: 0 });
      try {
        await service.createJob({ name: 'count', language: 'bash', script: INCREMENT.bash('procs', '1') });
        await service.close();
        const one = () =>
          runCli(['run', 'count', '--on', 'h1', '--helpers', mode], { CRONIUM_DATA_DIR: dir }).then(
            (r) => r.code,
          );
        expect(await Promise.all([one(), one(), one()])).toEqual([0, 0, 0]);
        const after = await CroniumService.open({ dataDir: dir, keychain: null, runtimePort: 0 });
        expect(await after.getVariableValue('procs')).toBe(3);
        await after.close();
      } finally {
        await close();
      }
    },
  );
});
