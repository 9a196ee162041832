/**
 * The metrics' rules without hosts: fallback reasons mapped to their fixed kinds, and each execution
 * counted once however many times its final state is published.
 */
import { describe, expect, it } from 'vitest';

import type { CoreEvent, MonitorStatus } from '../src/contract.ts';
import type { Execution } from '../src/core/domain.ts';
import { HELPER_FALLBACK_KINDS, helperFallbackKind } from '../src/metrics/fallbackKinds.ts';
import { CroniumMetrics } from '../src/metrics/registry.ts';

describe('helper fallback kinds', () => {
  // The reason texts src/runtime/helperSession.ts and src/ssh/forwarding.ts write.
  it.each([
    ["the app's runtime API is not listening", 'runtime_down'],
    ['no token could be signed (secrets_unavailable: no data key)', 'token_failed'],
    [
      'the server refused remote port forwarding (is AllowTcpForwarding off in its sshd_config?)',
      'forwarding_refused',
    ],
    ['the reverse tunnel to web1 could not be opened: Not connected', 'tunnel_failed'],
    ['the reverse tunnel could not be opened: boom', 'tunnel_failed'],
    ['The connection to web1 is closed.', 'tunnel_failed'],
    [
      'a request through the tunnel did not reach the app (curl: (7) Failed to connect)',
      'tunnel_unreachable',
    ],
    ['neither curl nor wget is installed on web1', 'no_http_client'],
    ['something new', 'other'],
    ['', 'other'],
  ])('%j is %s', (reason, kind) => {
    expect(helperFallbackKind(reason)).toBe(kind);
  });

  it('is a small closed set, other last', () => {
    expect(HELPER_FALLBACK_KINDS.length).toBeLessThanOrEqual(8);
    expect(HELPER_FALLBACK_KINDS.at(-1)).toBe('other');
    expect(new Set(HELPER_FALLBACK_KINDS).size).toBe(HELPER_FALLBACK_KINDS.length);
  });
});

describe('counting executions from events', () => {
  const status: MonitorStatus = {
    sshConnections: { open: 0, leased: 0 },
    openTunnels: 0,
    store: { reachable: true, queuedExecutions: 0, latencyMs: 0 },
    schedulerLeaseHeld: null,
    runtimePort: null,
  };
  function fake() {
    let listener: ((e: CoreEvent) => void) | null = null;
    const metrics = new CroniumMetrics(
      {
        subscribe: (l) => {
          listener = l;
          return () => (listener = null);
        },
        monitorStatus: () => Promise.resolve(status),
      },
      { role: 'worker', version: 'test' },
    );
    const emit = (execution: Partial<Execution>) =>
      listener?.({
        type: 'execution',
        execution: {
          id: 'e1',
          status: 'running',
          errorKind: null,
          fallbackReason: null,
          startedAt: 1_000,
          endedAt: null,
          ...execution,
        } as Execution,
      });
    return { metrics, emit, subscribed: () => listener !== null };
  }
  const sample = async (metrics: CroniumMetrics, line: RegExp) => {
    const { text } = await metrics.scrape();
    return text.split('\n').filter((l) => line.test(l));
  };

  it('counts an end and a fallback once per execution, the duration in seconds', async () => {
    const { metrics, emit } = fake();
    emit({ fallbackReason: 'neither curl nor wget is installed on x' });
    emit({
      status: 'timed_out',
      errorKind: 'timed_out',
      endedAt: 3_500,
      fallbackReason: 'neither curl nor wget is installed on x',
    });
    // A chain step's update publishes the final execution again.
    emit({
      status: 'timed_out',
      errorKind: 'timed_out',
      endedAt: 3_500,
      fallbackReason: 'neither curl nor wget is installed on x',
    });
    expect(await sample(metrics, /^cronium_executions_total/)).toEqual([
      'cronium_executions_total{status="timed_out",error_kind="timed_out"} 1',
    ]);
    expect(await sample(metrics, /^cronium_execution_duration_seconds_(sum|count)/)).toEqual([
      'cronium_execution_duration_seconds_sum{status="timed_out"} 2.5',
      'cronium_execution_duration_seconds_count{status="timed_out"} 1',
    ]);
    expect(await sample(metrics, /^cronium_helper_fallbacks_total\{reason="no_http_client"\}/)).toEqual([
      'cronium_helper_fallbacks_total{reason="no_http_client"} 1',
    ]);
    // A detached execution has not ended.
    emit({ id: 'e2', status: 'detached' });
    expect(await sample(metrics, /^cronium_executions_total/)).toHaveLength(1);
  });

  it('stops counting on close()', () => {
    const { metrics, subscribed } = fake();
    expect(subscribed()).toBe(true);
    metrics.close();
    expect(subscribed()).toBe(false);
  });
});
