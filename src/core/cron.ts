/**
 * Cron expressions, through croner (never a parser of our own): 5 fields (minute first), or 6 with seconds
 * first, or a nickname (`@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`),
 * evaluated in an IANA time zone (croner's DST rules: a fixed time that does not exist runs after the gap,
 * one that occurs twice runs once). Every door checks an expression with the rules built on this module
 * (src/core/rules.ts); the scheduler asks it for occurrences.
 */
import { Cron } from 'croner';

/** A compiled expression: its occurrences in epoch milliseconds. */
export interface CronTimes {
  /** The first occurrence strictly after `after` (ms), or null when there is none. */
  next(after: number): number | null;
  /** The last occurrence strictly before `before` (ms), or null when there is none. */
  previous(before: number): number | null;
}

/**
 * Compiles `expression` in `timezone` (null: the process's own zone).
 * @throws Error with croner's reason (without its "CronPattern: " prefix) for an expression it refuses, a
 * date instead of an expression (croner would fire it once), or a zone ICU does not know.
 */
export function compileCron(expression: string, timezone: string | null): CronTimes {
  // croner takes a string with ":" as an ISO date to fire once: not a schedule.
  if (expression.includes(':')) throw new Error('a date is not a cron expression');
  const fields = expression.trim().split(/\s+/).length;
  if (!expression.trim().startsWith('@') && fields !== 5 && fields !== 6)
    throw new Error(
      `it has ${fields} field${fields === 1 ? '' : 's'}: use 5 (minute hour day month weekday), or 6 with seconds first`,
    );
  let cron: Cron;
  try {
    cron = new Cron(expression, { mode: '5-or-6-parts', paused: true, timezone: timezone ?? undefined });
    // A bad zone shows only when a time is computed.
    cron.nextRun(new Date(0));
  } catch (err) {
    throw new Error(reason(err), { cause: err });
  }
  return {
    next: (after) => cron.nextRun(new Date(after))?.getTime() ?? null,
    previous: (before) => cron.previousRuns(1, new Date(before))[0]?.getTime() ?? null,
  };
}

/** croner's message in the app's words: no class prefix, first letter lower-case. */
function reason(err: unknown): string {
  const text = (err instanceof Error ? err.message : String(err))
    .replace(/^(CronPattern|CronDate|CronOptions|Cron|toTZ): /, '')
    .replace(/ Original error: .*$/s, '');
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** True when `zone` is an IANA time zone this runtime knows (`Europe/Berlin`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
