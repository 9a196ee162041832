/** `cronium job add|edit|list|show|remove`. */
import { readFileSync } from 'node:fs';

import type { Command } from 'commander';

import type { JobInput } from '../../contract.ts';
import { CHAIN_EVENTS, type ChainEvent, type ChainLink, type Job } from '../../core/domain.ts';
import { CroniumError } from '../../core/errors.ts';
import { parseParamSpec } from '../../core/rules.ts';
import { decodeScriptFile } from '../../exec/scriptText.ts';
import { action, type CommandContext, type Host } from '../context.ts';
import { showJob, table } from '../format.ts';
import { out, type CliIo } from '../io.ts';
import {
  collect,
  firstLine,
  parseJsonOption,
  splitList,
  splitPair,
  splitSecretPair,
  userPath,
} from '../parse.ts';

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
  onSuccess?: string[];
  onFailure?: string[];
  onCondition?: string[];
  /** false for --no-chain. */
  chain?: boolean;
  desktopNotify?: string;
  /** A URL, "-" to read it from stdin, or false for --no-webhook. */
  webhook?: string | boolean;
  notify?: string;
  param?: string[];
  keepRunning?: boolean;
  via?: string;
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
    .option(
      '--via <where>',
      'where its runs go when `cronium run` does not say: direct (the default) or workers (team mode)',
    )
    .option('--input <json>', 'default input')
    .option('--on <servers>', 'default servers, comma-separated')
    .option('--tag <tag>', 'a tag (repeatable)', collect)
    .option(
      '--on-success <job[:own]>',
      'run this job after each execution that succeeds (repeatable)',
      collect,
    )
    .option('--on-failure <job[:own]>', 'run this job after each execution that fails (repeatable)', collect)
    .option(
      '--on-condition <job[:own]>',
      'run this job after each execution whose script set its condition to true (repeatable)',
      collect,
    )
    .option('--desktop-notify <when>', 'desktop notifications in the app: never, failure or always')
    .option('--webhook <url>', 'POST a JSON summary of each run to this URL ("-": read it from stdin)')
    .option('--notify <when>', 'when the webhook is sent: failure (default) or always')
    .option(
      '--param <spec>',
      "a parameter: 'name:type[=default][ # description]', type string, number, boolean or choice(a|b) (repeatable)",
      collect,
    )
    .option('--keep-running', 'the script outlives a lost connection or a closed app (cronium attach)')
    .option('--no-keep-running', 'the script ends with its connection (the default)');
}

const CHAIN_FLAGS: Record<ChainEvent, keyof JobOptions> = {
  success: 'onSuccess',
  failure: 'onFailure',
  condition: 'onCondition',
};

/**
 * `--on-success NAME[:same|:own]`… as chain links: `:own` runs the job on its own default servers, the
 * default (`:same`) on the server of the execution that ended. Each event given replaces that event's
 * links (from `base`); `--no-chain` clears them all first. Undefined when no chain option is given.
 */
function chainFrom(o: JobOptions, base: ChainLink[]): JobInput['chain'] {
  const given = CHAIN_EVENTS.filter((on) => o[CHAIN_FLAGS[on]] !== undefined);
  if (given.length === 0 && o.chain !== false) return undefined;
  const kept = o.chain === false ? [] : base.filter((l) => !given.includes(l.on));
  const added = given.flatMap((on) =>
    (o[CHAIN_FLAGS[on]] as string[]).map((text) => {
      const at = text.lastIndexOf(':');
      const target = at < 0 ? 'same' : text.slice(at + 1);
      if (target !== 'same' && target !== 'own')
        throw new CroniumError('invalid_input', `--on-${on} takes JOB, JOB:same or JOB:own, got "${text}".`, {
          fields: { chain: 'JOB[:same|:own]' },
        });
      return { on, jobId: at < 0 ? text : text.slice(0, at), servers: target } as const;
    }),
  );
  return [...kept, ...added];
}

/**
 * --webhook/--notify as the contract's webhook: undefined when neither is given (kept), null for
 * --no-webhook, the URL read from stdin for "-" (so a token stays out of shell history and `ps`).
 */
function webhookFrom(o: JobOptions, io: CliIo, current: Job['webhook']): JobInput['webhook'] {
  // Commander's default for a --no-webhook declared before --webhook is true: not given.
  const given = o.webhook === true ? undefined : o.webhook;
  if (given === false) return null;
  if (given === undefined && o.notify === undefined) return undefined;
  if (given === undefined && !current)
    throw new CroniumError('invalid_input', '--notify needs a webhook: give --webhook URL.', {
      fields: { notify: 'needs --webhook' },
    });
  const url = given === '-' ? firstLine(io.readStdin()).trim() : given;
  return {
    url: url ?? null,
    notify: (o.notify ?? current?.notify ?? 'failure') as 'failure' | 'always',
  };
}

