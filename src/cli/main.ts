#!/usr/bin/env node
/** The `cronium` command line: the headless door to the same service facade the desktop app uses. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { CONNECTION_KINDS, CroniumError, toErrorValue } from '../core/errors.ts';
import { resolveDataDir } from '../core/paths.ts';
import { hostPort, runtimePortFromEnv } from '../core/rules.ts';
import { decodeScriptFile } from '../exec/scriptText.ts';
import { DEFAULT_RUNTIME_PORT } from '../runtime/runtimeServer.ts';
import { CroniumService } from '../service/service.ts';
import { historyRows, serverLine, showJob, showServer, table, variableRows } from './format.ts';
import { runCommand } from './runCommand.ts';
import { serveCommand } from './serveCommand.ts';
import { OPTIONS, type CliIo, type CliValues } from './io.ts';
import { showCommand } from './showCommand.ts';

export type { CliIo, CliValues } from './io.ts';

const USAGE = `cronium — run scripts on your SSH servers

Usage:
  cronium server add <name> --host H [--port P] --user U (--key PATH [--passphrase-stdin] | --password-stdin | --agent) [--jump NAME] [--tag T]... [--description TEXT]
  cronium server list | show <name> | remove <name> | test <name> | trust <name>
  cronium job add <name> --lang bash|python|node (--file PATH | --script TEXT) [--timeout SEC] [--env K=V]... [--secret-env K[=V]]... [--helpers auto|api|bundled] [--input JSON] [--on S1,S2]
  cronium job list | show <name> | remove <name>
  cronium run <job> [--on S1[,S2...]] [--input JSON] [--helpers auto|api|bundled] [--concurrency N]
  cronium history [--job J] [--server S] [--status S] [--limit N]
  cronium show <executionId>
  cronium var list | get <key> | set <key> <json-or-text> [--secret] | remove <key>
  cronium serve [--port P]          the app in your browser, on 127.0.0.1 only
  cronium doctor                    data directory, secret store in use and why, SQLite, runtime port

Every command takes --data-dir DIR (or CRONIUM_DATA_DIR) and --json.
Exit codes of run: the script's own for one server; for several, 0 when all succeeded, else 1;
255 for connection, authentication and host-key failures; 124 for a timeout.
`;

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

/**
 * Exit code when a reader closes the CLI's output early (`cronium show ID --json | head -c 300`): what a
 * shell reports for coreutils killed by SIGPIPE (128 + 13). Node ignores SIGPIPE, so the CLI exits quietly
 * with this code itself; a `run` is cancelled first (its remote processes end, as on Ctrl-C).
 */
export const CLOSED_OUTPUT_EXIT = 141;

/** The exit code for a failed write to stdout or stderr: EPIPE as SIGPIPE would give, else 1. */
export function outputErrorExit(err: unknown): number {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'EPIPE' ? CLOSED_OUTPUT_EXIT : 1;
}

/**
 * Handles write errors on the CLI's outputs (an unhandled 'error' event would print a stack trace): the
 * returned signal aborts with the first error as its reason. EPIPE stays quiet; another error (a full disk
 * behind stdout) is said once on stderr.
 */
function watchOutputs(io: CliIo): AbortSignal {
  const controller = new AbortController();
  for (const stream of [io.stdout, io.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (controller.signal.aborted) return;
      controller.abort(err);
      if (err.code !== 'EPIPE' && stream !== io.stderr)
        io.stderr.write(`cronium: cannot write the output: ${err.message}\n`);
    });
  }
  return controller.signal;
}

const defaultIo: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  readStdin: () => readFileSync(0, 'utf8'),
  env: process.env,
};

/** Runs one command and returns its exit code. */
export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const outputClosed = watchOutputs(io);
  const code = await command(argv, { ...io, outputClosed });
  return outputClosed.aborted ? outputErrorExit(outputClosed.reason) : code;
}

