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
  PreloadBridge,
  Result,
  Run,
  RunRequest,
  Server,
  ServerInput,
  ServerTestResult,
  ToolCredential,
  ToolInput,
  TunnelState,
  Variable,
} from '../../../src/contract.ts';
export type { ErrorValue } from '../../../src/core/errors.ts';
export type {
  ExecutionStatus,
  HelperMode,
  Language,
  RunStatus,
  ToolActionRecord,
  ToolType,
} from '../../../src/core/domain.ts';
/** The closed sets of values, from their one declaration in the core's domain (plain arrays, no logic). */
export {
  EXECUTION_STATUSES,
  FINAL_EXECUTION_STATUSES,
  HELPER_MODES,
  LANGUAGES,
  TOOL_TYPES,
} from '../../../src/core/domain.ts';
