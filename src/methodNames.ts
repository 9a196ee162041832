/**
 * The one table of the core's methods: every method of HostApi, its arguments' kinds, and whether the
 * renderer (Electron IPC, web-mode WebSocket) may call it. The dispatcher builds its argument checks from
 * it, the Electron IPC adapter and the preload their channels and verbs; the compiler checks it lists
 * exactly HostApi's methods. Kept free of zod, so the preload bundle carries no validation library.
 */
import type { CroniumApi, HostApi } from './contract.ts';

/**
 * What one argument is; the dispatcher maps each kind to its schema (src/api/dispatcher.ts). A trailing
 * "?" marks an optional argument. `ref`: an id or name (1–500 characters); `input`: anything, checked by
 * the service with the contract's schemas; `fingerprint?`: a host key fingerprint; `afterSeq?`: a log
 * sequence number (-1: from the start); `limit?`: how many log chunks (1–100,000).
 */
export type ArgKind = 'ref' | 'input' | 'fingerprint?' | 'afterSeq?' | 'limit?';

interface MethodSpec {
  /** Callable from the renderer; false: trusted local clients only (CLI, Electron main). */
  renderer: boolean;
  /** The arguments' kinds, in order (null for methods the renderer never reaches). */
  args: readonly ArgKind[] | null;
}

const exposed = (...args: ArgKind[]) => ({ renderer: true as const, args });
const hostOnly = { renderer: false as const, args: null };

export const METHODS = {
  appInfo: exposed(),
  listServers: exposed(),
  getServer: exposed('ref'),
  createServer: exposed('input'),
  updateServer: exposed('ref', 'input'),
  removeServer: exposed('ref'),
  importServers: exposed('input'),
  testServer: exposed('ref'),
  trustHostKey: exposed('ref', 'fingerprint?'),
  listJobs: exposed(),
  getJob: exposed('ref'),
  createJob: exposed('input'),
  updateJob: exposed('ref', 'input'),
  removeJob: exposed('ref'),
  startRun: exposed('input'),
  cancelRun: exposed('ref'),
  cancelExecution: exposed('ref'),
  rerun: exposed('ref', 'input'),
  getRunOverview: exposed('ref'),
  getRun: exposed('ref'),
  queryHistory: exposed('input'),
  getExecution: exposed('ref'),
  readLog: exposed('ref', 'afterSeq?', 'limit?'),
  listVariables: exposed(),
  setVariable: exposed('input'),
  removeVariable: exposed('ref'),
  listSchedules: exposed(),
  getSchedule: exposed('ref'),
  createSchedule: exposed('input'),
  removeSchedule: exposed('ref'),
  pauseSchedule: exposed('ref'),
  resumeSchedule: exposed('ref'),
  listScheduleFires: exposed('ref'),
  listTools: exposed(),
  createTool: exposed('input'),
  removeTool: exposed('ref'),
  waitForRun: hostOnly,
  waitForChain: hostOnly,
  getVariableValue: hostOnly,
  startRuntime: hostOnly,
  activeRunIds: hostOnly,
  noWorkerNotice: hostOnly,
  followOtherProcesses: hostOnly,
  startReaper: hostOnly,
  attach: hostOnly,
  reattachDetached: hostOnly,
  subscribe: hostOnly,
  slowDown: hostOnly,
  resealLegacySecrets: hostOnly,
  doctor: hostOnly,
  adoptTeamKey: hostOnly,
  startScheduler: hostOnly,
  monitorStatus: hostOnly,
  startWorker: hostOnly,
  close: hostOnly,
} as const satisfies Record<keyof HostApi, MethodSpec>;

type RendererMethod = {
  [K in keyof typeof METHODS]: (typeof METHODS)[K]['renderer'] extends true ? K : never;
}[keyof typeof METHODS];

// The renderer's methods are exactly CroniumApi's (a difference fails to compile).
type Differs = Exclude<RendererMethod, keyof CroniumApi> | Exclude<keyof CroniumApi, RendererMethod>;
export const RENDERER_METHODS_MATCH: [Differs] extends [never] ? true : Differs = true;

/** The methods the renderer may call, by name: the preload's verbs and the IPC channels. */
export const METHOD_NAMES = (Object.keys(METHODS) as (keyof typeof METHODS)[]).filter(
  (name): name is RendererMethod => METHODS[name].renderer,
);
