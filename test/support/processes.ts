/**
 * `cronium` processes of a test's own (another machine, as far as each knows: the env says its data
 * directory and team database) and the polling wait the team tests share.
 */
import { type ChildProcess, spawn } from 'node:child_process';

/**
 * Resolves once `check` holds, asking every `everyMs` (50); throws `timed out waiting for WHAT` after
 * `timeoutMs`. For conditions no event announces (a row in another process's store, a remote process).
 */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what = 'condition',
  everyMs = 50,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A `cronium` process: its stdout and stderr so far (interleaved as they came), and its exit code. */
export interface CliProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `cronium ARGS` from the sources, with exactly `env` (merge process.env in yourself when wanted). */
export function startCli(args: string[], env: NodeJS.ProcessEnv): CliProcess {
  const child = spawn(process.execPath, ['src/cli/main.ts', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** The line `cronium worker` logs once it takes executions from the queue. */
export const WORKER_READY = 'worker taking executions';

/**
 * `cronium worker --name NAME --concurrency N [...extra]`; resolves once it takes executions.
 * @throws Error with its output when it exits first or is not ready within 30 s.
 */
export async function startWorker(
  name: string,
  env: NodeJS.ProcessEnv,
  { concurrency = 2, extra = [] as string[] } = {},
): Promise<CliProcess> {
  const w = startCli(['worker', '--name', name, '--concurrency', String(concurrency), ...extra], env);
  try {
    await until(
      () => w.output().includes(WORKER_READY) || w.child.exitCode !== null,
      30_000,
      `worker ${name}`,
    );
  } catch (err) {
    w.child.kill('SIGKILL');
    throw new Error(`worker ${name} did not start: ${w.output()}`, { cause: err });
  }
  if (w.child.exitCode !== null) throw new Error(`worker ${name} exited: ${w.output()}`);
  return w;
}
