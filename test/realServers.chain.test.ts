/**
 * Issue 12, parts 3 and 4 on real hosts: chained jobs (on success, on failure, on condition; the next job
 * gets the output as its input; loops refused when saved; a depth limit at run time) and a run's webhook
 * (received by a local HTTP server, retried with backoff, a failure recorded on the run and never failing
 * it), through the service and through the `cronium` command line.
 */
import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Execution, Run } from '../src/core/domain.ts';
import { CroniumError } from '../src/core/errors.ts';
import type { WebhookPayload } from '../src/service/notices.ts';
import type { CroniumService } from '../src/service/service.ts';
import { runCli } from './support/cli.ts';
import { ownHosts, serviceWithHosts, tempDir } from './support/fixtures.ts';

const h = ownHosts('chain');

/** A local HTTP server that records each request's body and answers with the next status of `answers`. */
async function hookServer(answers: number[] = []): Promise<{
  url: string;
  bodies: unknown[];
  received: (n: number) => Promise<void>;
  close: () => Promise<void>;
}> {
  const bodies: unknown[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const server: HttpServer = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString('utf8')));
    req.on('end', () => {
      bodies.push({
        method: req.method,
        type: req.headers['content-type'],
        body: JSON.parse(text) as unknown,
      });
      res.statusCode = answers.shift() ?? 200;
      res.end('ok');
      for (const w of waiters.filter((w) => bodies.length >= w.n)) w.resolve();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    // A token in the path, as a chat service's webhook URL carries one.
    url: `http://127.0.0.1:${port}/hooks/T0KEN-s3cr3t-path`,
    bodies,
    received: (n) =>
      bodies.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('chained jobs on real hosts', () => {
  let service: CroniumService;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ service, close } = await serviceWithHosts({ maxChainDepth: 2, webhook: { backoffMs: 50 } }, h));
  });
  afterAll(async () => {
    await close();
  });

  /** Starts `job` on `servers` and waits for it and its whole chain. */
  async function runChain(job: string, servers: string[]): Promise<{ run: Run; chained: Run[] }> {
    const started = await service.startRun({ jobId: job, serverIds: servers });
    const run = await service.waitForRun(started.id);
    return { run: await service.getRun(run.id), chained: await service.waitForChain(started.id) };
  }
  const executionsOf = (run: Run): Promise<Execution[]> =>
    Promise.all(run.executionIds.map((id) => service.getExecution(id)));
  const logOf = async (e: Execution) =>
    (await service.readLog(e.id))
      .filter((c) => c.stream === 'stdout')
      .map((c) => c.text)
      .join('');

  it('runs the on-success job on the same server with the output as its input', async () => {
    const next = await service.createJob({
      name: 'succ-next',
      language: 'python',
      script: 'n = cronium.input()["n"]\nprint("got", n)\ncronium.output({"doubled": n * 2})\n',
    });
    const other = await service.createJob({ name: 'succ-other', language: 'bash', script: 'echo never' });
    await service.createJob({
      name: 'succ-first',
      language: 'python',
      script: 'import random\nn = random.randint(1, 10**6)\nprint(n)\ncronium.output({"n": n})\n',
      chain: [
        { on: 'success', jobId: 'succ-next' },
        { on: 'failure', jobId: 'succ-other' },
      ],
    });
    const { run, chained } = await runChain('succ-first', ['h1', 'h2']);
    expect(run.status).toBe('succeeded');
    // One chained run per execution, each on that execution's server: the failure link stayed still.
    expect(chained).toHaveLength(2);
    const parents = await executionsOf(run);
    for (const parent of parents) {
      const child = chained.find((c) => c.parentExecutionId === parent.id)!;
      expect(child).toMatchObject({ jobId: next.id, trigger: 'chain', chainDepth: 1, status: 'succeeded' });
      const [e] = await executionsOf(child);
      expect(e!.serverName).toBe(parent.serverName);
      const n = (parent.output as { n: number }).n;
      expect(child.input).toEqual({ n });
      expect(await logOf(e!)).toBe(`got ${n}\n`);
      expect(e!.output).toEqual({ doubled: n * 2 });
      // The parent records what its links did.
      expect(parent.chain).toEqual([
        expect.objectContaining({ on: 'success', jobName: 'succ-next', runId: child.id, skipped: null }),
      ]);
    }
    expect(chained.some((c) => c.jobId === other.id)).toBe(false);
  });

  it('runs the on-failure job, on its own servers when the link says so, and not the on-success one', async () => {
    await service.createJob({
      name: 'fail-handler',
      language: 'bash',
      script: 'echo "handling $(cronium.input status)"',
      defaultServerIds: ['h2'],
    });
    await service.createJob({ name: 'fail-succ', language: 'bash', script: 'echo never' });
    await service.createJob({
      name: 'fail-first',
      language: 'bash',
      script: 'cronium_output \'{"status": "disk full"}\'\nexit 3',
      chain: [
        { on: 'failure', jobId: 'fail-handler', servers: 'own' },
        { on: 'success', jobId: 'fail-succ' },
      ],
    });
    const { run, chained } = await runChain('fail-first', ['h1']);
    expect(run.status).toBe('failed');
    expect((await executionsOf(run))[0]).toMatchObject({ status: 'failed', exitCode: 3 });
    expect(chained.map((c) => c.jobName)).toEqual(['fail-handler']);
    const [e] = await executionsOf(chained[0]!);
    expect(e!.serverName).toBe('h2');
    expect(await logOf(e!)).toBe('handling disk full\n');
  });

  it('runs the on-condition job only when the script set its condition to true', async () => {
    await service.createJob({ name: 'cond-next', language: 'bash', script: 'echo conditioned' });
    await service.createJob({
      name: 'cond-first',
      language: 'python',
      script: 'import sys\ncronium.setCondition(cronium.input()["flag"])\n',
      chain: [{ on: 'condition', jobId: 'cond-next' }],
    });
    const flagged = await service.startRun({ jobId: 'cond-first', serverIds: ['h1'], input: { flag: true } });
    await service.waitForRun(flagged.id);
    const chained = await service.waitForChain(flagged.id);
    expect(chained.map((c) => [c.jobName, c.status])).toEqual([['cond-next', 'succeeded']]);
    expect(await logOf((await executionsOf(chained[0]!))[0]!)).toBe('conditioned\n');

    const plain = await service.startRun({ jobId: 'cond-first', serverIds: ['h1'], input: { flag: false } });
    await service.waitForRun(plain.id);
    expect(await service.waitForChain(plain.id)).toEqual([]);
    expect((await executionsOf(await service.getRun(plain.id)))[0]).toMatchObject({
      condition: false,
      chain: [],
    });
  });

  it('refuses links that make a loop when saved, naming it, and changes nothing', async () => {
    await service.createJob({ name: 'loop-c', language: 'bash', script: 'true' });
    await service.createJob({
      name: 'loop-b',
      language: 'bash',
      script: 'true',
      chain: [{ on: 'failure', jobId: 'loop-c' }],
    });
    await service.createJob({
      name: 'loop-a',
      language: 'bash',
      script: 'true',
      chain: [{ on: 'success', jobId: 'loop-b' }],
    });
    const c = await service.getJob('loop-c');
    let error: unknown;
    try {
      await service.updateJob('loop-c', { ...c, chain: [{ on: 'condition', jobId: 'loop-a' }] });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CroniumError);
    expect((error as CroniumError).kind).toBe('invalid_input');
    expect((error as CroniumError).fields?.chain).toMatch(/loop-c → loop-a → loop-b → loop-c/);
    expect((await service.getJob('loop-c')).chain).toEqual([]);
    // A job that names itself is refused too.
    await expect(
      service.updateJob('loop-c', { ...c, chain: [{ on: 'success', jobId: 'loop-c' }] }),
    ).rejects.toThrow(/cannot start itself/);
  });

  it('stops a chain at the depth limit and records it on the last run', async () => {
    // maxChainDepth is 2 here: d0 → d1 → d2 run, d2's link to d3 is skipped.
    await service.createJob({ name: 'depth-3', language: 'bash', script: 'echo three' });
    for (const [name, next] of [
      ['depth-2', 'depth-3'],
      ['depth-1', 'depth-2'],
      ['depth-0', 'depth-1'],
    ] as const)
      await service.createJob({
        name,
        language: 'bash',
        script: `echo ${name}`,
        chain: [{ on: 'success', jobId: next }],
      });
    const { chained } = await runChain('depth-0', ['h1']);
    expect(chained.map((c) => [c.jobName, c.chainDepth])).toEqual([
      ['depth-1', 1],
      ['depth-2', 2],
    ]);
    const last = (await executionsOf(chained[1]!))[0]!;
    expect(last.chain).toEqual([
      expect.objectContaining({
        jobName: 'depth-3',
        runId: null,
        skipped: 'the chain depth limit (2) was reached',
      }),
    ]);
    // Each run links its parent, up to the first.
    const first = await service.getExecution(chained[0]!.parentExecutionId!);
    expect(first.jobName).toBe('depth-0');
    expect((await service.getExecution(chained[1]!.parentExecutionId!)).runId).toBe(chained[0]!.id);
  });

  it('removes the links to a job that is removed, and says from which jobs', async () => {
    await service.createJob({ name: 'rm-target', language: 'bash', script: 'true' });
    await service.createJob({ name: 'rm-keep', language: 'bash', script: 'true' });
    await service.createJob({
      name: 'rm-source',
      language: 'bash',
      script: 'true',
      chain: [
        { on: 'success', jobId: 'rm-target' },
        { on: 'failure', jobId: 'rm-keep' },
      ],
    });
    expect(await service.removeJob('rm-target')).toEqual({ unlinkedFrom: ['rm-source'] });
    expect((await service.getJob('rm-source')).chain).toEqual([
      { on: 'failure', jobId: (await service.getJob('rm-keep')).id, servers: 'same' },
    ]);
  });

  it('POSTs the run summary to a webhook, with per-host status and exit codes', async () => {
    const hook = await hookServer();
    try {
      const job = await service.createJob({
        name: 'hooked',
        language: 'python',
        script: 'import sys\nsys.exit(0 if cronium.event()["server"]["name"] == "h1" else 7)\n',
        webhook: { url: hook.url, notify: 'always' },
      });
      // The URL never leaves the core: clients see its origin only.
      expect(job.webhook).toEqual({ notify: 'always', origin: new URL(hook.url).origin });
      expect(JSON.stringify(await service.listJobs())).not.toContain('T0KEN');
      const { run } = await runChain('hooked', ['h1', 'h2']);
      await hook.received(1);
      const executions = await executionsOf(run);
      const byServer = Object.fromEntries(executions.map((e) => [e.serverName, e]));
      expect(hook.bodies).toHaveLength(1);
      const { method, type, body } = hook.bodies[0] as {
        method: string;
        type: string;
        body: WebhookPayload;
      };
      expect(method).toBe('POST');
      expect(type).toBe('application/json');
      expect(body).toMatchObject({
        event: 'run.finished',
        job: { id: job.id, name: 'hooked' },
        run: {
          id: run.id,
          status: run.status,
          trigger: 'manual',
          startedAt: new Date(run.startedAt).toISOString(),
          endedAt: new Date(run.endedAt!).toISOString(),
          durationMs: run.endedAt! - run.startedAt,
          link: `cronium://run/${run.id}`,
        },
      });
      expect((body.hosts as { server: string }[]).sort((a, b) => a.server.localeCompare(b.server))).toEqual(
        ['h1', 'h2'].map((name) => ({
          server: name,
          serverId: byServer[name]!.serverId,
          executionId: byServer[name]!.id,
          status: byServer[name]!.status,
          exitCode: byServer[name]!.exitCode,
          error: byServer[name]!.errorMessage,
          durationMs: byServer[name]!.endedAt! - byServer[name]!.startedAt,
        })),
      );
      expect((await service.getRun(run.id)).notifications).toEqual([
        expect.objectContaining({ channel: 'webhook', ok: true, attempts: 1, httpStatus: 200, error: null }),
      ]);
    } finally {
      await hook.close();
    }
  });

  it('retries a failing webhook with backoff until it is delivered', async () => {
    const hook = await hookServer([503, 502]);
    try {
      await service.createJob({
        name: 'hook-retry',
        language: 'bash',
        script: 'exit 1',
        webhook: { url: hook.url },
      });
      const { run } = await runChain('hook-retry', ['h1']);
      expect(run.status).toBe('failed');
      expect(hook.bodies).toHaveLength(3);
      expect((await service.getRun(run.id)).notifications).toEqual([
        expect.objectContaining({ ok: true, attempts: 3, httpStatus: 200 }),
      ]);
    } finally {
      await hook.close();
    }
  });

  it('records a webhook that cannot be delivered on the run without failing it, and only on failure when asked', async () => {
    const hook = await hookServer();
    const deadUrl = hook.url;
    await hook.close();
    await service.createJob({
      name: 'hook-dead',
      language: 'bash',
      script: 'echo fine',
      webhook: { url: deadUrl, notify: 'always' },
    });
    const { run } = await runChain('hook-dead', ['h1']);
    expect(run.status).toBe('succeeded');
    const [n] = (await service.getRun(run.id)).notifications;
    expect(n).toMatchObject({ channel: 'webhook', ok: false, attempts: 4, httpStatus: null });
    expect(n!.error).toMatch(/ECONNREFUSED.*after 4 tries/);
    expect(n!.error).not.toContain('T0KEN');

    // notify failure (the default): a run that succeeds sends nothing.
    const quiet = await hookServer();
    try {
      await service.createJob({
        name: 'hook-quiet',
        language: 'bash',
        script: 'true',
        webhook: { url: quiet.url },
      });
      const ok = await runChain('hook-quiet', ['h1']);
      expect(ok.run.status).toBe('succeeded');
      expect((await service.getRun(ok.run.id)).notifications).toEqual([]);
      expect(quiet.bodies).toEqual([]);
    } finally {
      await quiet.close();
    }
  });
});

