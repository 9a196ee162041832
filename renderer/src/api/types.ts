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
  OutputGroup,
  PreloadBridge,
  Result,
  Run,
  RunOverview,
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
  JobParam,
  Language,
  ParamValue,
  RunStatus,
} from '../../../src/core/domain.ts';
/** The closed sets of values, from their one declaration in the core's domain (plain arrays, no logic). */
export {
  EXECUTION_STATUSES,
  FINAL_EXECUTION_STATUSES,
  HELPER_MODES,
  LANGUAGES,
} from '../../../src/core/domain.ts';
/** The rules the core checks with, run in the page too (job parameters), and the output-group rule. */
export { formatParamSpec, paramValue, parseParamSpec, resolveParams } from '../../../src/core/rules.ts';
export { groupLabel, outputGroups } from '../../../src/core/outputGroups.ts';
