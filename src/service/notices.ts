/**
 * A run's notices (issue 12, part 4): the webhook's JSON summary, sent with retries and exponential
 * backoff. A webhook that cannot be delivered is recorded on the run and never changes its status. The
 * URL may carry a token: it is never logged nor written into the recorded result.
 */
import { backOff } from 'exponential-backoff';

import type { Execution, NotificationResult, Run } from '../core/domain.ts';

/** How a webhook is retried: attempts in all (4), the first backoff (500 ms, doubling), per-try timeout. */
export interface WebhookOptions {
  attempts?: number;
  backoffMs?: number;
  timeoutMs?: number;
}

/** The JSON body a webhook receives (documented in the README; `version` changes if the shape does). */
export interface WebhookPayload {
  version: 1;
  event: 'run.finished';
  job: { id: string; name: string };
  run: {
    id: string;
    status: Run['status'];
    trigger: Run['trigger'];
    startedAt: string;
    endedAt: string | null;
    /** Milliseconds from start to end. */
    durationMs: number | null;
    parentExecutionId: string | null;
    /** The run in the app: `cronium://run/<runId>` (`cronium show <executionId>` on the command line). */
    link: string;
  };
  hosts: {
    server: string;
    serverId: string;
    executionId: string;
    status: Execution['status'];
    exitCode: number | null;
    error: string | null;
    durationMs: number | null;
  }[];
}

/** The webhook's body for a finished run and its executions. */
export function webhookPayload(run: Run, executions: Execution[]): WebhookPayload {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    version: 1,
    event: 'run.finished',
    job: { id: run.jobId, name: run.jobName },
    run: {
      id: run.id,
      status: run.status,
      trigger: run.trigger,
      startedAt: iso(run.startedAt)!,
      endedAt: iso(run.endedAt),
      durationMs: run.endedAt === null ? null : run.endedAt - run.startedAt,
      parentExecutionId: run.parentExecutionId,
      link: `cronium://run/${run.id}`,
    },
    hosts: executions.map((e) => ({
      server: e.serverName,
      serverId: e.serverId,
      executionId: e.id,
      status: e.status,
      exitCode: e.exitCode,
      error: e.errorMessage,
      durationMs: e.endedAt === null ? null : e.endedAt - e.startedAt,
    })),
  };
}

/** A failed attempt: whether another may help (network trouble, 408, 429, 5xx) and what to record. */
class AttemptError extends Error {
  readonly retry: boolean;
  readonly httpStatus: number | null;
  constructor(message: string, retry: boolean, httpStatus: number | null) {
    super(message);
    this.retry = retry;
    this.httpStatus = httpStatus;
  }
}

/**
 * POSTs `payload` as JSON to `url`, retrying a failed try (no answer, a timeout, HTTP 408, 429 or 5xx)
 * with exponential backoff (backoffMs, 2×, 4×… with full jitter); another 4xx is final. Never throws:
 * the result says how it went, in words that never contain the URL.
 */
export async function sendWebhook(
  url: string,
  payload: WebhookPayload,
  options: WebhookOptions = {},
): Promise<NotificationResult> {
  const attempts = options.attempts ?? 4;
  const timeoutMs = options.timeoutMs ?? 10_000;
  let tries = 0;
  let delivered = 0;
  let last: AttemptError | null = null;
  const scrub = (text: string) => text.split(url).join('<webhook URL>');
  try {
    await backOff(
      async () => {
        tries++;
        let response: Response;
        try {
          response = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'user-agent': 'cronium-desktop' },
            body: JSON.stringify(payload),
            signal: AbortSignal.timeout(timeoutMs),
            redirect: 'error',
          });
        } catch (err) {
          const e = err as Error & { cause?: { code?: string; message?: string } };
          const why =
            e.name === 'TimeoutError'
              ? `no answer within ${timeoutMs} ms`
              : (e.cause?.code ?? e.cause?.message ?? e.message);
          throw (last = new AttemptError(scrub(`could not be delivered: ${why}`), true, null));
        }
        // The body is not needed; reading it frees the connection.
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) {
          delivered = response.status;
          return;
        }
        const s = response.status;
        throw (last = new AttemptError(
          `the server answered HTTP ${s}`,
          s === 408 || s === 429 || s >= 500,
          s,
        ));
      },
      {
        numOfAttempts: attempts,
        startingDelay: options.backoffMs ?? 500,
        timeMultiple: 2,
        jitter: 'full',
        maxDelay: 30_000,
        retry: (err) => err instanceof AttemptError && err.retry,
      },
    );
    return {
      channel: 'webhook',
      ok: true,
      attempts: tries,
      httpStatus: delivered,
      error: null,
      at: Date.now(),
    };
  } catch {
    const failure = last as AttemptError | null;
    return {
      channel: 'webhook',
      ok: false,
      attempts: tries,
      httpStatus: failure?.httpStatus ?? null,
      error: `${failure?.message ?? 'could not be delivered'} (after ${tries} ${tries === 1 ? 'try' : 'tries'})`,
      at: Date.now(),
    };
  }
}