describe('chained jobs and webhooks from the command line', () => {
  const dir = tempDir();
  const env = { CRONIUM_DATA_DIR: dir.path };
  const cli = (args: string[], stdin?: string) => runCli(args, env, stdin);
  afterAll(async () => dir.remove());

  // Each `cronium` here is a process started from the sources: slow on a loaded machine.
  const SLOW = 180_000;

  it(
    'adds links with --on-success/--on-failure, runs the chain, and shows it',
    async () => {
      const server = h.hosts.h1;
      expect(
        (
          await cli([
            'server',
            'add',
            'web',
            '--host',
            server.address,
            '--port',
            String(server.port),
            '--user',
            h.user,
            '--key',
            h.keyPath,
          ])
        ).code,
      ).toBe(0);
      expect(
        (
          await cli([
            'job',
            'add',
            'report',
            '--lang',
            'bash',
            '--script',
            'echo "report for $(cronium.input host)"',
          ])
        ).code,
      ).toBe(0);
      expect((await cli(['job', 'add', 'alert', '--lang', 'bash', '--script', 'echo alert'])).code).toBe(0);
      const hook = await hookServer();
      try {
        const added = await cli(
          [
            'job',
            'add',
            'probe',
            '--lang',
            'python',
            '--script',
            'cronium.output({"host": cronium.event()["server"]["name"]})',
            '--on-success',
            'report',
            '--on-failure',
            'alert:own',
            '--webhook',
            '-',
            '--notify',
            'always',
          ],
          `${hook.url}\n`,
        );
        expect(added.stderr).toBe('');
        expect(added.code).toBe(0);
        const shown = await cli(['job', 'show', 'probe']);
        expect(shown.stdout).toContain('chain:    on success → report (same server)');
        expect(shown.stdout).toContain('on failure → alert (its own servers)');
        expect(shown.stdout).toContain(`webhook:  ${new URL(hook.url).origin}/… (on always)`);
        expect(shown.stdout).not.toContain('T0KEN');

        const run = await cli(['run', 'probe', '--on', 'web', '--json']);
        expect(run.code).toBe(0);
        const result = JSON.parse(run.stdout) as { run: Run; executions: Execution[]; chained: Run[] };
        expect(result.chained.map((c) => [c.jobName, c.status, c.trigger])).toEqual([
          ['report', 'succeeded', 'chain'],
        ]);
        const parent = result.executions[0]!;
        expect(result.chained[0]!.parentExecutionId).toBe(parent.id);
        expect(hook.bodies).toHaveLength(1);

        const child = await cli(['show', result.chained[0]!.executionIds[0]!]);
        expect(child.stdout).toContain('trigger:    chain');
        expect(child.stdout).toContain(`parent:     ${parent.id} (chain depth 1)`);
        expect(child.stdout).toMatch(/--- log ---\nreport for web\n/);
        const shownParent = await cli(['show', parent.id]);
        expect(shownParent.stdout).toContain(
          `chain:      on success → report: run ${result.chained[0]!.id.slice(0, 8)}`,
        );
        expect(shownParent.stdout).toMatch(/webhook: {4}delivered \(HTTP 200, 1 try\)/);
      } finally {
        await hook.close();
      }
    },
    SLOW,
  );

  it(
    'refuses a loop naming it, removes links with the job they lead to, and clears them with --no-chain',
    async () => {
      const loop = await cli(['job', 'edit', 'report', '--on-failure', 'probe']);
      expect(loop.code).not.toBe(0);
      expect(loop.stderr).toContain('report → probe → report');
      const removed = await cli(['job', 'remove', 'report']);
      expect(removed.stdout).toContain('Removed the chain links to it from probe.');
      expect((await cli(['job', 'edit', 'probe', '--no-chain', '--no-webhook'])).code).toBe(0);
      const after = await cli(['job', 'show', 'probe']);
      expect(after.stdout).toContain('chain:    -');
      expect(after.stdout).toContain('webhook:  -');
    },
    SLOW,
  );
});
