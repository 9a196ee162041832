/** Rules for schedules: cron expressions and time zones. */
import * as z from 'zod';

import { compileCron, isTimeZone } from '../cron.ts';

/**
 * A schedule's cron expression: 5 fields, 6 with seconds first, or a nickname such as `@hourly`, as croner
 * reads them (src/core/cron.ts); at most 200 characters.
 */
export const cronExpression = z
  .string()
  .trim()
  .min(1, 'a cron expression is required')
  .max(200, 'a cron expression is at most 200 characters')
  .superRefine((text, ctx) => {
    try {
      compileCron(text, null);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `not a cron expression: ${(err as Error).message}` });
    }
  });

/** An IANA time zone name (`Europe/Berlin`, `America/New_York`, `UTC`), as the runtime's ICU knows it. */
export const timeZone = z
  .string()
  .trim()
  .min(1, 'a time zone is not empty')
  .max(64, 'a time zone is at most 64 characters')
  .refine(isTimeZone, 'not a time zone this system knows (use an IANA name such as Europe/Berlin)');
