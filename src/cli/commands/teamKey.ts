/**
 * `cronium team-key new|adopt`: the team key that seals secrets in a store a team shares (issue 13;
 * src/secrets/teamKey.ts). `new` prints a fresh key on stdout only (never logged; the advice goes to
 * stderr, so `cronium team-key new > team.key` leaves just the key in the file); `adopt` re-seals a
 * local store's secrets with the key given in CRONIUM_TEAM_KEY or CRONIUM_TEAM_KEY_FILE.
 */
import type { Command } from 'commander';

import { newTeamKey, TEAM_KEY_ENV, TEAM_KEY_FILE_ENV } from '../../secrets/teamKey.ts';
import { action, type CommandContext } from '../context.ts';

const HOW_TO_HAND_OUT = `This is a new team key: base64 of 32 random bytes. Every member and worker of the store needs the
same key, and anyone who has it can open the store's secrets, so hand it out as you would a password
(a password manager's shared vault, or your secrets manager), never in chat, email or a repository.
Give it to Cronium in one of two ways:
  ${TEAM_KEY_ENV}=<key>                       in the environment of the app, CLI or worker, or
  ${TEAM_KEY_FILE_ENV}=/path/to/team.key      a file holding the key, mode 600 (chmod 600 /path/to/team.key)
A store with secrets sealed by a personal data key takes it with \`cronium team-key adopt\` (once).
`;

export function register(cmd: Command, ctx: CommandContext): void {
  const { io } = ctx;
  cmd
    .command('new')
    .description('print a fresh team key (stdout only) and how to hand it out (stderr)')
    .action(() => {
      const key = newTeamKey();
      io.stdout.write(ctx.global().json ? JSON.stringify({ key }) + '\n' : key + '\n');
      if (!ctx.global().json) io.stderr.write(HOW_TO_HAND_OUT);
      ctx.done(0);
    });
  cmd
    .command('adopt')
    .description(
      `re-seal this data directory's secrets with the team key in ${TEAM_KEY_ENV} or ${TEAM_KEY_FILE_ENV} (one transaction)`,
    )
    .action(
      action(ctx, async (host) => {
        const count = await host.adoptTeamKey();
        io.stdout.write(
          ctx.global().json
            ? JSON.stringify({ resealed: count }) + '\n'
            : `Re-sealed ${count} secret${count === 1 ? '' : 's'} with the team key; this store now needs it (${TEAM_KEY_ENV} or ${TEAM_KEY_FILE_ENV}).\n`,
        );
        return 0;
      }),
    );
}
