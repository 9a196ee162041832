/** `cronium attach <executionId>`: follows a detached (keep-running) execution again, to its end. */
import type { Command } from 'commander';

import { encodeEscaped } from '../../exec/escapedUtf8.ts';
import { action, type CommandContext, type Host } from '../context.ts';
import type { CliIo, GlobalOptions } from '../io.ts';
import { exitCodeOf } from './run.ts';

export function register(cmd: Command, ctx: CommandContext): void {
  cmd
    .argument('<executionId>', 'a detached execution: its id or a unique prefix of one')
    .action(action(ctx, async (host, ref: string) => attachCommand(host, ref, ctx.global(), ctx.io)));
}

/**
 * Prints the output the stored log is missing and then the rest as it comes (stdout and stderr as the
 * script wrote them, the app's own lines on stderr as "cronium: …"), and exits with the script's exit code
 * (as `cronium run` on one server does). Ctrl-C, SIGTERM and SIGHUP stop the remote script (exit 130, 143,
 * 129). `--json` prints the execution as recorded at the end instead of the log.
 */
async function attachCommand(service: Host, ref: string, global: GlobalOptions, io: CliIo): Promise<number> {
  const execution = await service.getExecution(ref);
  const unsubscribe = service.subscribe((event) => {
    if (global.json || event.type !== 'log' || event.chunk.executionId !== execution.id) return;
    const { chunk } = event;
    const output = chunk.stream === 'stdout' ? io.stdout : io.stderr;
    const text = chunk.stream === 'system' ? `cronium: ${chunk.text}` : encodeEscaped(chunk.text);
    if (io.outputClosed?.aborted) return;
    // A full output pauses the script's output on the SSH channel until it drains.
    if (!output.write(text))
      service.slowDown(new Promise<void>((resolve) => output.once('drain', resolve).once('close', resolve)));
  });
  let interrupted: number | null = null;
  const stopSignals = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
  const onSignal = (signal: keyof typeof stopSignals) => {
    if (interrupted === null) io.stderr.write('\ncronium: cancelling…\n');
    interrupted ??= stopSignals[signal];
    // From a signal handler, so not awaited: a cancel that fails leaves the script to end by itself.
    service.cancelRun(execution.runId).catch(() => undefined);
  };
  const names = Object.keys(stopSignals) as (keyof typeof stopSignals)[];
  for (const signal of names) process.on(signal, onSignal);
  let final;
  try {
    final = await service.attach(execution.id);
  } finally {
    for (const signal of names) process.off(signal, onSignal);
    unsubscribe();
  }
  if (global.json) io.stdout.write(JSON.stringify(final, null, 2) + '\n');
  else if (final.status !== 'succeeded')
    io.stderr.write(
      `cronium: ${final.status === 'failed' && final.errorKind === 'script_failed' ? `failed (exit ${final.exitCode})` : `${final.status}: ${final.errorMessage}`}\n`,
    );
  if (interrupted !== null && final.status !== 'succeeded') return interrupted;
  return exitCodeOf(final);
}
