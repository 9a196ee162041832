/** The renderer sees the core only through the contract's types (and this preload bridge shape). */
export type {
  AppInfo,
  ClientApi,
  CoreEvent,
  Execution,
  HistoryPage,
  HistoryQuery,
  ImportedServer,
  ImportPlan,
  Job,
  JobInput,
  LogChunk,
  MethodName,
  PreloadBridge,
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
export type {
  ExecutionStatus,
  HelperMode,
  HistoryStatusFilter,
  Language,
  RunStatus,
} from '../../../src/core/domain.ts';
/** The closed sets of values, from their one declaration in the core's domain (plain arrays, no logic). */
export {
  EXECUTION_STATUSES,
  FINAL_EXECUTION_STATUSES,
  HELPER_MODES,
  LANGUAGES,
} from '../../../src/core/domain.ts';
