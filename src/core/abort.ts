/**
 * Cancellation and deadlines as AbortSignals. An execution aborts its signal with a CroniumError as the
 * reason (`cancelled` or `timed_out`), so whichever phase notices the abort reports the right kind.
 */
import { CroniumError } from './errors.ts';

/** The error an aborted signal stands for: its reason when that is a CroniumError, else `cancelled`. */
export function abortError(signal: AbortSignal, what: string): CroniumError {
  const reason: unknown = signal.reason;
  if (reason instanceof CroniumError) return reason;
  return new CroniumError('cancelled', `Cancelled ${what}.`);
}

/** Throws abortError() when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortError(signal, what);
}

/**
 * Settles like `promise`, or rejects with abortError() as soon as the signal fires (the promise itself
 * goes on: use this for work shared with others, which must not stop because one waiter gave up).
 */
export function raceSignal<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  what: string,
): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(abortError(signal, what));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {});
      reject(abortError(signal, what));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err as Error);
      },
    );
  });
}

/**
 * One deadline for a whole piece of work: `signal` fires with a `cancelled` CroniumError when `parent`
 * fires (with the parent's own reason when that is a CroniumError), or with `timedOut` once `timeoutMs` (milliseconds from now) have passed. Call dispose() when the
 * work is done, so the timer does not keep the process alive.
 */
export class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly parent: AbortSignal;
  private readonly onParentAbort: () => void;
  /** performance.now() at which the deadline passes. */
  readonly at: number;

  constructor(parent: AbortSignal, timeoutMs: number, timedOut: CroniumError, cancelled: CroniumError) {
    this.parent = parent;
    this.at = performance.now() + timeoutMs;
    // A parent that says why (a CroniumError, e.g. the process closing) is heard as it said it.
    this.onParentAbort = () =>
      this.controller.abort(parent.reason instanceof CroniumError ? parent.reason : cancelled);
    this.timer = setTimeout(() => this.controller.abort(timedOut), timeoutMs);
    if (parent.aborted) this.onParentAbort();
    else parent.addEventListener('abort', this.onParentAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.parent.removeEventListener('abort', this.onParentAbort);
  }
}
