/** The `cronium` command line as a real process from the sources, for tests. */
import { spawn } from 'node:child_process';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node src/cli/main.ts …args` with `env` (merged over this process's; CRONIUM_RUNTIME_PORT 0 so runs
 * never collide on 8089) and `stdin` written and closed (none: stdin is /dev/null).
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, stdin?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const merged: NodeJS.ProcessEnv = { ...process.env, CRONIUM_RUNTIME_PORT: '0', ...env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete merged[k];
    const child = spawn(process.execPath, ['src/cli/main.ts', ...args], {
      env: merged,
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    if (stdin !== undefined) child.stdin!.end(stdin);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
