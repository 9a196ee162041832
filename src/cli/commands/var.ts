/** `cronium var list|get|set|remove`: the variables scripts read and write through the helpers. */
import type { Command } from 'commander';

import { action, type CommandContext } from '../context.ts';
import { variableRows } from '../format.ts';
import { out } from '../io.ts';
import { parseJsonOrText } from '../parse.ts';

export function register(cmd: Command, ctx: CommandContext): void {
  const { io } = ctx;
  cmd
    .command('list')
    .description('all variables (secret values hidden)')
    .action(
      action(ctx, async (host) => {
        const vars = await host.listVariables();
        return out(io, ctx.global(), vars, () => (vars.length ? variableRows(vars) : 'No variables yet.\n'));
      }),
    );
  cmd
    .command('get')
    .argument('<key>')
    .description("a variable's value: text as is, anything else as JSON")
    .action(
      action(ctx, async (host, key: string) => {
        const value = await host.getVariableValue(key);
        // Strings print raw (like the Bash helper), everything else as JSON.
        io.stdout.write(
          ctx.global().json || typeof value !== 'string' ? JSON.stringify(value) + '\n' : value + '\n',
        );
        return 0;
      }),
    );
  cmd
    .command('set')
    .argument('<key>')
    .argument(
      '<value>',
      'JSON, or else text (quote text with spaces: "hello world"); "-" reads it from stdin (for a secret: it stays out of shell history and ps)',
    )
    .option('--secret', 'keep it secret (masked in logs, hidden in lists)')
    .description('set a variable')
    .action(
      action(ctx, async (host, key: string, raw: string, o: { secret?: boolean }) => {
        // From stdin: the whole input, less one final newline (a JSON value may span lines).
        const given = raw === '-' ? io.readStdin().replace(/\r?\n$/, '') : raw;
        const variable = await host.setVariable({
          key,
          value: parseJsonOrText(given),
          secret: o.secret ?? false,
        });
        return out(io, ctx.global(), variable, () => `Set ${variable.key}.\n`);
      }),
    );
  cmd
    .command('remove')
    .argument('<key>')
    .description('remove a variable')
    .action(
      action(ctx, async (host, key: string) => {
        await host.removeVariable(key);
        return out(io, ctx.global(), { removed: key }, () => `Removed ${key}.\n`);
      }),
    );
}
