/**
 * Whether a process of this machine still exists: signal 0 (kill(2)) checks without sending anything.
 * EPERM means it exists under another user. Only meaningful for a pid recorded on this machine.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
