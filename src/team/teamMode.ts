/** Team mode's one refusal, shared by the core (Team) and the CLI (which refuses before reading a job). */
import { CroniumError } from '../core/errors.ts';

/** The error for a run sent to workers by a process without the team's database URL. */
export function viaWorkersRefused(): CroniumError {
  return new CroniumError(
    'invalid_input',
    'Runs go to workers only in team mode: set CRONIUM_DATABASE_URL (or --database-url) to the team’s PostgreSQL (postgres://…).',
    { fields: { via: 'workers needs CRONIUM_DATABASE_URL' } },
  );
}
