/** `cronium job add|edit|list|show|remove`. */
import { readFileSync } from 'node:fs';

import type { Command } from 'commander';

import type { Job } from '../../core/domain.ts';
import { CroniumError } from '../../core/errors.ts';
import { decodeScriptFile } from '../../exec/scriptText.ts';
import { action, type CommandContext, type Host } from '../context.ts';
import { showJob, table } from '../format.ts';
import { out, type CliIo } from '../io.ts';
import { collect, parseJsonOption, splitList, splitPair, splitSecretPair, userPath } from '../parse.ts';

interface JobOptions {
  lang?: string;
  file?: string;
  script?: string;
  timeout?: string;
  env?: string[];
  secretEnv?: string[];
  helpers?: string;
  input?: string;
  on?: string;
  tag?: string[];
  keepRunning?: boolean;
}

/** The options `add` and `edit` share. */
function jobOptions(cmd: Command): Command {
  return cmd
    .option('--lang <language>', 'bash, python or node')
    .option('--file <path>', 'read the script from a file (relative to this directory)')
    .option('--script <text>', 'the script itself')
    .option('--timeout <seconds>', 'time limit per server (default 3600)')
    .option('--env <KEY=VALUE>', 'an environment variable (repeatable)', collect)
    .option(
      '--secret-env <KEY[=VALUE]>',
      'a secret one; KEY alone takes it from this shell (repeatable)',
      collect,
    )
    .option('--helpers <mode>', 'auto, api or bundled')
    .option('--input <json>', 'default input')
    .option('--on <servers>', 'default servers, comma-separated')
    .option('--tag <tag>', 'a tag (repeatable)', collect)
    .option('--keep-running', 'the script outlives a lost connection or a closed app (cronium attach)')
    .option('--no-keep-running', 'the script ends with its connection (the default)');
}

/** The script the options give (--file read and decoded, or --script), or undefined for neither. */
function scriptFrom(o: JobOptions, io: CliIo): string | undefined {
  if (o.file && o.script !== undefined)
    throw new CroniumError('invalid_input', 'Give the script with either --file PATH or --script TEXT.', {
      fields: { script: 'choose one' },
    });
  if (!o.file) return o.script;
  const path = userPath(o.file, io.cwd);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new CroniumError('invalid_input', `Cannot read ${o.file}: ${(err as Error).message}`, {
      fields: { file: 'cannot be read' },
    });
  }
  // UTF-16 (with its byte-order mark) as Windows editors save it; line endings are normalized at run time.
  return decodeScriptFile(bytes, o.file);
}

/** --env and --secret-env as the contract's env entries, or undefined when neither is given. */
function envFrom(o: JobOptions, io: CliIo) {
  if (!o.env && !o.secretEnv) return undefined;
  return [
    ...(o.env ?? []).map((pair) => ({ ...splitPair(pair, '--env'), secret: false })),
    ...(o.secretEnv ?? []).map((pair) => ({ ...splitSecretPair(pair, io.env), secret: true })),
  ];
}

/** --on's server names as ids (a name that is not saved is refused as "No server named …"). */
const serverIds = (host: Host, on: string) => splitList(on).map((ref) => host.getServer(ref).id);

const saved = (job: Job) => `Saved job ${job.name} (${job.language}, timeout ${job.timeoutSec}s).\n`;

export function register(cmd: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const global = () => ctx.global();

  jobOptions(cmd.command('add').argument('<name>').description('save a job')).action(
    action(ctx, (host, name: string, o: JobOptions) => {
      const script = scriptFrom(o, io);
      if (script === undefined)
        throw new CroniumError('invalid_input', 'Give the script with either --file PATH or --script TEXT.', {
          fields: { script: 'choose one' },
        });
      const job = host.createJob({
        name,
        language: o.lang,
        script,
        timeoutSec: o.timeout ?? 3600,
        env: envFrom(o, io) ?? [],
        defaultInput: o.input === undefined ? null : parseJsonOption(o.input, 'input'),
        defaultServerIds: o.on ? serverIds(host, o.on) : [],
        helperMode: o.helpers ?? 'auto',
        keepRunning: o.keepRunning ?? false,
        tags: o.tag ?? [],
      } as never);
      return out(io, global(), job, () => saved(job));
    }),
  );

  jobOptions(
    cmd
      .command('edit')
      .argument('<name>')
      .description('change a saved job: only the options given change')
      .option('--name <new-name>', 'rename the job'),
  ).action(
    action(ctx, (host, name: string, o: JobOptions & { name?: string }) => {
      const j = host.getJob(name);
      const job = host.updateJob(j.id, {
        name: o.name ?? j.name,
        language: o.lang ?? j.language,
        script: scriptFrom(o, io) ?? j.script,
        timeoutSec: o.timeout ?? j.timeoutSec,
        // Secret values come back as null, which keeps the stored value.
        env: envFrom(o, io) ?? j.env,
        defaultInput: o.input === undefined ? j.defaultInput : parseJsonOption(o.input, 'input'),
        defaultServerIds: o.on === undefined ? j.defaultServerIds : serverIds(host, o.on),
        helperMode: o.helpers ?? j.helperMode,
        keepRunning: o.keepRunning ?? j.keepRunning,
        tags: o.tag ?? j.tags,
      } as never);
      return out(io, global(), job, () => saved(job));
    }),
  );

  cmd
    .command('list')
    .description('list saved jobs')
    .option('--tag <tag>', 'only jobs with this tag (repeatable: any of them)', collect)
    .action(
      action(ctx, (host, o: { tag?: string[] }) => {
        const jobs = host.listJobs().filter((j) => !o.tag || o.tag.some((t) => j.tags.includes(t)));
        return out(io, global(), jobs, () =>
          jobs.length
            ? table([
                ['NAME', 'LANGUAGE', 'TIMEOUT', 'HELPERS'],
                ...jobs.map((j) => [j.name, j.language, `${j.timeoutSec}s`, j.helperMode]),
              ])
            : 'No jobs yet. Add one with "cronium job add".\n',
        );
      }),
    );

  cmd
    .command('show')
    .argument('<name>')
    .description('one job and its script')
    .action(
      action(ctx, (host, name: string) => {
        const job = host.getJob(name);
        return out(io, global(), job, () =>
          showJob(
            job,
            job.defaultServerIds.map((id) => host.getServer(id).name),
          ),
        );
      }),
    );

  cmd
    .command('remove')
    .argument('<name>')
    .description('remove a job (its history is kept)')
    .action(
      action(ctx, (host, name: string) => {
        const job = host.getJob(name);
        host.removeJob(job.id);
        return out(
          io,
          global(),
          { removed: job.name },
          () => `Removed job ${job.name} (its history is kept).\n`,
        );
      }),
    );
}
