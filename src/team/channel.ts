/**
 * Team events between processes on one PostgreSQL: LISTEN/NOTIFY on a dedicated connection (`pg`). A
 * notification is only a wake-up naming a run (`{"run": id}`), never a log's text: NOTIFY payloads are
 * limited to 8000 bytes, and the store holds every chunk in order (followers read them by sequence
 * number), so nothing is split and a missed wake-up costs only the follower's next poll.
 */
import type pg from 'pg';

import { log } from '../core/logger.ts';

/** Something happened in a run (an execution moved, log chunks were written). */
export const RUN_CHANNEL = 'cronium_run';
/** Someone asked to cancel a run, or one execution of it: workers look at the store's cancel requests. */
export const CANCEL_CHANNEL = 'cronium_cancel';

export interface RunSignal {
  run: string;
}

/** One connection that listens to the team channels and sends notifications. */
export class TeamChannel {
  private readonly url: string;
  private client: pg.Client | null = null;
  private connecting: Promise<pg.Client> | null = null;
  private readonly listeners = new Map<string, Set<(payload: RunSignal) => void>>();
  private closed = false;
  /** The last query sent: the next one waits for it. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(url: string) {
    this.url = url;
  }

  private connect(): Promise<pg.Client> {
    this.connecting ??= (async () => {
      // Loaded on first use (see WorkQueue.start).
      const { default: pgModule } = await import('pg');
      const client = new pgModule.Client({ connectionString: this.url, application_name: 'cronium-events' });
      client.on('error', (err) => {
        // A dropped connection: the next use connects again; followers poll meanwhile.
        log().warn({ err }, 'team event connection lost');
        if (this.client === client) this.client = null;
        this.connecting = null;
      });
      client.on('notification', (message) => {
        if (!message.payload) return;
        let payload: RunSignal;
        try {
          payload = JSON.parse(message.payload) as RunSignal;
        } catch {
          return;
        }
        for (const listener of this.listeners.get(message.channel) ?? []) listener(payload);
      });
      await client.connect();
      for (const channel of this.listeners.keys()) await client.query(`LISTEN ${channel}`);
      this.client = client;
      return client;
    })();
    return this.connecting;
  }

  /** Calls `listener` for each notification on `channel`; returns the function that stops it. */
  async listen(channel: string, listener: (payload: RunSignal) => void): Promise<() => void> {
    const first = !this.listeners.has(channel);
    const set = this.listeners.get(channel) ?? new Set();
    set.add(listener);
    this.listeners.set(channel, set);
    const client = await this.connect();
    if (first) {
      const listening = this.queue.then(() => client.query(`LISTEN ${channel}`));
      this.queue = listening.catch(() => undefined);
      await listening;
    }
    return () => set.delete(listener);
  }

  /** Sends a notification; a failure is logged (followers and workers also poll the store). */
  async notify(channel: string, payload: RunSignal): Promise<void> {
    if (this.closed) return;
    // One query at a time on the connection (pg queues them, but warns it will stop doing so).
    const send = this.queue.then(async () => {
      const client = await this.connect();
      await client.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify(payload)]);
    });
    this.queue = send.catch(() => undefined);
    try {
      await send;
    } catch (err) {
      log().debug({ err }, `notify on ${channel} failed`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client ?? (await this.connecting?.catch(() => null));
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}
