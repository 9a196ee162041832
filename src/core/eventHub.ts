import type { CoreEvent } from './domain.ts';
import { log } from './logger.ts';

export type Listener = (event: CoreEvent) => void;

/** Fans core events out to every subscriber; a failing subscriber never breaks the others or the run. */
export class EventHub {
  private readonly listeners = new Set<Listener>();
  /** Subscribers behind on log events: each promise settles once that subscriber has caught up. */
  private readonly behind = new Set<Promise<void>>();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: CoreEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        log().error({ err }, 'an event subscriber failed');
      }
    }
  }

  /**
   * Flow control for log events: a subscriber that cannot keep up (the CLI's stdout is full) says so with a
   * promise that settles when it can take more. Producers ask whenCaughtUp() after emitting and pause their
   * source meanwhile, so output waits on the SSH channel instead of piling up in memory. The promise must
   * settle (also when the subscriber goes away), or the producers stay paused.
   */
  slowDown(until: Promise<void>): void {
    if (this.behind.has(until)) return;
    this.behind.add(until);
    const done = () => this.behind.delete(until);
    until.then(done, done);
  }

  /** Null when no subscriber is behind; else a promise that settles once all have caught up. */
  whenCaughtUp(): Promise<void> | null {
    if (this.behind.size === 0) return null;
    return Promise.allSettled([...this.behind]).then(() => undefined);
  }
}
