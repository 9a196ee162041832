/**
 * Issue 8 case 8: helper results over the old 1 MiB body limit. One set of limits (src/runtime/
 * helperRules.ts: output 16 MiB, a variable's value 1 MiB) with the same outcome in API and bundled mode,
 * in each language; a refused helper in Bash leaves a `cronium: <reason>` line in the log, even inside a
 * pipeline or a command substitution. Also: increments in API mode are atomic across executions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MAX_OUTPUT_BYTES, MAX_VARIABLE_BYTES } from '../src/runtime/helperRules.ts';
import type { CroniumService } from '../src/service/service.ts';
import { runJob, serviceWithHosts } from './support/fixtures.ts';

const MODES = ['api', 'bundled'] as const;
const OUT_LIMIT = `over the limit of ${MAX_OUTPUT_BYTES} bytes (16 MiB)`;
const VAR_LIMIT = `over the limit of ${MAX_VARIABLE_BYTES} bytes (1 MiB)`;

/** 2 MB of output (the case) and 18 MB (over the limit), in each language. */
const BIG = {
  python: (rows: number) => `cronium.output({"rows": ["x" * 100] * ${rows}})\nprint("after")\n`,
  node: (rows: number) =>
    `cronium.output({ rows: Array(${rows}).fill('x'.repeat(100)) });\nconsole.log('after');\n`,
  bash: (rows: number) =>
    `row=$(printf 'x%.0s' $(seq 100))\n{ printf '{"rows":['; yes "\\"$row\\"" | head -n ${rows} | paste -sd, -; printf ']}'; } | cronium.output\necho "after rc=$?"\n`,
};

describe('helper limits, the same in both modes', () => {
  let service: CroniumService;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ service, close } = await serviceWithHosts({ tunnelLingerMs: 0 }));
  });
  afterAll(async () => close());

  describe.each(['python', 'node', 'bash'] as const)('%s', (language) => {
    it.each(MODES)('in %s mode stores a 2 MB output', async (mode) => {
      const r = await runJob(service, { language, script: BIG[language](20_000) }, ['h1'], {
        helperMode: mode,
      });
      expect(r.text('h1', 'stderr')).toBe('');
      expect(r.exec).toMatchObject({ status: 'succeeded', helperMode: mode });
      const rows = (r.exec.output as { rows: string[] }).rows.filter(Boolean);
      expect(rows).toHaveLength(20_000);
      expect(rows[0]).toBe('x'.repeat(100));
    });

    it('refuses an output over 16 MiB with the same outcome in API and bundled mode', async () => {
      const outcomes = [];
      for (const mode of MODES) {
        const r = await runJob(service, { language, script: BIG[language](170_000) }, ['h1'], {
          helperMode: mode,
        });
        const stderr = r.text('h1', 'stderr');
        expect(stderr).toMatch(new RegExp(`the output is \\d+ bytes, ${OUT_LIMIT.replace(/[()]/g, '\\$&')}`));
        expect(r.exec.output).toBeNull();
        outcomes.push({
          status: r.exec.status,
          exitCode: r.exec.exitCode,
          stdout: r.text('h1', 'stdout'),
          reason: /the output is \d+ bytes[^\n]*/.exec(stderr)![0],
        });
      }
      expect(outcomes[1]).toEqual(outcomes[0]);
      if (language === 'bash') {
        // Bash: the helper fails (a line in the log), the script goes on and decides.
        expect(outcomes[0]!.stdout).toBe('after rc=1\n');
        expect(outcomes[0]!.status).toBe('succeeded');
      } else {
        // Python and Node.js: CroniumAPIError ends the script, as any uncaught error.
        expect(outcomes[0]).toMatchObject({ status: 'failed', exitCode: 1, stdout: '' });
      }
    });

    it('refuses a variable value over 1 MiB in both modes, and keeps one under it', async () => {
      const scripts = {
        python: `cronium.setVariable("lim-ok", "y" * 1000000)\ntry:\n    cronium.set_variable("lim-big", "y" * 1100000)\nexcept cronium.CroniumAPIError as e:\n    print(e.status_code, e)\n`,
        node: `cronium.setVariable('lim-ok', 'y'.repeat(1000000));\ntry { cronium.setVariable('lim-big', 'y'.repeat(1100000)); } catch (e) { console.log(e.statusCode + ' ' + e.message); }\n`,
        bash: `cronium.setVariable lim-ok "$(head -c 1000000 /dev/zero | tr '\\0' y)"\nv=$(head -c 1100000 /dev/zero | tr '\\0' y)\nr=$(cronium_set_variable lim-big "$v" && echo set)\necho "413 [$r]"\n`,
      };
      for (const mode of MODES) {
        for (const key of ['lim-ok', 'lim-big'])
          if ((await service.listVariables()).some((v) => v.key === key)) await service.removeVariable(key);
        const r = await runJob(service, { language, script: scripts[language] }, ['h1'], {
          helperMode: mode,
        });
        expect(r.exec.status).toBe('succeeded');
        if (language === 'bash') {
          expect(r.text('h1', 'stdout')).toBe('413 []\n');
          expect(r.text('h1', 'stderr')).toBe(`cronium: the variable value is 1100000 bytes, ${VAR_LIMIT}\n`);
        } else {
          expect(r.text('h1', 'stdout')).toBe(`413 the variable value is 1100002 bytes, ${VAR_LIMIT}\n`);
        }
        expect(((await service.getVariableValue('lim-ok')) as string).length).toBe(1_000_000);
        expect((await service.listVariables()).some((v) => v.key === 'lim-big')).toBe(false);
      }
    });
  });

  it('in bundled mode, an output file over the limit is left on the host and said in the log', async () => {
    // Fault injection: the file is written behind the helpers' back, so only the collector can catch it.
    const script = `head -c 17000000 /dev/zero | tr '\\0' x > "$CRONIUM_WORK_DIR/.cronium.output.json"\necho written\n`;
    const r = await runJob(service, { language: 'bash', script }, ['h1'], { helperMode: 'bundled' });
    expect(r.exec.output).toBeNull();
    expect(r.text('h1')).toContain(
      `cronium: the output is 17000000 bytes, ${OUT_LIMIT}, so it was not recorded`,
    );
  });

  it('increments atomically in API mode: four executions at once lose no count', async () => {
    await service.setVariable({ key: 'hits', value: 0 });
    const script = 'for i in $(seq 25); do cronium_increment_variable hits > /dev/null || exit 1; done';
    const job = await service.createJob({ name: 'hits', language: 'bash', script });
    const runs = [
      await service.startRun({ jobId: job.id, serverIds: ['h1', 'h2'], helperMode: 'api' }),
      await service.startRun({ jobId: job.id, serverIds: ['h1', 'h2'], helperMode: 'api' }),
    ];
    for (const run of runs) {
      const done = await service.waitForRun(run.id);
      for (const id of done.executionIds) expect((await service.getExecution(id)).status).toBe('succeeded');
    }
    expect(await service.getVariableValue('hits')).toBe(100);
  });
});
