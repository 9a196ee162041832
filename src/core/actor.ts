/** Who starts runs, for the audit trail in history (issue 13): the OS user and machine of a process. */
import { hostname, userInfo } from 'node:os';

/**
 * "user@machine" for this process: the OS login name (os.userInfo(); $USER or $LOGNAME, or "uid N", when
 * the account has no passwd entry, as in some containers) and the short host name. A worker passes its
 * own actor instead ("worker NAME@host"; see ServiceOptions.actor).
 */
export function defaultActor(env: NodeJS.ProcessEnv = process.env): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = env.USER || env.LOGNAME || `uid ${process.getuid?.() ?? '?'}`;
  }
  return `${user}@${hostname().split('.')[0] || 'localhost'}`;
}

/** How history shows a run's actor: the recorded one, or "unknown" for runs from before it was kept. */
export function actorText(startedBy: string | null | undefined): string {
  return startedBy || 'unknown';
}
