/** `cronium rerun <runId> [--failed]`: runs a past run again, streaming its output like `cronium run`. */
import type { Command } from 'commander';

import { action, type CommandContext } from '../context.ts';
import { followRun } from './run.ts';

export function register(cmd: Command, ctx: CommandContext): void {
  cmd
    .argument('<runId>', 'a run id or a unique prefix of one (see `cronium history`, `cronium show`)')
    .option('--failed', 'only the hosts that did not succeed (failed, error, timed out, cancelled)')
    .action(
      action(
        ctx,
        async (host, ref: string, o: { failed?: boolean }) =>
          followRun(host, () => host.rerun(ref, { failed: o.failed ?? false }), ctx.global(), ctx.io),
        { endEarly: true },
      ),
    );
}
