/**
 * Browser mode's desktop notifications of finished runs (the Notification API), for jobs that ask for
 * them; in the desktop app the main process shows them (electron/notifications.ts), so nothing here.
 */
import { api } from '../api/client.ts';
import type { NotifyWhen, Run } from '../api/types.ts';

/*
 * The rule and the words are src/core/notices.ts's (the desktop app's notifications use that module); the
 * renderer may not import the core's code (see eslint.config.js), so they are repeated here, briefly.
 */
const shouldNotify = (when: NotifyWhen, status: Run['status']) =>
  when !== 'never' && status !== 'running' && (when === 'always' || status !== 'succeeded');

function runNotice(run: Run): { title: string; body: string } {
  const servers = run.executionIds.length;
  return {
    title: `${run.jobName} ${run.status === 'partial' ? 'partly failed' : run.status}`,
    body: `${servers} server${servers === 1 ? '' : 's'}${run.trigger === 'chain' ? ', started by a chain' : ''}. Open Cronium's history for the details.`,
  };
}

const announced = new Set<string>();
let mode: Promise<string> | null = null;

/** Asks the browser for permission (call it from a user's action, as browsers require). */
export function askNotificationPermission(when: NotifyWhen): void {
  if (when === 'never' || typeof Notification === 'undefined') return;
  if (Notification.permission === 'default') void Notification.requestPermission();
}

/** Shows a notification for a finished run whose job asks for one; each run at most once. */
export async function notifyRun(run: Run): Promise<void> {
  if (run.status === 'running' || announced.has(run.id) || typeof Notification === 'undefined') return;
  announced.add(run.id);
  mode ??= api()
    .appInfo()
    .then((info) => info.mode);
  if ((await mode) !== 'web' || Notification.permission !== 'granted') return;
  const job = await api()
    .getJob(run.jobId)
    .catch(() => null);
  if (!job || !shouldNotify(job.desktopNotify, run.status)) return;
  const notice = runNotice(run);
  new Notification(notice.title, { body: notice.body, tag: run.id });
}
