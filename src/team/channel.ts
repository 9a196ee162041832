/**
 * Team events between processes on one PostgreSQL: LISTEN/NOTIFY on ONE dedicated connection per process
 * (`pg`), whatever the number of runs it follows and the channels it listens to — Cronium's own
 * (`cronium_run`, `cronium_cancel`) and pg-boss's job wake-ups (queue.ts hands pg-boss this connection
 * instead of letting it open its own). A notification is only a wake-up naming a run (`{"run": id}`),
 * never a log's text: NOTIFY payloads are limited to 8000 bytes, and the store holds every chunk in order
 * (followers read them by sequence number), so nothing is split and a missed wake-up costs only the
 * follower's next poll.
 *
 * A dropped connection (the server restarted, a terminated backend, a silent network drop caught by the
 * heartbeat) is opened again with a capped backoff while anyone listens; every channel is LISTENed again
 * and each subscriber's `onReconnect` runs, so it can look for what it missed meanwhile.
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

/** Milliseconds between checks that the connection still listens (a silent drop is caught by these). */
const HEARTBEAT_MS = 10_000;
/** Milliseconds a heartbeat may take before the connection counts as dropped. */
const HEARTBEAT_TIMEOUT_MS = 5_000;
/** Reconnect backoff: the first wait and the cap, in milliseconds (doubling in between). */
const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 10_000;

interface Subscriber {
  onPayload: (payload: string) => void;
  onReconnect?: () => void;
}

/** One connection that listens to any number of channels and sends notifications. */
export class TeamChannel {
  private readonly url: string;
  private client: pg.Client | null = null;
  private connecting: Promise<pg.Client> | null = null;
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private closed = false;
  /** The last query sent: the next one waits for it (pg queues them, but warns it will stop doing so). */
  private queue: Promise<unknown> = Promise.resolve();
  private reconnectTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  /** How many times a connection was opened (1 + the reconnects): for tests and logs. */
  connections = 0;

  private readonly applicationName: string;

  /** `applicationName`: how its session shows in pg_stat_activity. */
  constructor(url: string, applicationName = 'cronium-events') {
    this.url = url;
    this.applicationName = applicationName;
  }

  /** Runs `fn` on the connection after the queries before it. */
  private serial<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const next = this.queue.then(async () => fn(await this.connect()));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private connect(): Promise<pg.Client> {
    if (this.closed) return Promise.reject(new Error('the team event connection is closed'));
    this.connecting ??= (async () => {
      // Loaded on first use (see WorkQueue.start).
      const { default: pgModule } = await import('pg');
      const client = new pgModule.Client({
        connectionString: this.url,
        application_name: this.applicationName,
        keepAlive: true,
      });
      client.on('error', (err) => this.dropped(client, err));
      client.on('end', () => this.dropped(client, new Error('the connection ended')));
      client.on('notification', (message) => {
        if (message.payload === undefined) return;
        for (const s of this.subscribers.get(message.channel) ?? []) s.onPayload(message.payload);
      });
      try {
        await client.connect();
        for (const channel of this.subscribers.keys())
          await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
      } catch (err) {
        client.removeAllListeners();
        client.on('error', () => undefined);
        await client.end().catch(() => undefined);
        this.connecting = null;
        throw err;
      }
      this.client = client;
      this.connections++;
      const reconnected = this.attempt > 0 || this.connections > 1;
      this.attempt = 0;
      this.scheduleHeartbeat(client);
      if (reconnected) for (const set of this.subscribers.values()) for (const s of set) s.onReconnect?.();
      return client;
    })();
    return this.connecting;
  }

  /** The connection went away: forget it, and open another while anyone listens. */
  private dropped(client: pg.Client, err: unknown): void {
    // A client that failed while connecting is ended by connect() itself.
    if (this.closed || this.client !== client) return;
    log().warn({ err }, 'team event connection lost; reconnecting');
    client.removeAllListeners();
    // A late error of the dropped client must not crash the process.
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    this.client = null;
    this.connecting = null;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer || this.subscribers.size === 0) return;
    const wait = Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** Math.min(this.attempt, 6));
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect().catch((err: unknown) => {
        log().debug({ err }, 'team event connection: reconnect failed');
        this.scheduleReconnect();
      });
    }, wait);
    this.reconnectTimer.unref();
  }

  /** Checks every HEARTBEAT_MS that the connection answers; one that does not is dropped (and reopened). */
  private scheduleHeartbeat(client: pg.Client): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatTimer = null;
      if (this.client !== client || this.closed) return;
      let timer: NodeJS.Timeout | undefined;
      const check = Promise.race([
        this.serial((c) => c.query('SELECT 1')),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('heartbeat timed out')), HEARTBEAT_TIMEOUT_MS);
        }),
      ]);
      check.then(
        () => {
          clearTimeout(timer);
          if (this.client === client) this.scheduleHeartbeat(client);
        },
        (err: unknown) => {
          clearTimeout(timer);
          this.dropped(client, err);
        },
      );
    }, HEARTBEAT_MS);
    this.heartbeatTimer.unref();
  }

  /**
   * Calls `onPayload` with each notification's payload on `channel` (any name: it is quoted), and
   * `onReconnect` after the connection was opened again (notifications may have been missed meanwhile).
   * Resolves once the channel is listened to; returns the function that stops this subscriber.
   * @throws the connection's error when the first connection fails.
   */
  async listenRaw(
    channel: string,
    onPayload: (payload: string) => void,
    onReconnect?: () => void,
  ): Promise<() => Promise<void>> {
    const subscriber: Subscriber = { onPayload, onReconnect };
    let set = this.subscribers.get(channel);
    const first = !set;
    if (!set) {
      set = new Set();
      this.subscribers.set(channel, set);
    }
    set.add(subscriber);
    try {
      // A connection opened from now LISTENs to it; one already open is told here.
      if (first) await this.serial((c) => c.query(`LISTEN ${c.escapeIdentifier(channel)}`));
      else await this.connect();
    } catch (err) {
      await this.remove(channel, subscriber);
      throw err;
    }
    let stopped = false;
    return async () => {
      if (stopped) return;
      stopped = true;
      await this.remove(channel, subscriber);
    };
  }

  private async remove(channel: string, subscriber: Subscriber): Promise<void> {
    const set = this.subscribers.get(channel);
    if (!set?.delete(subscriber) || set.size > 0) return;
    this.subscribers.delete(channel);
    if (this.client && !this.closed)
      await this.serial((c) => c.query(`UNLISTEN ${c.escapeIdentifier(channel)}`)).catch(() => undefined);
  }

  /** Calls `listener` for each run signal on `channel`; returns the function that stops it. */
  async listen(channel: string, listener: (payload: RunSignal) => void): Promise<() => void> {
    const stop = await this.listenRaw(channel, (text) => {
      let payload: RunSignal;
      try {
        payload = JSON.parse(text) as RunSignal;
      } catch {
        return;
      }
      listener(payload);
    });
    return () => void stop();
  }

  /** Sends a notification; a failure is logged (followers and workers also poll the store). */
  async notify(channel: string, payload: RunSignal): Promise<void> {
    if (this.closed) return;
    try {
      await this.serial((c) => c.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify(payload)]));
    } catch (err) {
      log().debug({ err }, `notify on ${channel} failed`);
    }
  }

  /** The channels listened to now (for tests). */
  get channels(): string[] {
    return [...this.subscribers.keys()];
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    const client = this.client ?? (await this.connecting?.catch(() => null));
    this.client = null;
    client?.removeAllListeners();
    client?.on('error', () => undefined);
    await client?.end().catch(() => undefined);
  }
}