async function command(argv: string[], io: CliIo): Promise<number> {
  let values: CliValues;
  let positionals: string[];
  try {
    ({ values, positionals } = parse(argv));
  } catch (err) {
    io.stderr.write(`cronium: ${(err as Error).message}\nRun "cronium --help" for usage.\n`);
    return 2;
  }
  if (values.help || positionals.length === 0) {
    (positionals.length === 0 && !values.help ? io.stderr : io.stdout).write(USAGE);
    return positionals.length === 0 && !values.help ? 2 : 0;
  }

  let service: CroniumService | null = null;
  try {
    // Browser mode asks before trusting a new host key (the UI shows the fingerprint); the CLI accepts new
    // keys like OpenSSH's accept-new.
    const serving = positionals[0] === 'serve';
    service = new CroniumService({
      dataDir: resolveDataDir(values['data-dir'], io.env),
      unknownHostKeys: serving ? 'ask' : 'accept-new',
      appMode: 'web',
      runtimePort: runtimePortFromEnv(io.env),
    });
    return await dispatch(service, positionals, values, io);
  } catch (err) {
    const error = toErrorValue(err);
    if (values.json) io.stderr.write(JSON.stringify({ error }) + '\n');
    else {
      io.stderr.write(`cronium: ${error.message}\n`);
      if (error.fields && Object.keys(error.fields).length > 1)
        for (const [f, m] of Object.entries(error.fields)) io.stderr.write(`  ${f}: ${m}\n`);
    }
    return exitCodeFor(error.kind);
  } finally {
    await service?.close();
  }
}

function exitCodeFor(kind: string): number {
  if (CONNECTION_KINDS.has(kind as never)) return 255;
  if (kind === 'invalid_input' || kind === 'not_found' || kind === 'conflict') return 2;
  return 1;
}

function need(value: string | undefined, what: string): string {
  if (!value)
    throw new CroniumError('invalid_input', `${what} is required.`, { fields: { [what]: 'required' } });
  return value;
}

function parseJsonOption(text: string, field: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CroniumError('invalid_input', `--${field} is not valid JSON: ${(err as Error).message}`, {
      fields: { [field]: 'not valid JSON' },
    });
  }
}

function out(io: CliIo, values: CliValues, json: unknown, text: () => string): number {
  io.stdout.write(values.json ? JSON.stringify(json, null, 2) + '\n' : text());
  return 0;
}

async function dispatch(
  service: CroniumService,
  [command, sub, ...rest]: string[],
  values: CliValues,
  io: CliIo,
): Promise<number> {
  switch (command) {
    case 'server':
      return serverCommand(service, sub, rest, values, io);
    case 'job':
      return jobCommand(service, sub, rest, values, io);
    case 'run':
      return runCommand(service, need(sub, 'job'), values, io);
    case 'history': {
      const page = service.queryHistory({
        jobId: values.job ? service.getJob(values.job).id : undefined,
        serverId: values.server ? service.getServer(values.server).id : undefined,
        status: values.status,
        limit: values.limit ?? 50,
      });
      return out(io, values, page.items, () =>
        page.items.length ? historyRows(page.items) : 'No executions yet.\n',
      );
    }
    case 'show':
      return showCommand(service, need(sub, 'executionId'), values.json ?? false, io);
    case 'var':
      return varCommand(service, sub, rest, values, io);
    case 'serve':
      return serveCommand(service, values, io);
    case 'doctor':
      return doctorCommand(service, values, io);
    default:
      throw new CroniumError(
        'invalid_input',
        `Unknown command "${command}". Run "cronium --help" for usage.`,
      );
  }
}

/**
 * `cronium doctor`: what this installation uses. Exit 1 when the secret store cannot be used (the
 * report still says why).
 */
function doctorCommand(service: CroniumService, values: CliValues, io: CliIo): number {
  const doctor = service.doctor();
  const { secretStore } = doctor;
  const report = { ...doctor, runtimePort: runtimePortFromEnv(io.env) ?? DEFAULT_RUNTIME_PORT };
  out(io, values, report, () =>
    [
      `data directory  ${report.dataDir}`,
      'error' in secretStore
        ? `secret store    unusable: ${secretStore.error}`
        : `secret store    ${secretStore.kind} (${secretStore.location}): ${secretStore.reason}`,
      `sqlite          ${report.sqliteVersion}`,
      `runtime port    127.0.0.1:${report.runtimePort}${report.runtimePort === 0 ? ' (any free port)' : ''}`,
      '',
    ].join('\n'),
  );
  return 'error' in secretStore ? 1 : 0;
}

