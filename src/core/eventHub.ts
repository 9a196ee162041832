import type { CoreEvent } from '../contract.ts';

export type Listener = (event: CoreEvent) => void;

/** Fans core events out to every subscriber; a failing subscriber never breaks the others or the run. */
export class EventHub {
  private readonly listeners = new Set<Listener>();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: CoreEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        console.error('cronium: an event subscriber failed:', err);
      }
    }
  }
}
