/**
 * The Cronium fields of cronium.event(), beside ours, so scripts written for Cronium read real values:
 * its docs page ("Event Metadata": id, name, type, runLocation, successCount/failureCount, server,
 * lastRunAt), its SDK's EventContext (userId, executionId) and its runner's context (eventId,
 * eventName, startTime, metadata).
 */
import { userInfo } from 'node:os';

import type { Language } from '../core/domain.ts';

/** Cronium's script types (its EventType), by our language. */
export const CRONIUM_TYPES: Record<Language, string> = { bash: 'BASH', python: 'PYTHON', node: 'NODEJS' };

export interface CroniumEventInput {
  job: { id: string; name: string; language: Language };
  server: { id: string; name: string; host: string };
  runId: string;
  trigger: string;
  attempt: number;
  /** ISO 8601 start of this execution. */
  startTime: string;
  /** The job's earlier executions (from the history store). */
  stats: { successCount: number; failureCount: number; lastRunAt: number | null };
}

let cachedUser: string | null = null;

/** Who runs the app: Cronium's userId (here the operating-system account, there being no app accounts). */
function localUser(): string {
  if (cachedUser === null) {
    try {
      cachedUser = userInfo().username;
    } catch {
      cachedUser = process.env.USER ?? process.env.USERNAME ?? 'local';
    }
  }
  return cachedUser;
}

/** Cronium's event fields for one execution (merged into the context beside ours). */
export function croniumEventFields(e: CroniumEventInput): Record<string, unknown> {
  const type = CRONIUM_TYPES[e.job.language];
  return {
    id: e.job.id,
    name: e.job.name,
    type,
    // Every execution here runs on a saved server over SSH: Cronium's REMOTE.
    runLocation: 'REMOTE',
    userId: localUser(),
    successCount: e.stats.successCount,
    failureCount: e.stats.failureCount,
    lastRunAt: e.stats.lastRunAt === null ? null : new Date(e.stats.lastRunAt).toISOString(),
    eventId: e.job.id,
    eventName: e.job.name,
    eventType: type,
    startTime: e.startTime,
    metadata: { runId: e.runId, trigger: e.trigger, attempt: e.attempt, serverName: e.server.name },
  };
}
