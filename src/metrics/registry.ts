/**
 * Cronium's Prometheus metrics (prom-client), one registry per monitored process: counters and a
 * histogram fed by the core's events as executions end, gauges read from the core at scrape time, and
 * prom-client's default process metrics. Names follow Prometheus' conventions
 * (https://prometheus.io/docs/practices/naming/): the `cronium_` prefix, `_total` for counters, base
 * units (`_seconds`), label values from closed sets only (statuses, error kinds, fallback kinds).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { CoreEvent, MonitorStatus } from '../contract.ts';
import type { Execution } from '../core/domain.ts';
import { isFinal } from '../core/executionStatus.ts';
import { HELPER_FALLBACK_KINDS, helperFallbackKind } from './fallbackKinds.ts';

/** Which kind of process is monitored: the label of cronium_build_info and the health report's role. */
export const MONITOR_ROLES = ['daemon', 'worker'] as const;
export type MonitorRole = (typeof MONITOR_ROLES)[number];

/** What the metrics read: the core's events, and its live figures at scrape time (HostApi's methods). */
export interface MetricsSource {
  subscribe(listener: (event: CoreEvent) => void): () => void;
  monitorStatus(): Promise<MonitorStatus>;
}

/**
 * Upper bounds (seconds) of the execution duration histogram: from a quick command to an hour-long job.
 */
export const DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/** The error_kind label of an execution that ended without an error kind (succeeded, or a script's own exit). */
export const NO_ERROR_KIND = 'none';

/** Where the queue depth comes from: the store's count (the default), a fixed value, or a function. */
export type QueueDepthSource = number | (() => number | Promise<number>) | null;

/** How many execution ids are remembered to count each execution's end and fallback once. */
const REMEMBERED_IDS = 10_000;

/** The registry of one monitored process, subscribed to its core's events until close(). */
export class CroniumMetrics {
  readonly registry = new Registry();
  private readonly source: MetricsSource;
  private readonly unsubscribe: () => void;
  private readonly ended = new RecentIds(REMEMBERED_IDS);
  private readonly fellBack = new RecentIds(REMEMBERED_IDS);
  private queueDepthSource: QueueDepthSource = null;

  private readonly executions: Counter<'status' | 'error_kind'>;
  private readonly durations: Histogram<'status'>;
  private readonly fallbacks: Counter<'reason'>;
  private readonly queueDepth: Gauge;
  private readonly connections: Gauge<'state'>;
  private readonly tunnels: Gauge;
  private readonly storeUp: Gauge;
  private readonly leaseHeld: Gauge;

  constructor(source: MetricsSource, info: { role: MonitorRole; version: string }) {
    this.source = source;
    const registers = [this.registry];
    this.executions = new Counter({
      name: 'cronium_executions_total',
      help: 'Executions that ended in this process, by final status and error kind (none when it had none).',
      labelNames: ['status', 'error_kind'],
      registers,
    });
    this.durations = new Histogram({
      name: 'cronium_execution_duration_seconds',
      help: 'How long executions that ended in this process took, queued to end (as history shows), by final status.',
      labelNames: ['status'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.fallbacks = new Counter({
      name: 'cronium_helper_fallbacks_total',
      help: 'Executions whose helpers fell back from API mode to bundled mode, by kind of reason.',
      labelNames: ['reason'],
      registers,
    });
    // Every kind shows from the start (at 0), so a rate over it is defined before the first fallback.
    for (const reason of HELPER_FALLBACK_KINDS) this.fallbacks.inc({ reason }, 0);
    this.queueDepth = new Gauge({
      name: 'cronium_executions_queued',
      help: 'Executions queued and not started yet (NaN while the store cannot be read).',
      registers,
    });
    this.connections = new Gauge({
      name: 'cronium_ssh_connections_open',
      help: 'Pooled SSH connections open in this process: leased by an execution, or idle (kept for reuse).',
      labelNames: ['state'],
      registers,
    });
    this.tunnels = new Gauge({
      name: 'cronium_tunnels_open',
      help: 'Reverse SSH tunnels (API-mode helpers) forwarding in this process.',
      registers,
    });
    this.storeUp = new Gauge({
      name: 'cronium_store_up',
      help: 'Whether the store answered a query at this scrape (1) or not (0).',
      registers,
    });
    this.leaseHeld = new Gauge({
      name: 'cronium_scheduler_lease_held',
      help: 'Whether this process holds the scheduler lease and fires schedules (1) or not (0, also without a scheduler).',
      registers,
    });
    new Gauge({
      name: 'cronium_build_info',
      help: "Always 1: this process's Cronium version and role.",
      labelNames: ['version', 'role'],
      registers,
    }).set({ version: info.version, role: info.role }, 1);
    collectDefaultMetrics({ register: this.registry });
    this.unsubscribe = source.subscribe((event) => {
      // What another process wrote (a run this one follows) is counted by that process.
      if (event.type === 'execution' && !event.followed) this.observe(event.execution);
    });
  }

  /**
   * Where cronium_executions_queued comes from: a number or a function (a worker's own queue), or null for
   * the store's count of queued executions (the default). A function's failure makes the gauge NaN.
   */
  setQueueDepth(source: QueueDepthSource): void {
    this.queueDepthSource = source;
  }

  /** The exposition text (and its Content-Type) after reading the live gauges once. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    await this.readGauges();
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  /** Stops counting the core's events. */
  close(): void {
    this.unsubscribe();
  }

  /** Counts an execution's fallback the first time it shows, and its end once it is final. */
  private observe(execution: Execution): void {
    if (execution.fallbackReason && this.fellBack.add(execution.id))
      this.fallbacks.inc({ reason: helperFallbackKind(execution.fallbackReason) });
    if (!isFinal(execution.status) || !this.ended.add(execution.id)) return;
    const { status } = execution;
    this.executions.inc({ status, error_kind: execution.errorKind ?? NO_ERROR_KIND });
    if (execution.endedAt !== null)
      this.durations.observe({ status }, Math.max(0, execution.endedAt - execution.startedAt) / 1000);
  }

  private async readGauges(): Promise<void> {
    const status = await this.source.monitorStatus();
    const { open, leased } = status.sshConnections;
    this.connections.set({ state: 'leased' }, leased);
    this.connections.set({ state: 'idle' }, open - leased);
    this.tunnels.set(status.openTunnels);
    this.storeUp.set(status.store.reachable ? 1 : 0);
    this.leaseHeld.set(status.schedulerLeaseHeld ? 1 : 0);
    this.queueDepth.set(await this.queued(status));
  }

  private async queued(status: MonitorStatus): Promise<number> {
    const source = this.queueDepthSource;
    if (source === null) return status.store.reachable ? status.store.queuedExecutions : NaN;
    if (typeof source === 'number') return source;
    try {
      return await source();
    } catch {
      return NaN;
    }
  }
}

/** A set of the most recent ids, forgetting the oldest beyond `max` (so memory stays bounded). */
class RecentIds {
  private readonly ids = new Set<string>();
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  /** Adds an id; false when it was there already. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value!);
    return true;
  }
}