/** --param specs as the contract's parameters (each checked as it is read), or undefined for none. */
const paramsFrom = (o: JobOptions) => o.param?.map(parseParamSpec);

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
const serverIds = async (host: Host, on: string) => {
  const ids: string[] = [];
  for (const ref of splitList(on)) ids.push((await host.getServer(ref)).id);
  return ids;
};

const saved = (job: Job) => `Saved job ${job.name} (${job.language}, timeout ${job.timeoutSec}s).\n`;

export function register(cmd: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const global = () => ctx.global();

  jobOptions(cmd.command('add').argument('<name>').description('save a job')).action(
    action(ctx, async (host, name: string, o: JobOptions) => {
      const script = scriptFrom(o, io);
      if (script === undefined)
        throw new CroniumError('invalid_input', 'Give the script with either --file PATH or --script TEXT.', {
          fields: { script: 'choose one' },
        });
      const job = await host.createJob({
        name,
        language: o.lang,
        script,
        timeoutSec: o.timeout ?? 3600,
        env: envFrom(o, io) ?? [],
        defaultInput: o.input === undefined ? null : parseJsonOption(o.input, 'input'),
        defaultServerIds: o.on ? await serverIds(host, o.on) : [],
        helperMode: o.helpers ?? 'auto',
        keepRunning: o.keepRunning ?? false,
        defaultVia: o.via,
        tags: o.tag ?? [],
        chain: chainFrom(o, []) ?? [],
        desktopNotify: o.desktopNotify ?? 'never',
        webhook: webhookFrom(o, io, null) ?? null,
        params: paramsFrom(o) ?? [],
      } as never);
      return out(io, global(), job, () => saved(job));
    }),
  );

  jobOptions(
    cmd
      .command('edit')
      .argument('<name>')
      .description('change a saved job: only the options given change')
      .option('--name <new-name>', 'rename the job')
      .option('--no-chain', 'remove every chain link (before adding those given)')
      .option('--no-webhook', 'remove the webhook'),
  ).action(
    action(ctx, async (host, name: string, o: JobOptions & { name?: string }) => {
      const j = await host.getJob(name);
      const job = await host.updateJob(j.id, {
        name: o.name ?? j.name,
        language: o.lang ?? j.language,
        script: scriptFrom(o, io) ?? j.script,
        timeoutSec: o.timeout ?? j.timeoutSec,
        // Secret values come back as null, which keeps the stored value.
        env: envFrom(o, io) ?? j.env,
        defaultInput: o.input === undefined ? j.defaultInput : parseJsonOption(o.input, 'input'),
        defaultServerIds: o.on === undefined ? j.defaultServerIds : await serverIds(host, o.on),
        helperMode: o.helpers ?? j.helperMode,
        keepRunning: o.keepRunning ?? j.keepRunning,
        // Left out, kept as stored.
        defaultVia: o.via,
        tags: o.tag ?? j.tags,
        // Left out (undefined), the chain and notices are kept as stored.
        chain: chainFrom(o, j.chain),
        desktopNotify: o.desktopNotify,
        webhook: webhookFrom(o, io, j.webhook),
        // Like --env, --param replaces the whole list.
        params: paramsFrom(o) ?? j.params,
      } as never);
      return out(io, global(), job, () => saved(job));
    }),
  );

  cmd
    .command('list')
    .description('list saved jobs')
    .option('--tag <tag>', 'only jobs with this tag (repeatable: any of them)', collect)
    .action(
      action(ctx, async (host, o: { tag?: string[] }) => {
        const jobs = (await host.listJobs()).filter((j) => !o.tag || o.tag.some((t) => j.tags.includes(t)));
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
      action(ctx, async (host, name: string) => {
        const job = await host.getJob(name);
        const servers: string[] = [];
        for (const id of job.defaultServerIds) servers.push((await host.getServer(id)).name);
        const jobs = await host.listJobs();
        return out(io, global(), job, () =>
          showJob(job, servers, (id) => jobs.find((other) => other.id === id)?.name ?? id),
        );
      }),
    );

  cmd
    .command('remove')
    .argument('<name>')
    .description('remove a job (its history is kept)')
    .action(
      action(ctx, async (host, name: string) => {
        const job = await host.getJob(name);
        const { unlinkedFrom } = await host.removeJob(job.id);
        return out(
          io,
          global(),
          { removed: job.name, unlinkedFrom },
          () =>
            `Removed job ${job.name} (its history is kept).\n` +
            (unlinkedFrom.length ? `Removed the chain links to it from ${unlinkedFrom.join(', ')}.\n` : ''),
        );
      }),
    );
}