async function serverCommand(
  service: CroniumService,
  sub: string | undefined,
  [name]: string[],
  values: CliValues,
  io: CliIo,
): Promise<number> {
  const jumpName = (id: string | null) => (id ? service.getServer(id).name : null);
  switch (sub) {
    case 'add': {
      const chosen = [values.key, values['password-stdin'], values.agent].filter(Boolean).length;
      if (chosen !== 1)
        throw new CroniumError(
          'invalid_input',
          'Choose one way to authenticate: --key PATH, --password-stdin or --agent.',
          { fields: { auth: 'choose one' } },
        );
      const auth = values.key
        ? {
            type: 'key',
            keyPath: values.key,
            passphrase: values['passphrase-stdin'] ? firstLine(io.readStdin()) : undefined,
          }
        : values['password-stdin']
          ? { type: 'password', password: firstLine(io.readStdin()) }
          : { type: 'agent' };
      const server = service.createServer({
        name: need(name, 'name'),
        host: values.host,
        port: values.port ?? 22,
        username: values.user,
        auth,
        jumpServerId: values.jump ?? null,
        tags: values.tag ?? [],
        description: values.description ?? '',
      });
      return out(
        io,
        values,
        server,
        () => `Saved server ${server.name} (${server.username}@${hostPort(server.host, server.port)}).\n`,
      );
    }
    case 'list': {
      const servers = service.listServers();
      return out(io, values, servers, () =>
        servers.length
          ? table([
              ['NAME', 'ADDRESS', 'AUTH', 'JUMP', 'STATUS'],
              ...servers.map((s) => serverLine(s, jumpName(s.jumpServerId))),
            ])
          : 'No servers yet. Add one with "cronium server add".\n',
      );
    }
    case 'show': {
      const server = service.getServer(need(name, 'name'));
      return out(io, values, server, () => showServer(server, jumpName(server.jumpServerId)));
    }
    case 'remove': {
      const server = service.getServer(need(name, 'name'));
      service.removeServer(server.id);
      return out(io, values, { removed: server.name }, () => `Removed server ${server.name}.\n`);
    }
    case 'test':
    case 'trust': {
      const ref = need(name, 'name');
      const result = sub === 'test' ? await service.testServer(ref) : await service.trustHostKey(ref);
      if (values.json) io.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else if (result.online)
        io.stdout.write(
          `${ref}: online — ${result.os ?? 'unknown OS'} (${result.latencyMs} ms, host key ${result.fingerprint})\n`,
        );
      else io.stderr.write(`cronium: ${result.error?.message}\n`);
      return result.online ? 0 : exitCodeFor(result.error?.kind ?? 'internal');
    }
    default:
      throw new CroniumError(
        'invalid_input',
        `Unknown server command "${sub ?? ''}": use add, list, show, remove, test or trust.`,
      );
  }
}

