/**
 * The rules of chains and notices without hosts: which links an outcome fires, finding a loop, when a
 * run is announced and in which words, the desktop app's notifier (with a fake Notification), and the
 * webhook's retry rule (a 4xx other than 408/429 is final) against a local HTTP server.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { describe, expect, it } from 'vitest';

import { notifyFinishedRuns } from '../electron/notifications.ts';
import type { CoreEvent, Job } from '../src/contract.ts';
import { chainEventsOf, findChainCycle } from '../src/core/chains.ts';
import { EXECUTION_STATUSES, type ChainLink, type Run } from '../src/core/domain.ts';
import { runNotice, shouldNotify } from '../src/core/notices.ts';
import { sendWebhook, webhookPayload } from '../src/service/notices.ts';

const link = (jobId: string, on: ChainLink['on'] = 'success'): ChainLink => ({ on, jobId, servers: 'same' });

describe('chain rules', () => {
  it('fires success, failure and condition links from an outcome; a cancelled execution fires none', () => {
    const fired = Object.fromEntries(
      EXECUTION_STATUSES.map((status) => [status, chainEventsOf({ status, condition: null })]),
    );
    expect(fired).toMatchObject({
      succeeded: ['success'],
      failed: ['failure'],
      timed_out: ['failure'],
      error: ['failure'],
      cancelled: [],
    });
    expect(chainEventsOf({ status: 'succeeded', condition: true })).toEqual(['success', 'condition']);
    expect(chainEventsOf({ status: 'failed', condition: true })).toEqual(['failure', 'condition']);
    expect(chainEventsOf({ status: 'succeeded', condition: false })).toEqual(['success']);
    expect(chainEventsOf({ status: 'cancelled', condition: true })).toEqual([]);
  });

  it('finds a loop through links of any event, and none in a tree with shared branches', () => {
    const jobs = (edges: Record<string, ChainLink[]>) =>
      Object.entries(edges).map(([id, chain]) => ({ id, name: `job-${id}`, chain }));
    expect(findChainCycle(jobs({ a: [link('b')], b: [link('c'), link('d')], c: [link('d')], d: [] }))).toBe(
      null,
    );
    expect(
      findChainCycle(jobs({ a: [link('b')], b: [link('c', 'failure')], c: [link('a', 'condition')] })),
    ).toEqual(['job-a', 'job-b', 'job-c', 'job-a']);
    expect(findChainCycle(jobs({ a: [link('a')] }))).toEqual(['job-a', 'job-a']);
    // A link to a job not in the list (removed) is no loop.
    expect(findChainCycle(jobs({ a: [link('gone')] }))).toBe(null);
  });
});

describe('notices', () => {
  const run: Run = {
    id: 'r1',
    jobId: 'j1',
    jobName: 'backup',
    input: null,
    trigger: 'chain',
    concurrency: 10,
    helperMode: 'auto',
    status: 'partial',
    startedAt: 1_700_000_000_000,
    endedAt: 1_700_000_002_500,
    executionIds: ['e1', 'e2'],
    serverNames: ['web1', 'web2'],
    scheduleId: null,
    params: {},
    retryOf: null,
    attempt: 1,
    parentExecutionId: 'e0',
    chainDepth: 1,
    notifications: [],
    startedBy: null,
  };

  it('announces on failure every final status but succeeded, always all of them, never none', () => {
    const statuses = ['running', 'succeeded', 'partial', 'failed', 'cancelled'] as const;
    const table = (when: 'never' | 'failure' | 'always') => statuses.filter((s) => shouldNotify(when, s));
    expect(table('never')).toEqual([]);
    expect(table('failure')).toEqual(['partial', 'failed', 'cancelled']);
    expect(table('always')).toEqual(['succeeded', 'partial', 'failed', 'cancelled']);
    expect(runNotice(run)).toEqual({
      title: 'backup partly failed',
      body: "2 servers, started by a chain. Open Cronium's history for the details.",
    });
  });

  it('shows one desktop notification per finished run whose job asks for it (the Electron adapter)', async () => {
    let listener: (event: CoreEvent) => void = () => {};
    const jobs: Record<string, Partial<Job>> = {
      j1: { desktopNotify: 'failure' },
      j2: { desktopNotify: 'never' },
    };
    const shown: { title: string; body: string }[] = [];
    notifyFinishedRuns(
      {
        subscribe: (l) => ((listener = l), () => {}),
        getJob: async (id) => {
          if (!jobs[id]) throw new Error('No job');
          return jobs[id] as Job;
        },
      },
      (notice) => shown.push(notice),
    );
    listener({ type: 'run', run: { ...run, status: 'running' } });
    listener({ type: 'run', run });
    listener({ type: 'run', run }); // the second event of the same run (its webhook's result)
    listener({ type: 'run', run: { ...run, id: 'r2', status: 'succeeded' } });
    listener({ type: 'run', run: { ...run, id: 'r3', jobId: 'j2', status: 'failed' } });
    listener({ type: 'run', run: { ...run, id: 'r4', jobId: 'removed', status: 'failed' } });
    // The adapter reads each job before it shows a notice: let those reads (already answered) finish.
    await new Promise((resolve) => setImmediate(resolve));
    expect(shown.map((n) => n.title)).toEqual(['backup partly failed']);
  });

  it('does not retry a webhook the server refuses with a 4xx other than 408 and 429', async () => {
    const statuses = [404, 429, 200];
    let hits = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        hits++;
        res.statusCode = statuses.shift()!;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x/T0KEN`;
    try {
      const payload = webhookPayload(run, []);
      const refused = await sendWebhook(url, payload, { backoffMs: 10 });
      expect(refused).toMatchObject({ ok: false, attempts: 1, httpStatus: 404 });
      expect(refused.error).toBe('the server answered HTTP 404 (after 1 try)');
      // 429 is worth another try.
      expect(await sendWebhook(url, payload, { backoffMs: 10 })).toMatchObject({ ok: true, attempts: 2 });
      expect(hits).toBe(3);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('gives up on a webhook that does not answer within its timeout, without naming the URL', async () => {
    const server = createServer(() => {}); // never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x/T0KEN`;
    try {
      const result = await sendWebhook(url, webhookPayload(run, []), {
        attempts: 2,
        backoffMs: 10,
        timeoutMs: 200,
      });
      expect(result).toMatchObject({ ok: false, attempts: 2, httpStatus: null });
      expect(result.error).toBe('could not be delivered: no answer within 200 ms (after 2 tries)');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
