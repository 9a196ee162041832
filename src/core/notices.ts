/**
 * When and how a finished run is announced (issue 12, part 4), shared by the webhook (src/service), the
 * desktop app's notifications (electron/notifications.ts) and browser mode's (the renderer). Pure: no I/O.
 */
import type { NotifyWhen, Run } from './domain.ts';

/** Whether a run's outcome is announced under a setting: `failure` is every final status but succeeded. */
export function shouldNotify(when: NotifyWhen, status: Run['status']): boolean {
  if (when === 'never' || status === 'running') return false;
  return when === 'always' || status !== 'succeeded';
}

/** A desktop notification's words for a finished run: `disk failed` / `2 of 3 servers succeeded`. */
export function runNotice(run: Pick<Run, 'jobName' | 'status' | 'executionIds' | 'trigger'>): {
  title: string;
  body: string;
} {
  const servers = run.executionIds.length;
  const status = run.status === 'partial' ? 'partly failed' : run.status;
  return {
    title: `${run.jobName} ${status}`,
    body: `${servers} server${servers === 1 ? '' : 's'}${run.trigger === 'chain' ? ', started by a chain' : ''}. Open Cronium's history for the details.`,
  };
}
