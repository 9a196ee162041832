/** What the executor is given for one execution, its options, and how an execution ends. */
import type {
  FinalExecutionStatus,
  HelperMode,
  Language,
  RunTrigger,
  ServerHelperMode,
} from '../core/domain.ts';
import type { EventHub } from '../core/eventHub.ts';
import type { RemoteBundle } from '../remote/assets.ts';
import type { HelperDeps } from '../runtime/helperSession.ts';
import type { ConnectionPool } from '../ssh/connectionPool.ts';
import type { DeployRecord } from './deployRecord.ts';
import type { ExecutionPatch, HistoryRepo } from '../store/historyRepo.ts';
import type { LogStore } from '../store/logWriter.ts';

export interface ExecutionPlan {
  executionId: string;
  runId: string;
  job: {
    id: string;
    name: string;
    language: Language;
    script: string;
    timeoutSec: number;
    /** See Job.keepRunning: a lost connection leaves the execution detached (src/exec/reattach.ts). */
    keepRunning?: boolean;
  };
  /** Environment for the script, secrets decrypted (they travel on stdin only). */
  env: { key: string; value: string; secret: boolean }[];
  /**
   * Other values to mask (secret variables, server passwords): strings as they are, other JSON values as
   * their JSON text and their strings (see secretForms).
   */
  secrets?: unknown[];
  /** helperMode: the server's own setting (left out: default, the plan's mode). */
  server: { id: string; name: string; host: string; helperMode?: ServerHelperMode };
  input: unknown;
  helperMode: HelperMode;
  trigger: RunTrigger;
  attempt: number;
}

/** How an execution ends: its final status (or detached) and the fields written with it. */
export type Ending = ExecutionPatch & { status: FinalExecutionStatus | 'detached' };

export interface ExecutorOptions {
  pool: ConnectionPool;
  history: HistoryRepo;
  logs: LogStore;
  hub: EventHub;
  bundle: RemoteBundle;
  helpers: HelperDeps;
  /** Seconds between TERM and KILL when a script is cancelled or times out. */
  killGraceSec?: number;
  /** Which servers were lately found to have the runner (see DeployRecord); left out: ask each connection. */
  deployments?: DeployRecord;
}
