import type { MethodName } from './contract.ts';

/**
 * Every method of the contract, by name: the preload builds its named verbs from this list. Kept apart
 * from contract.ts so the preload bundle carries no validation library.
 */
export const METHOD_NAMES = [
  'appInfo',
  'listServers',
  'getServer',
  'createServer',
  'updateServer',
  'removeServer',
  'testServer',
  'trustHostKey',
  'listJobs',
  'getJob',
  'createJob',
  'updateJob',
  'removeJob',
  'startRun',
  'cancelRun',
  'getRun',
  'queryHistory',
  'getExecution',
  'readLog',
  'listVariables',
  'setVariable',
  'removeVariable',
] as const satisfies readonly MethodName[];

// Every method of the contract is listed (a missing one fails to compile).
type Missing = Exclude<MethodName, (typeof METHOD_NAMES)[number]>;
export const ALL_METHODS_LISTED: Missing extends never ? true : Missing = true;
