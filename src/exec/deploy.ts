import { CroniumError } from '../core/errors.ts';
import type { RemoteBundle } from '../remote/assets.ts';
import { MAX_OUTPUT_BYTES, MAX_VARIABLE_BYTES } from '../runtime/helperRules.ts';
import type { SshConnection } from '../ssh/sshConnection.ts';
import { heredocFile, randomToken } from './shell.ts';

/** Hashes known to be on the host behind a connection, so warm executions skip the check. */
const deployed = new WeakMap<SshConnection, Set<string>>();

function runnerDir(bundle: RemoteBundle): string {
  return `"$HOME/.cronium/runner/${bundle.hash}"`;
}

/** Forgets that the host behind `connection` has this runner (it was found missing). */
export function markStale(connection: SshConnection, bundle: RemoteBundle): void {
  deployed.get(connection)?.delete(bundle.hash);
}

/** Whether this connection already found (or put) this runner on its host. */
export function isDeployed(connection: SshConnection, bundle: RemoteBundle): boolean {
  return deployed.get(connection)?.has(bundle.hash) ?? false;
}

/** Takes it as known that the host behind `connection` has this runner (see DeployRecord). */
export function markDeployed(connection: SshConnection, bundle: RemoteBundle): void {
  const known = deployed.get(connection) ?? new Set<string>();
  known.add(bundle.hash);
  deployed.set(connection, known);
}

/**
 * The command that starts the runner for one execution. sshd hands it to the user's login shell, which may
 * be bash, zsh, fish or csh: so it is one plain command every one of them reads the same way (`exec`, a
 * single-quoted program, double-quoted $HOME). Whether the runner really started is told by its "ready"
 * control line, not by this command; when the runner's file is missing, the command says so with a
 * "no_runner" control line: the one case where the runner certainly did not start (and may be deployed
 * again and retried). The runner is sourced (`.`) rather than started, to spare a process.
 */
export function launchCommand(bundle: RemoteBundle, executionId: string, nonce: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(executionId) || !/^[a-f0-9]+$/.test(nonce))
    throw new Error('unsafe runner arguments');
  const program = `if [ -f "$0" ]; then . "$0"; fi; printf "\\036cronium:%s:no_runner\\n" "$2" >&2; exit 254`;
  return `exec sh -c '${program}' "$HOME/.cronium/runner/${bundle.hash}/runner.sh" ${executionId} ${nonce}`;
}

/**
 * Bundled mode: the command that prints what the helpers left in the work directory (see collect.sh),
 * framed by control lines with this nonce so that a login shell's output around it is never taken for it.
 */
export function collectCommand(bundle: RemoteBundle, executionId: string, nonce: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(executionId) || !/^[a-f0-9]+$/.test(nonce))
    throw new Error('unsafe runner arguments');
  // The collector leaves behind what is over the helpers' limits (src/runtime/helperRules.ts).
  return `exec sh "$HOME/.cronium/runner/${bundle.hash}/collect.sh" ${executionId} ${nonce} ${MAX_OUTPUT_BYTES} ${MAX_VARIABLE_BYTES}`;
}

/**
 * The command that ends what is left of an execution's script (see stop.sh): for a background job that
 * still holds the output after the script exited, when the runner's control channel is already closed.
 */
export function stopCommand(bundle: RemoteBundle, executionId: string, graceSec: number): string {
  if (!/^[A-Za-z0-9-]+$/.test(executionId)) throw new Error('unsafe runner arguments');
  return `exec sh "$HOME/.cronium/runner/${bundle.hash}/stop.sh" ${executionId} ${Math.max(0, Math.round(graceSec))}`;
}

/** A control line "\x1ecronium:<nonce>:<word>" as a shell command (printf), for commands the app parses. */
export function markerCommand(nonce: string, word: string, toStderr = false): string {
  return `printf '\\036cronium:%s:%s\\n' ${nonce} ${word}${toStderr ? ' >&2' : ''}`;
}

/** The text after the control line "\x1ecronium:<nonce>:<word>\n", or null when it is not there. */
export function afterMarker(text: string, nonce: string, word: string): string | null {
  const marker = `\x1ecronium:${nonce}:${word}\n`;
  const at = text.indexOf(marker);
  return at < 0 ? null : text.slice(at + marker.length);
}

