/** `cronium server add|edit|import|list|show|remove|test|trust`. */
import type { Command } from 'commander';

import type { ImportPlan } from '../../contract.ts';
import type { Server } from '../../core/domain.ts';
import { CroniumError } from '../../core/errors.ts';
import { hostPort } from '../../core/rules.ts';
import { action, exitCodeFor, type CommandContext, type Host } from '../context.ts';
import { serverLine, showServer, table } from '../format.ts';
import { out } from '../io.ts';
import { collect, firstLine, userPath } from '../parse.ts';

interface ServerOptions {
  host?: string;
  port?: string;
  user?: string;
  key?: string;
  passphraseStdin?: boolean;
  passwordStdin?: boolean;
  agent?: boolean;
  jump?: string;
  tag?: string[];
  description?: string;
  helpers?: string;
}

/** The options `add` and `edit` share. */
function serverOptions(cmd: Command): Command {
  return cmd
    .option('--host <host>', 'host name or IP address')
    .option('--port <port>', 'SSH port (default 22)')
    .option('--user <user>', 'user to log in as')
    .option('--key <path>', 'private key file (relative to this directory)')
    .option('--passphrase-stdin', "read the key's passphrase from stdin")
    .option('--password-stdin', 'read a password from stdin')
    .option('--agent', 'authenticate with ssh-agent')
    .option('--jump <server>', 'saved server to jump through')
    .option('--tag <tag>', 'a tag (repeatable)', collect)
    .option('--description <text>', 'free text')
    .option(
      '--helpers <mode>',
      "how scripts' helpers reach the app here: default (the job's mode), api, or bundled (a host without forwarding)",
    );
}

/** The auth the options ask for, or undefined when they name none; throws when they name several. */
function authFrom(
  o: Pick<ServerOptions, 'key' | 'passwordStdin' | 'passphraseStdin' | 'agent'>,
  ctx: CommandContext,
  required: boolean,
): object | undefined {
  const chosen = [o.key, o.passwordStdin, o.agent].filter(Boolean).length;
  if (chosen > 1 || (required && chosen === 0)) {
    throw new CroniumError(
      'invalid_input',
      'Choose one way to authenticate: --key PATH, --password-stdin or --agent.',
      { fields: { auth: 'choose one' } },
    );
  }
  if (o.key)
    return {
      type: 'key',
      keyPath: userPath(o.key, ctx.io.cwd),
      passphrase: o.passphraseStdin ? firstLine(ctx.io.readStdin()) : undefined,
    };
  if (o.passwordStdin) return { type: 'password', password: firstLine(ctx.io.readStdin()) };
  if (o.agent) return { type: 'agent' };
  return undefined;
}

/** An import plan as text: what each host becomes, what cannot be imported and why. */
function importText(plan: ImportPlan): string {
  const chosen = plan.servers.filter((s) => s.selected);
  let text = plan.sshConfig ? '' : 'No ssh_config file found (~/.ssh/config).\n';
  if (chosen.length)
    text += table([
      ['NAME', 'ACTION', 'ADDRESS', 'AUTH', 'JUMP', 'HOST KEY'],
      ...chosen.map((s) => [
        s.name,
        s.action === 'create' ? 'new' : s.action === 'update' ? 'updated' : 'unchanged',
        `${s.username}@${hostPort(s.host, s.port)}`,
        s.authType === 'key' ? `key ${s.keyPath}` : 'agent',
        s.jump ?? '-',
        s.hostKey
          ? `${s.hostKey.status === 'new' ? 'trusted now' : s.hostKey.status === 'trusted' ? 'already trusted' : 'differs (kept)'} ${s.hostKey.keyType}`
          : 'none (asked on first connect)',
      ]),
    ]);
  for (const s of chosen) for (const note of s.notes) text += `  ${s.name}: ${note}\n`;
  for (const s of plan.skipped) text += `Cannot import ${s.name}: ${s.reason}\n`;
  for (const note of plan.notes) text += `Note: ${note}\n`;
  const counts = (['create', 'update', 'unchanged'] as const).map(
    (a) => chosen.filter((s) => s.action === a).length,
  );
  text += `${counts[0]} new, ${counts[1]} updated, ${counts[2]} unchanged`;
  return text + (plan.applied ? '.\n' : ' (dry run: nothing was written).\n');
}

const jumpName = async (host: Host, id: string | null) => (id ? (await host.getServer(id)).name : null);

