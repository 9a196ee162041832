/** `cronium history`: past executions, newest first. */
import type { Command } from 'commander';

import type { HistoryQuery } from '../../contract.ts';

import { action, type CommandContext } from '../context.ts';
import { historyRows } from '../format.ts';
import { out } from '../io.ts';

export function register(cmd: Command, ctx: CommandContext): void {
  cmd
    .option('--job <job>', 'only this job')
    .option('--server <server>', 'only this server')
    .option(
      '--status <status>',
      'only this status (succeeded, failed, error, timed_out, cancelled, …; not_succeeded: any but succeeded)',
    )
    .option(
      '--search <text>',
      'only executions whose job, server, error, id or starter (user@machine) contains each word',
    )
    .option('--limit <n>', 'at most N executions (default 50)')
    .action(
      action(
        ctx,
        async (
          host,
          o: { job?: string; server?: string; status?: string; search?: string; limit?: string },
        ) => {
          const page = await host.queryHistory({
            jobId: o.job ? (await host.getJob(o.job)).id : undefined,
            serverId: o.server ? (await host.getServer(o.server)).id : undefined,
            // The service holds the value to the status rule (invalid_input naming the field).
            status: o.status as HistoryQuery['status'],
            text: o.search,
            limit: o.limit ?? 50,
          });
          return out(ctx.io, ctx.global(), page.items, () =>
            page.items.length
              ? historyRows(page.items)
              : o.status || o.search || o.job || o.server
                ? 'No executions match.\n'
                : 'No executions yet.\n',
          );
        },
      ),
    );
}