/** The bytes between the control lines with words `begin` and `end` (the last of those), or null. */
export function between(data: Buffer, nonce: string, begin: string, end: string): Buffer | null {
  const head = Buffer.from(`\x1ecronium:${nonce}:${begin}\n`);
  const from = data.indexOf(head);
  const to = data.lastIndexOf(Buffer.from(`\x1ecronium:${nonce}:${end}\n`));
  return from < 0 || to < from + head.length ? null : data.subarray(from + head.length, to);
}

/**
 * Makes sure ~/.cronium/runner/<hash>/ holds this version of the runner and helpers. The files are
 * written into a private temporary folder and renamed into place, so concurrent deploys (several
 * executions, or several hosts sharing a home directory) never see a half-written runner. `signal` stops
 * it (the install command is killed, and the call rejects with the signal's reason: see SshConnection.run).
 */
export async function ensureDeployed(
  connection: SshConnection,
  bundle: RemoteBundle,
  signal?: AbortSignal,
): Promise<void> {
  const known = deployed.get(connection) ?? new Set<string>();
  deployed.set(connection, known);
  if (known.has(bundle.hash)) return;

  const dir = runnerDir(bundle);
  // The program says where its own output begins and that it got to the end: a login shell that prints
  // (a .bashrc, a ForceCommand banner) or hides the exit status changes neither the result nor the message.
  const nonce = randomToken();
  let program = `set -e\numask 077\nd="$HOME/.cronium/runner"\nmkdir -p "$d"\nchmod 700 "$HOME/.cronium" "$d"\n`;
  // Work directories of executions whose connection was lost before they were collected: swept after a day;
  // a keep-running script's (it has a wrapper file) after 30, as it may run for days before a reattach.
  program += `[ -d "$HOME/.cronium/runs" ] && find "$HOME/.cronium/runs" -mindepth 1 -maxdepth 1 -mtime +0 \\( ! -exec test -f {}/wrapper \\; -o -mtime +30 \\) -exec rm -rf {} + 2>/dev/null || :\n`;
  program += `if [ -f ${dir}/.complete ]; then ${markerCommand(nonce, 'deployed')}; exit 0; fi\n`;
  program += `t="$d/.tmp.$$.${Date.now()}"\nrm -rf "$t"\nmkdir "$t"\n`;
  const folders = new Set(bundle.assets.map((a) => a.name.split('/').slice(0, -1).join('/')).filter(Boolean));
  for (const folder of folders) program += `mkdir -p "$t/${folder}"\n`;
  for (const asset of bundle.assets) program += heredocFile(`"$t/${asset.name}"`, asset.content);
  program += `: > "$t/.complete"\nmv "$t" ${dir} 2>/dev/null || rm -rf "$t"\ntest -f ${dir}/.complete\n`;

  program = `${markerCommand(nonce, 'begin', true)}\n${program}${markerCommand(nonce, 'deployed')}\n`;
  const result = await connection.run('sh -s', program, { signal });
  if (afterMarker(result.stdout, nonce, 'deployed') === null) {
    const said = (afterMarker(result.stderr, nonce, 'begin') ?? '').trim();
    throw new CroniumError(
      'internal',
      `Could not install the Cronium runner on ${connection.target.label}: ${said || `exit ${result.code}`}.`,
    );
  }
  known.add(bundle.hash);
}

/**
 * The host's OS for `server test`: "PRETTY_NAME (uname -sr)" from /etc/os-release, or uname alone, or null.
 * Run by `sh` (whatever the login shell) and read after a nonce'd control line, so a login shell that
 * prints (a .bashrc, a banner) is never taken for the OS.
 */
export async function readOs(connection: SshConnection): Promise<string | null> {
  const nonce = randomToken();
  const result = await connection.run(
    'sh -s',
    `${markerCommand(nonce, 'os')}\nuname -sr\nif [ -r /etc/os-release ]; then . /etc/os-release; echo "$PRETTY_NAME"; fi\n`,
  );
  const lines = (afterMarker(result.stdout, nonce, 'os') ?? '').trim().split('\n').filter(Boolean);
  return lines[1] ? `${lines[1]} (${lines[0]})` : (lines[0] ?? null);
}
