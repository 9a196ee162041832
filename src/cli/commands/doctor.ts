/**
 * `cronium doctor`: what this installation uses. Exit 1 when the secret store cannot be used (the report
 * still says why).
 */
import type { Command } from 'commander';

import { runtimePortFromEnv } from '../../core/rules.ts';
import { DEFAULT_RUNTIME_PORT } from '../../runtime/runtimeServer.ts';
import { action, type CommandContext } from '../context.ts';
import { out } from '../io.ts';

export function register(cmd: Command, ctx: CommandContext): void {
  cmd.action(
    action(ctx, async (host) => {
      const { io } = ctx;
      const report = {
        ...(await host.doctor()),
        runtimePort: runtimePortFromEnv(io.env) ?? DEFAULT_RUNTIME_PORT,
      };
      const { secretStore } = report;
      out(io, ctx.global(), report, () =>
        [
          `data directory  ${report.dataDir}`,
          'error' in secretStore
            ? `secret store    unusable: ${secretStore.error}`
            : `secret store    ${secretStore.kind} (${secretStore.location}): ${secretStore.reason}`,
          `database        ${report.database.engine} ${report.database.version} (${report.database.location})`,
          `runtime port    127.0.0.1:${report.runtimePort}${report.runtimePort === 0 ? ' (any free port)' : ''}`,
          '',
        ].join('\n'),
      );
      return 'error' in secretStore ? 1 : 0;
    }),
  );
}
