import type { ToolActionRecord } from '../core/domain.ts';
import { croniumEventFields } from '../runtime/eventContext.ts';
import type { RuntimeContext } from '../runtime/executionRegistry.ts';
import type { ExecutionPlan } from './executionPlan.ts';

/**
 * What the helpers see of an execution; cronium.event() returns its `event` (ours and Cronium's fields).
 * onSecretValue: called when the script sets a secret variable, so its value is masked from then on.
 */
export function runtimeContext(
  plan: ExecutionPlan,
  stats: { successCount: number; failureCount: number; lastRunAt: number | null },
  onSecretValue: (value: unknown) => void,
  onToolAction: (action: ToolActionRecord) => void,
): RuntimeContext {
  const startedAt = new Date().toISOString();
  return {
    executionId: plan.executionId,
    jobId: plan.job.id,
    serverId: plan.server.id,
    input: plan.input ?? null,
    event: {
      executionId: plan.executionId,
      jobId: plan.job.id,
      jobName: plan.job.name,
      eventId: plan.job.id,
      language: plan.job.language,
      runId: plan.runId,
      trigger: plan.trigger,
      startedAt,
      attempt: plan.attempt,
      ...croniumEventFields({ ...plan, startTime: startedAt, stats }),
      server: {
        id: plan.server.id,
        name: plan.server.name,
        host: plan.server.host,
        address: plan.server.host,
      },
    },
    output: undefined,
    outputSet: false,
    condition: null,
    changes: [],
    onSecretValue,
    toolActions: [],
    onToolAction,
  };
}
