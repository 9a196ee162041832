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
  Schedule,
  ScheduleFire,
  ScheduleInput,
  Server,
  ServerInput,
  ServerTestResult,
  TunnelState,
  Variable,
} from '../../../src/contract.ts';
export type { ErrorValue } from '../../../src/core/errors.ts';
export type {
  ChainEvent,
  ChainLink,
  ChainStep,
  ChainTarget,
  ExecutionStatus,
  HelperMode,
  JobParam,
  Language,
  NotificationResult,
  NotifyWhen,
  ParamValue,
  RunStatus,
  ScheduleMissed,
  ScheduleOverlap,
  ServerHelperMode,
  VariableChange,
} from '../../../src/core/domain.ts';
/** The closed sets of values, from their one declaration in the core's domain (plain arrays, no logic). */
export {
  CHAIN_EVENTS,
  CHAIN_TARGETS,
  EXECUTION_STATUSES,
  NOTIFY_WHEN,
  FINAL_EXECUTION_STATUSES,
  HELPER_MODES,
  LANGUAGES,
  SCHEDULE_MISSED,
  SCHEDULE_OVERLAPS,
  SERVER_HELPER_MODES,
} from '../../../src/core/domain.ts';
/** The rules the core checks with, run in the page too (job parameters), and the output-group rule. */
export { formatParamSpec, paramValue, parseParamSpec, resolveParams } from '../../../src/core/rules.ts';
export { groupLabel, outputGroups } from '../../../src/core/outputGroups.ts';
