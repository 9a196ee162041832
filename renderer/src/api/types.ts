/** The renderer sees the core only through the contract's types (and this preload bridge shape). */
export type {
  AppInfo,
  ClientApi,
  CoreEvent,
  Execution,
  HistoryPage,
  HistoryQuery,
  Job,
  JobInput,
  LogChunk,
  MethodName,
  Result,
  Run,
  RunRequest,
  Server,
  ServerInput,
  ServerTestResult,
  TunnelState,
  Variable,
} from '../../../src/contract.ts';
export type { ErrorValue } from '../../../src/core/errors.ts';
export type { ExecutionStatus, HelperMode, Language, RunStatus } from '../../../src/core/domain.ts';

import type { CoreEvent, MethodName, Result } from '../../../src/contract.ts';

/** What the Electron preload exposes as window.cronium: one named verb per method, and events. */
export interface PreloadBridge {
  api: { [K in MethodName]: (...args: unknown[]) => Promise<Result<unknown>> };
  onEvent(listener: (event: CoreEvent) => void): () => void;
}
