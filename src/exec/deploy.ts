import { CroniumError } from '../core/errors.ts';
import type { RemoteBundle } from '../remote/assets.ts';
import type { SshConnection } from '../ssh/sshConnection.ts';
import { heredocFile } from './shell.ts';

/** Hashes known to be on the host behind a connection, so warm executions skip the check. */
const deployed = new WeakMap<SshConnection, Set<string>>();

function runnerDir(bundle: RemoteBundle): string {
  return `"$HOME/.cronium/runner/${bundle.hash}"`;
}

export function markStale(connection: SshConnection, bundle: RemoteBundle): void {
  deployed.get(connection)?.delete(bundle.hash);
}

/**
 * The command that starts the runner for one execution. sshd hands it to the user's login shell, which may
 * be bash, zsh, fish or csh: so it is one plain command every one of them reads the same way. Whether the
 * runner really started is told by its "ready" control line, not by this command.
 */
export function launchCommand(bundle: RemoteBundle, executionId: string, nonce: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(executionId) || !/^[a-f0-9]+$/.test(nonce))
    throw new Error('unsafe runner arguments');
  return `exec sh "$HOME/.cronium/runner/${bundle.hash}/runner.sh" ${executionId} ${nonce}`;
}

/** Bundled mode: the command that prints what the helpers left in the work directory. */
export function collectCommand(bundle: RemoteBundle, executionId: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(executionId)) throw new Error('unsafe runner arguments');
  return `exec sh "$HOME/.cronium/runner/${bundle.hash}/collect.sh" ${executionId}`;
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
  let program = `set -e\numask 077\nd="$HOME/.cronium/runner"\nmkdir -p "$d"\nchmod 700 "$HOME/.cronium" "$d"\n`;
  // Work directories of executions whose connection was lost before they were collected: swept after a day.
  program += `[ -d "$HOME/.cronium/runs" ] && find "$HOME/.cronium/runs" -mindepth 1 -maxdepth 1 -mtime +0 -exec rm -rf {} + 2>/dev/null || :\n`;
  program += `if [ -f ${dir}/.complete ]; then exit 0; fi\n`;
  program += `t="$d/.tmp.$$.${Date.now()}"\nrm -rf "$t"\nmkdir "$t"\n`;
  const folders = new Set(bundle.assets.map((a) => a.name.split('/').slice(0, -1).join('/')).filter(Boolean));
  for (const folder of folders) program += `mkdir -p "$t/${folder}"\n`;
  for (const asset of bundle.assets) program += heredocFile(`"$t/${asset.name}"`, asset.content);
  program += `: > "$t/.complete"\nmv "$t" ${dir} 2>/dev/null || rm -rf "$t"\ntest -f ${dir}/.complete\n`;

  const result = await connection.run('sh -s', program, { signal });
  if (result.code !== 0) {
    throw new CroniumError(
      'internal',
      `Could not install the Cronium runner on ${connection.target.label}: ${result.stderr.trim() || `exit ${result.code}`}.`,
    );
  }
  known.add(bundle.hash);
}
