import { once } from 'node:events';

import type { Command } from 'commander';

import type { LogChunk, Run } from '../../core/domain.ts';
import { action, type CommandContext, type Host } from '../context.ts';
import { CroniumError } from '../../core/errors.ts';
import { showExecution, showRunOverview } from '../format.ts';
import type { CliIo } from '../io.ts';

/** Log chunks read per page: a chunk holds at most a batch (~256 K characters), so a page stays a few MB. */
const PAGE_CHUNKS = 16;

export function register(cmd: Command, ctx: CommandContext): void {
  cmd
    .argument('[executionId]', 'an execution id or a unique prefix of one')
    .option('--run <runId>', "a run at a glance: each host's status and the groups of identical output")
    .action(
      action(ctx, async (host, ref: string | undefined, o: { run?: string }) => {
        const json = ctx.global().json ?? false;
        if (o.run !== undefined && ref !== undefined)
          throw new CroniumError('invalid_input', 'Give either an execution id or --run RUN, not both.');
        if (o.run !== undefined) return showRun(host, o.run, json, ctx.io);
        if (ref === undefined)
          throw new CroniumError(
            'invalid_input',
            "Missing required argument 'executionId' (or --run RUN for a whole run).",
          );
        return showCommand(host, ref, json, ctx.io);
      }),
    );
}

/**
 * `cronium show --run <runId>`: each host's status and the groups of hosts with identical stdout. `--json`:
 * `{ run, executions, groups }`, each group with the `servers` that share one output.
 */
async function showRun(service: Host, ref: string, json: boolean, io: CliIo): Promise<number> {
  const overview = await service.getRunOverview(ref);
  await put(io, json ? JSON.stringify(overview, null, 2) + '\n' : showRunOverview(overview));
  return 0;
}

/**
 * `cronium show <executionId>`: the execution and its whole log. The log is read and written page by page,
 * waiting whenever stdout is full, so a log of any size takes little memory, and a reader that goes away
 * (`| head`) stops the reading. `--json` prints what JSON.stringify(value, null, 2) would, in pieces.
 */
async function showCommand(service: Host, ref: string, json: boolean, io: CliIo): Promise<number> {
  const execution = await service.getExecution(ref);
  // Its run: the trigger, the parent execution of a chained run, and how its notices went.
  const run = await service.getRun(execution.runId);
  if (json) {
    const head = JSON.stringify({ ...execution, run }, null, 2);
    await put(io, `${head.slice(0, head.lastIndexOf('\n}'))},\n  "log": [`);
    let first = true;
    for await (const chunk of chunks(service, execution.id, io)) {
      await put(io, `${first ? '' : ','}\n    ${JSON.stringify(chunk, null, 2).replaceAll('\n', '\n    ')}`);
      first = false;
    }
    await put(io, first ? ']\n}\n' : '\n  ]\n}\n');
    return 0;
  }
  await put(io, showExecution(execution, run, await scheduleLabel(service, run)) + '--- log ---\n');
  for await (const chunk of chunks(service, execution.id, io))
    await put(io, chunk.stream === 'system' ? `[cronium] ${chunk.text}` : chunk.text);
  return 0;
}

/** The schedule that fired a run, for its trigger line: ` (nightly)`, or '' for a run no schedule fired. */
async function scheduleLabel(service: Host, run: Run): Promise<string> {
  if (!run.scheduleId) return '';
  try {
    return ` (${(await service.getSchedule(run.scheduleId)).name})`;
  } catch {
    return ` (${run.scheduleId.slice(0, 8)}, removed)`;
  }
}

async function* chunks(service: Host, executionId: string, io: CliIo): AsyncGenerator<LogChunk> {
  let after = -1;
  for (;;) {
    if (io.outputClosed?.aborted) return;
    const page = await service.readLog(executionId, after, PAGE_CHUNKS);
    yield* page;
    if (page.length < PAGE_CHUNKS) return;
    after = page[page.length - 1]!.seq;
  }
}

/** Writes to stdout; when its buffer is full, waits until it drains (or closes). */
async function put(io: CliIo, text: string): Promise<void> {
  if (io.outputClosed?.aborted || io.stdout.write(text)) return;
  // One waiter per event, all removed once any fires (no listeners pile up over a long log).
  const done = new AbortController();
  const wait = (event: string) => once(io.stdout, event, { signal: done.signal }).catch(() => {});
  const waits = [wait('drain'), wait('close')];
  if (io.outputClosed)
    waits.push(
      once(io.outputClosed, 'abort', { signal: done.signal }).then(
        () => {},
        () => {},
      ),
    );
  await Promise.race(waits);
  done.abort();
}
