/**
 * The domain as the core and every client (CLI, IPC, web) see it. Secrets never appear here in clear.
 *
 * The declarations live by area in src/core/domain/ (value lists, servers, jobs, runs, schedules,
 * variables, events); this module re-exports them so every client imports one path.
 */
export * from './domain/values.ts';
export * from './domain/servers.ts';
export * from './domain/jobs.ts';
export * from './domain/runs.ts';
export * from './domain/schedules.ts';
export * from './domain/variables.ts';
export * from './domain/events.ts';
