/** Saved jobs: script, environment, parameters, chain links and webhook. */
import type {
  ChainEvent,
  ChainTarget,
  HelperMode,
  JobParam,
  Language,
  NotifyWhen,
  RunVia,
} from './values.ts';

export interface JobEnvVar {
  key: string;
  /** Secret values are replaced by null outside the core. */
  value: string | null;
  secret: boolean;
}

/** A link from a job to the job to run after each of its executions (see CHAIN_EVENTS, CHAIN_TARGETS). */
export interface ChainLink {
  on: ChainEvent;
  jobId: string;
  servers: ChainTarget;
}

/** A job's webhook as clients see it: the URL itself may hold a secret and never leaves the core. */
export interface WebhookInfo {
  notify: Exclude<NotifyWhen, 'never'>;
  /** The URL's origin only (scheme, host, port: no user, path or query), to recognise it by. */
  origin: string;
}

export interface Job {
  id: string;
  name: string;
  language: Language;
  script: string;
  timeoutSec: number;
  env: JobEnvVar[];
  defaultInput: unknown;
  defaultServerIds: string[];
  helperMode: HelperMode;
  /**
   * Where a run of this job goes when its request does not say (`via`): `direct` runs in the process that
   * starts it; `workers` queues it for the team's workers (team mode only: elsewhere such a run is refused).
   */
  defaultVia: RunVia;
  /**
   * The script runs detached on the host (output spooled there), so it outlives the connection and the
   * app: a lost connection leaves the execution `detached` until someone reattaches. Helpers are bundled.
   */
  keepRunning: boolean;
  tags: string[];
  /** Jobs to run after each execution of this one, in order. */
  chain: ChainLink[];
  /** Desktop notifications of this job's runs (in the app). */
  desktopNotify: NotifyWhen;
  webhook: WebhookInfo | null;
  /** Typed parameters a run fills in (see JobParam). */
  params: JobParam[];
  createdAt: number;
  updatedAt: number;
}
