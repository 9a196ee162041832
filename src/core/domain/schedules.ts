/** Schedules and what became of each of their occurrences. */
import type { FireOutcome, RunStatus, ScheduleMissed, ScheduleOverlap } from './values.ts';

/**
 * A saved schedule: a job fired by a cron expression (croner: 5 fields, or 6 with seconds first, or a
 * nickname such as `@hourly`) in a time zone, on its targets, with its parameters and input.
 */
export interface Schedule {
  id: string;
  name: string;
  jobId: string;
  /** The job's current name (null when the job is gone). */
  jobName: string | null;
  cron: string;
  /** An IANA time zone (`Europe/Berlin`); null: the zone of the process that fires it. */
  timezone: string | null;
  /** Where it runs: server ids and `tag:NAME` entries; empty: the job's default servers. */
  targets: string[];
  /** Job parameters (RunRequest `params`), as given with `--set`. */
  params: Record<string, string | number | boolean>;
  /** The run's input; null: the job's default input. */
  input: unknown;
  overlap: ScheduleOverlap;
  missed: ScheduleMissed;
  enabled: boolean;
  /** The occurrence (epoch ms) last fired or handled, and what became of it. */
  lastFireAt: number | null;
  lastOutcome: FireOutcome | null;
  /** Why the last occurrence could not start a run (outcome `error`), else null. */
  lastError: string | null;
  lastRunId: string | null;
  /** The status of the last run it started (null: none yet, or removed from history). */
  lastResult: RunStatus | null;
  /** The next occurrences (epoch ms, up to 3); empty when paused or when the expression has no more. */
  nextFires: number[];
  createdAt: number;
  updatedAt: number;
}

/** One occurrence of a schedule as it was handled (newest first in listScheduleFires). */
export interface ScheduleFire {
  /** The occurrence, epoch ms. */
  fireAt: number;
  outcome: FireOutcome;
  runId: string | null;
  /** Why it was skipped or could not start, or how many occurrences it stood for after a gap. */
  message: string | null;
  /** True when it was handled after a gap (the missed-fire policy applied). */
  missed: boolean;
  /** The process that handled it (`host:pid:random`). */
  holder: string;
}