export function register(cmd: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const json = () => ctx.global();

  serverOptions(cmd.command('add').argument('<name>').description('save a server')).action(
    action(ctx, async (host, name: string, o: ServerOptions) => {
      const server = await host.createServer({
        name,
        host: o.host,
        port: o.port ?? 22,
        username: o.user,
        auth: authFrom(o, ctx, true),
        jumpServerId: o.jump ?? null,
        tags: o.tag ?? [],
        description: o.description ?? '',
        helperMode: o.helpers ?? 'default',
      } as never);
      return out(
        io,
        json(),
        server,
        () => `Saved server ${server.name} (${server.username}@${hostPort(server.host, server.port)}).\n`,
      );
    }),
  );

  serverOptions(
    cmd
      .command('edit')
      .argument('<name>')
      .description('change a saved server: only the options given change')
      .option('--name <new-name>', 'rename the server')
      .option('--no-jump', 'connect directly (no jump server)')
      .option('--clear-secret', 'remove the stored passphrase (the key has none now)'),
  ).action(
    action(
      ctx,
      async (
        host,
        name: string,
        o: Omit<ServerOptions, 'jump'> & { name?: string; jump?: string | boolean; clearSecret?: boolean },
      ) => {
        const s = await host.getServer(name);
        if (o.clearSecret && (o.passphraseStdin || o.passwordStdin))
          throw new CroniumError(
            'invalid_input',
            '--clear-secret removes the stored secret: give it without --passphrase-stdin or --password-stdin.',
            { fields: { auth: 'choose one' } },
          );
        // Left out, the auth stays as it is (a stored password or passphrase is kept).
        const auth =
          authFrom(o, ctx, false) ??
          (s.authType === 'key' ? { type: 'key', keyPath: s.keyPath } : { type: s.authType });
        if (o.clearSecret) {
          const kind = (auth as { type: string }).type;
          if (kind === 'agent')
            throw new CroniumError(
              'invalid_input',
              `--clear-secret: ${s.name} would log in with the SSH agent, which has no stored secret.`,
              { fields: { auth: 'nothing stored' } },
            );
          Object.assign(auth, kind === 'key' ? { passphrase: null } : { password: null });
        }
        const server = await host.updateServer(s.id, {
          name: o.name ?? s.name,
          host: o.host ?? s.host,
          port: o.port ?? s.port,
          username: o.user ?? s.username,
          auth,
          // --no-jump gives false; left out, commander gives true (the negation's default).
          jumpServerId: o.jump === false ? null : typeof o.jump === 'string' ? o.jump : s.jumpServerId,
          tags: o.tag ?? s.tags,
          description: o.description ?? s.description,
          helperMode: o.helpers ?? s.helperMode,
        } as never);
        return out(
          io,
          json(),
          server,
          () => `Saved server ${server.name} (${server.username}@${hostPort(server.host, server.port)}).\n`,
        );
      },
    ),
  );

  cmd
    .command('list')
    .description('list saved servers')
    .option('--tag <tag>', 'only servers with this tag (repeatable: any of them)', collect)
    .action(
      action(ctx, async (host, o: { tag?: string[] }) => {
        const servers = (await host.listServers()).filter(
          (s: Server) => !o.tag || o.tag.some((t) => s.tags.includes(t)),
        );
        const jumps: (string | null)[] = [];
        for (const s of servers) jumps.push(await jumpName(host, s.jumpServerId));
        return out(io, json(), servers, () =>
          servers.length
            ? table([
                ['NAME', 'ADDRESS', 'AUTH', 'JUMP', 'STATUS'],
                ...servers.map((s, i) => serverLine(s, jumps[i] ?? null)),
              ])
            : o.tag
              ? `No servers tagged ${o.tag.join(' or ')}.\n`
              : 'No servers yet. Add one with "cronium server add".\n',
        );
      }),
    );

  cmd
    .command('import')
    .description('import servers from ~/.ssh/config and trust their keys from known_hosts')
    .option('--ssh-config <path>', 'the ssh_config file to read (default ~/.ssh/config)')
    .option('--known-hosts <path>', 'a known_hosts file (repeatable; default: those ssh reads)', collect)
    .option('--only <pattern>', 'only Host aliases matching this pattern (repeatable)', collect)
    .option('--dry-run', 'say what would be imported; change nothing')
    .action(
      action(
        ctx,
        async (host, o: { sshConfig?: string; knownHosts?: string[]; only?: string[]; dryRun?: boolean }) => {
          const plan = await host.importServers({
            sshConfig: o.sshConfig === undefined ? undefined : userPath(o.sshConfig, io.cwd),
            knownHosts: o.knownHosts?.map((p) => userPath(p, io.cwd)),
            only: o.only ?? [],
            dryRun: o.dryRun ?? false,
          });
          return out(io, json(), plan, () => importText(plan));
        },
      ),
    );

  cmd
    .command('show')
    .argument('<name>')
    .description('one server')
    .action(
      action(ctx, async (host, name: string) => {
        const server = await host.getServer(name);
        const jump = await jumpName(host, server.jumpServerId);
        return out(io, json(), server, () => showServer(server, jump));
      }),
    );

  cmd
    .command('remove')
    .argument('<name>')
    .description('remove a server')
    .action(
      action(ctx, async (host, name: string) => {
        const server = await host.getServer(name);
        await host.removeServer(server.id);
        return out(io, json(), { removed: server.name }, () => `Removed server ${server.name}.\n`);
      }),
    );

  for (const sub of ['test', 'trust'] as const)
    cmd
      .command(sub)
      .argument('<name>')
      .description(
        sub === 'test' ? 'connect and report the OS and latency' : "connect and trust the server's host key",
      )
      .action(
        action(ctx, async (host, ref: string) => {
          const result = sub === 'test' ? await host.testServer(ref) : await host.trustHostKey(ref);
          if (json().json) io.stdout.write(JSON.stringify(result, null, 2) + '\n');
          else if (result.online)
            io.stdout.write(
              `${ref}: online — ${result.os ?? 'unknown OS'} (${result.latencyMs} ms, host key ${result.fingerprint})\n`,
            );
          else io.stderr.write(`cronium: ${result.error?.message}\n`);
          return result.online ? 0 : exitCodeFor(result.error?.kind ?? 'internal');
        }),
      );
}
