/** A finished run's notices: its job's webhook, sent when the outcome calls for it. */
import type { Execution, Run } from '../core/domain.ts';
import { log } from '../core/logger.ts';
import { shouldNotify } from '../core/notices.ts';
import type { JobRecord } from '../store/jobRepo.ts';
import { sendWebhook, webhookPayload } from './notices.ts';
import type { HistoryRepo } from '../store/historyRepo.ts';
import type { JobService } from './jobs.ts';
import type { WebhookOptions } from './notices.ts';

/** What sending a run's notices reads and writes (a part of RunServiceDeps). */
export interface NoticeDeps {
  jobs: JobService;
  history: HistoryRepo;
  webhook?: WebhookOptions;
}

/**
 * Sends a finished run's webhook when its job wants one for this outcome, and records how it went.
 * @returns whether a result was recorded on the run.
 */
export async function sendRunNotices(deps: NoticeDeps, run: Run): Promise<boolean> {
  const job: JobRecord | null = await deps.jobs.find(run.jobId);
  if (!job?.webhook || !shouldNotify(job.webhook.notify, run.status)) return false;
  const url = (await deps.jobs.webhookUrl(job))!;
  const executions: Execution[] = [];
  for (const id of run.executionIds) {
    const execution = await deps.history.getExecution(id);
    if (execution) executions.push(execution);
  }
  const result = await sendWebhook(url, webhookPayload(run, executions), deps.webhook);
  if (!result.ok) log().warn(`the webhook of ${run.jobName} (run ${run.id}) failed: ${result.error}`);
  await deps.history.setRunNotifications(run.id, [...run.notifications, result]);
  return true;
}
