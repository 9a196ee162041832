/**
 * One rule per domain value, in one place. Every door uses these: the CLI and the IPC/browser dispatcher
 * through the service's schemas (src/contract.ts), the runtime API and bundled-mode collection for variable
 * keys, the desktop shell and the CLI for CRONIUM_RUNTIME_PORT. A value that passes a rule can never break a
 * later run (a file name too long, a NUL a C string cannot hold, a number that is not what was typed).
 *
 * Each rule is a zod schema whose messages are the per-field messages of an `invalid_input` error.
 *
 * The rules live by area in src/core/rules/; this module re-exports them so every door imports one path.
 */
export * from './rules/values.ts';
export * from './rules/schedules.ts';
export * from './rules/params.ts';
export * from './rules/notifications.ts';
