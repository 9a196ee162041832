/**
 * `cronium tool add|list|remove`: the credentials tool actions are sent with (Slack and Discord incoming
 * webhooks, an SMTP server). Secrets (a webhook's URL, the SMTP password) come on stdin, never on the
 * command line, and are never printed again.
 */
import type { Command } from 'commander';

import type { ToolCredential } from '../../core/domain.ts';
import { CroniumError } from '../../core/errors.ts';
import { action, type CommandContext } from '../context.ts';
import { table, when } from '../format.ts';
import { out } from '../io.ts';
import { firstLine } from '../parse.ts';

interface ToolOptions {
  type?: string;
  webhookUrlStdin?: boolean;
  host?: string;
  port?: string;
  secure?: boolean;
  user?: string;
  passwordStdin?: boolean;
  from?: string;
}

/** The contract's input for `add`, from the options (secrets read from stdin). */
function toolInput(name: string, o: ToolOptions, ctx: CommandContext): object {
  const refuse = (message: string, field: string) =>
    new CroniumError('invalid_input', message, { fields: { [field]: message } });
  if (o.type === 'slack' || o.type === 'discord') {
    for (const [given, option] of [
      [o.host, '--host'],
      [o.port, '--port'],
      [o.secure, '--secure'],
      [o.user, '--user'],
      [o.passwordStdin, '--password-stdin'],
      [o.from, '--from'],
    ] as const)
      if (given !== undefined) throw refuse(`${option} is for --type email only`, option);
    if (!o.webhookUrlStdin)
      throw refuse(
        `give the webhook's URL on stdin with --webhook-url-stdin (it is a secret: never on the command line)`,
        'webhookUrl',
      );
    return { type: o.type, name, webhookUrl: firstLine(ctx.io.readStdin()) };
  }
  if (o.type === 'email') {
    if (o.webhookUrlStdin) throw refuse('--webhook-url-stdin is for --type slack or discord', 'webhookUrl');
    return {
      type: 'email',
      name,
      host: o.host,
      port: o.port ?? 587,
      secure: o.secure,
      user: o.user,
      password: o.passwordStdin ? firstLine(ctx.io.readStdin()) : undefined,
      from: o.from,
    };
  }
  // Anything else goes to the contract, which names the allowed types in its message.
  return { type: o.type, name };
}

function toolRows(tools: ToolCredential[]): string {
  return table([
    ['NAME', 'TYPE', 'WHERE', 'ADDED'],
    ...tools.map((t) => [t.name, t.type, t.summary, when(t.createdAt)]),
  ]);
}

export function register(cmd: Command, ctx: CommandContext): void {
  const { io } = ctx;
  cmd
    .command('add')
    .argument('<name>')
    .description('store the credentials of a tool scripts may use (the newest of each type is used)')
    .requiredOption('--type <type>', 'slack, discord or email')
    .option('--webhook-url-stdin', "slack, discord: read the incoming webhook's URL from stdin")
    .option('--host <host>', 'email: the SMTP server')
    .option('--port <port>', 'email: its port (default 587; 465 means TLS from the start)')
    .option('--secure', 'email: TLS from the start (SMTPS; the default on port 465)')
    .option('--user <user>', 'email: the SMTP login')
    .option('--password-stdin', "email: read the SMTP login's password from stdin")
    .option('--from <address>', 'email: the sender address')
    .action(
      action(ctx, async (host, name: string, o: ToolOptions) => {
        const tool = await host.createTool(toolInput(name, o, ctx) as never);
        return out(
          io,
          ctx.global(),
          tool,
          () => `Stored ${tool.type} credentials "${tool.name}" (${tool.summary}).\n`,
        );
      }),
    );
  cmd
    .command('list')
    .description('the stored tool credentials (never their secrets)')
    .action(
      action(ctx, async (host) => {
        const tools = await host.listTools();
        return out(io, ctx.global(), tools, () =>
          tools.length ? toolRows(tools) : 'No tools yet: add one with "cronium tool add".\n',
        );
      }),
    );
  cmd
    .command('remove')
    .argument('<name>')
    .description('remove stored tool credentials')
    .action(
      action(ctx, async (host, name: string) => {
        await host.removeTool(name);
        return out(io, ctx.global(), { removed: name }, () => `Removed ${name}.\n`);
      }),
    );
}
