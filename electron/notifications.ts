/**
 * Desktop notifications of finished runs in the desktop app: the core's run events, the job's setting
 * (src/core/notices.ts for the rule and the words), shown through Electron's Notification by `show`.
 * Kept free of Electron itself so it can be tested with a fake `show`.
 */
import type { CoreEvent, Job, Run } from '../src/contract.ts';
import { log } from '../src/core/logger.ts';
import { runNotice, shouldNotify } from '../src/core/notices.ts';

/** What the notifier needs of the service. */
export interface NotifierHost {
  subscribe(listener: (event: CoreEvent) => void): () => void;
  getJob(ref: string): Promise<Job>;
}

/**
 * Shows one notification per finished run whose job asks for it (on failure, or always); a run's
 * second event (its webhook's result) is not announced again. Returns the unsubscriber.
 */
export function notifyFinishedRuns(
  host: NotifierHost,
  show: (notice: { title: string; body: string }) => void,
): () => void {
  const announced = new Set<string>();
  const announce = async (run: Run) => {
    let job: Job;
    try {
      job = await host.getJob(run.jobId);
    } catch {
      return; // The job was removed while it ran: nothing says how to announce it.
    }
    if (shouldNotify(job.desktopNotify, run.status)) show(runNotice(run));
  };
  return host.subscribe((event) => {
    if (event.type !== 'run' || event.run.status === 'running' || announced.has(event.run.id)) return;
    announced.add(event.run.id);
    // An event listener cannot wait: the job is read, and the notice shown, when the read answers.
    announce(event.run).catch((err: unknown) => log().warn({ err }, 'a desktop notification failed'));
  });
}