async function jobCommand(
  service: CroniumService,
  sub: string | undefined,
  [name]: string[],
  values: CliValues,
  io: CliIo,
): Promise<number> {
  switch (sub) {
    case 'add': {
      if (Boolean(values.file) === Boolean(values.script))
        throw new CroniumError('invalid_input', 'Give the script with either --file PATH or --script TEXT.', {
          fields: { script: 'choose one' },
        });
      let script = values.script;
      if (values.file) {
        let bytes: Buffer;
        try {
          bytes = readFileSync(values.file);
        } catch (err) {
          throw new CroniumError('invalid_input', `Cannot read ${values.file}: ${(err as Error).message}`, {
            fields: { file: 'cannot be read' },
          });
        }
        // UTF-16 (with its byte-order mark) as Windows editors save it; line endings are normalized at run time.
        script = decodeScriptFile(bytes, values.file);
      }
      const env = [
        ...(values.env ?? []).map((pair) => ({ ...splitPair(pair, '--env'), secret: false })),
        ...(values['secret-env'] ?? []).map((pair) => ({ ...splitSecretPair(pair, io.env), secret: true })),
      ];
      const job = service.createJob({
        name: need(name, 'name'),
        language: values.lang,
        script,
        timeoutSec: values.timeout ?? 3600,
        env,
        defaultInput: values.input === undefined ? null : parseJsonOption(values.input, 'input'),
        defaultServerIds: values.on
          ? values.on
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : [],
        helperMode: values.helpers ?? 'auto',
        tags: values.tag ?? [],
      });
      return out(
        io,
        values,
        job,
        () => `Saved job ${job.name} (${job.language}, timeout ${job.timeoutSec}s).\n`,
      );
    }
    case 'list': {
      const jobs = service.listJobs();
      return out(io, values, jobs, () =>
        jobs.length
          ? table([
              ['NAME', 'LANGUAGE', 'TIMEOUT', 'HELPERS'],
              ...jobs.map((j) => [j.name, j.language, `${j.timeoutSec}s`, j.helperMode]),
            ])
          : 'No jobs yet. Add one with "cronium job add".\n',
      );
    }
    case 'show': {
      const job = service.getJob(need(name, 'name'));
      return out(io, values, job, () =>
        showJob(
          job,
          job.defaultServerIds.map((id) => service.getServer(id).name),
        ),
      );
    }
    case 'remove': {
      const job = service.getJob(need(name, 'name'));
      service.removeJob(job.id);
      return out(io, values, { removed: job.name }, () => `Removed job ${job.name} (its history is kept).\n`);
    }
    default:
      throw new CroniumError(
        'invalid_input',
        `Unknown job command "${sub ?? ''}": use add, list, show or remove.`,
      );
  }
}

async function varCommand(
  service: CroniumService,
  sub: string | undefined,
  [key, raw]: string[],
  values: CliValues,
  io: CliIo,
): Promise<number> {
  switch (sub) {
    case 'list': {
      const vars = service.listVariables();
      return out(io, values, vars, () => (vars.length ? variableRows(vars) : 'No variables yet.\n'));
    }
    case 'get': {
      const value = service.getVariableValue(need(key, 'key'));
      // Strings print raw (like the Bash helper), everything else as JSON.
      io.stdout.write(values.json || typeof value !== 'string' ? JSON.stringify(value) + '\n' : value + '\n');
      return 0;
    }
    case 'set': {
      if (raw === undefined)
        throw new CroniumError('invalid_input', 'Give a value: cronium var set <key> <json-or-text>.', {
          fields: { value: 'required' },
        });
      const variable = service.setVariable({
        key: need(key, 'key'),
        value: parseLoose(raw),
        secret: values.secret ?? false,
      });
      return out(io, values, variable, () => `Set ${variable.key}.\n`);
    }
    case 'remove': {
      service.removeVariable(need(key, 'key'));
      return out(io, values, { removed: key }, () => `Removed ${key}.\n`);
    }
    default:
      throw new CroniumError(
        'invalid_input',
        `Unknown var command "${sub ?? ''}": use list, get, set or remove.`,
      );
  }
}

/** JSON when it parses as JSON, else the text itself as a string. */
function parseLoose(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function firstLine(text: string): string {
  return text.replace(/\r?\n$/, '').split(/\r?\n/)[0] ?? '';
}

function splitPair(pair: string, flag: string): { key: string; value: string } {
  const at = pair.indexOf('=');
  if (at <= 0)
    throw new CroniumError('invalid_input', `${flag} takes KEY=VALUE, got "${pair}".`, {
      fields: { env: 'KEY=VALUE' },
    });
  return { key: pair.slice(0, at), value: pair.slice(at + 1) };
}

/** --secret-env K=V, or --secret-env K to take the value from this shell's environment (kept out of history). */
function splitSecretPair(pair: string, env: NodeJS.ProcessEnv): { key: string; value: string } {
  if (pair.includes('=')) return splitPair(pair, '--secret-env');
  const value = env[pair];
  if (value === undefined)
    throw new CroniumError('invalid_input', `--secret-env ${pair}: ${pair} is not set in this environment.`, {
      fields: { env: `${pair} is not set` },
    });
  return { key: pair, value };
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
  // Output still queued when the command returned can fail later (the reader went away meanwhile).
  for (const stream of [process.stdout, process.stderr])
    stream.once('error', (err) => (process.exitCode = outputErrorExit(err)));
}
