import { execFileSync } from 'node:child_process';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CroniumService } from '../src/service/service.ts';
import { withDatabase } from './support/database.ts';
import { ownHosts, runJob, serviceWithHosts } from './support/fixtures.ts';
import { onHost } from './support/sshHosts.ts';

// A test user of this file's own: its home (~/.cronium) and processes are nobody else's.
const h = ownHosts('exec');
afterAll(async () => h.removeUser());

describe('executor against real sshd hosts', () => {
  let service: CroniumService;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ service, close } = await serviceWithHosts({}, h));
  });
  afterAll(async () => close());

  it('keeps stdout and stderr apart and records the real exit code', async () => {
    const r = await runJob(
      service,
      { language: 'bash', script: 'echo out1; echo err1 >&2; echo out2; exit 42' },
      ['h1'],
    );
    expect(r.exec).toMatchObject({ status: 'failed', exitCode: 42, errorKind: 'script_failed' });
    expect(r.text('h1', 'stdout')).toBe('out1\nout2\n');
    expect(r.text('h1', 'stderr')).toBe('err1\n');
    expect(r.exec.timings.scriptMs).toBeGreaterThanOrEqual(0);
    expect(r.run.status).toBe('failed');
  });

  it.each([
    [
      'python',
      'import sys, os\nprint("py", sys.version_info[0], str(os.environ["CRONIUM_EXECUTION_ID"] == os.path.basename(os.getcwd())).lower())',
    ],
    [
      'node',
      'console.log("node", typeof process.versions.node, process.env.CRONIUM_WORK_DIR === process.cwd())',
    ],
    ['bash', 'echo "bash $BASH_VERSINFO $([ "$CRONIUM_WORK_DIR" = "$PWD" ] && echo true)"'],
  ] as const)('runs %s with the Cronium environment, in its work directory', async (language, script) => {
    const r = await runJob(service, { language, script }, ['h2']);
    expect(r.exec.status).toBe('succeeded');
    expect(r.text('h2', 'stdout')).toMatch(/^(py 3|node string|bash \d) true\n$/);
  });

  it('removes the work directory afterwards and keeps ~/.cronium private', async () => {
    const r = await runJob(
      service,
      { language: 'bash', script: 'echo "$CRONIUM_WORK_DIR"; stat -c %a "$CRONIUM_WORK_DIR"' },
      ['h1'],
    );
    const [workDir, mode] = r.text('h1', 'stdout').trim().split('\n');
    expect(workDir).toBe(`/home/${h.user}/.cronium/runs/${r.exec.id}`);
    expect(mode).toBe('700');
    expect(onHost(h, `test -e ${workDir} && echo present || echo gone`).trim()).toBe('gone');
    expect(onHost(h, 'stat -c %a ~/.cronium').trim()).toBe('700');
  });

  it('passes secrets on stdin only and masks them in the log', async () => {
    const marker = `secret-${Date.now()}`;
    const r = await runJob(
      service,
      {
        language: 'bash',
        script:
          // awk reads the secret from its environment, so its own command line does not hold it.
          'echo "token is $API_TOKEN"; echo "plain is $PLAIN"; echo "on command lines: $(ps -eo args | awk \'index($0, ENVIRON["API_TOKEN"]) {n++} END {print n+0}\')"',
        env: [
          { key: 'API_TOKEN', value: marker, secret: true },
          { key: 'PLAIN', value: 'shown' },
        ],
      },
      ['h1'],
    );
    expect(r.exec.status).toBe('succeeded');
    expect(r.text('h1', 'stdout')).toBe('token is ***\nplain is shown\non command lines: 0\n');
    const stored = JSON.stringify(
      await withDatabase(service, (db) => db.prepare('SELECT text FROM log_chunks').all()),
    );
    expect(stored).not.toContain(marker);
  });

  it('never shows a secret on a remote command line (ps during the run)', async () => {
    const marker = `pssecret-${Date.now()}`;
    const job = await service.createJob({
      name: 'ps-check',
      language: 'bash',
      script: 'sleep 2',
      env: [{ key: 'S', value: marker, secret: true }],
    });
    const run = await service.startRun({ jobId: job.id, serverIds: ['h2'] });
    // Polled until the script is seen running (a loaded machine may take a while to get there).
    let seen = '';
    const deadline = Date.now() + 15_000;
    while (!seen.includes('sleep 2') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      seen = onHost(h, 'ps -eo args');
    }
    expect(seen).toContain(`/runs/${run.executionIds[0]}/script.sh`);
    expect(seen).not.toContain(marker);
    await service.waitForRun(run.id);
  });

  it('streams a 20 MB output completely and in order', async () => {
    const r = await runJob(
      service,
      {
        language: 'python',
        script: 'import sys\nfor i in range(200000):\n    sys.stdout.write("%09d %s\\n" % (i, "x" * 89))',
      },
      ['h1'],
    );
    expect(r.exec.status).toBe('succeeded');
    const out = r.text('h1', 'stdout');
    expect(out.length).toBe(200000 * 100);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^000000000 x+$/);
    expect(lines[199999]).toMatch(/^000199999 x+$/);
    // Sequence numbers are gapless, so the log can be replayed exactly.
    const seqs = r.logs.h1!.map((c) => c.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i));
    // Large chunks are stored deflated: the database holds far less than the output.
    const stored = (await withDatabase(service, (db) =>
      db
        .prepare(
          'SELECT sum(length(packed)) AS packed, sum(length(text)) AS plain FROM log_chunks WHERE execution_id = ?',
        )
        .get(r.exec.id),
    )) as { packed: number; plain: number };
    expect(stored.packed + stored.plain).toBeLessThan(out.length / 3);
  });

  it('times out, ends the whole remote process tree, and says so', async () => {
    const tag = `cronium-timeout-${Date.now()}`;
    const r = await runJob(
      service,
      {
        language: 'bash',
        script: `sleep 300 & sleep 301 & (trap '' TERM; exec -a ${tag} sleep 302) & echo started; wait`,
        timeoutSec: 1,
      },
      ['h1'],
    );
    expect(r.exec.status).toBe('timed_out');
    expect(r.exec.errorKind).toBe('timed_out');
    expect(r.exec.exitCode).not.toBe(0);
    expect(r.text('h1', 'stdout')).toBe('started\n');
    expect(r.text('h1', 'system')).toMatch(/timed out after 1 s/);
    // Even the child that ignores TERM is gone after the grace period (KILL).
    let left = '';
    for (let i = 0; i < 40; i++) {
      left = onHost(
        h,
        `ps -u ${h.user} -o pid=,args= | grep -E 'sleep 30[012]|${tag}' | grep -v grep`,
      ).trim();
      if (!left) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(left).toBe('');
  });

  it('cancels a running execution and leaves no process behind', async () => {
    const job = await service.createJob({
      name: 'long',
      language: 'python',
      script:
        'import time, subprocess\nsubprocess.Popen(["sleep", "400"])\nprint("running", flush=True)\ntime.sleep(400)',
    });
    const run = await service.startRun({ jobId: job.id, serverIds: ['h2'] });
    await new Promise<void>((resolve) => {
      const off = service.subscribe((e) => {
        if (e.type === 'log' && e.chunk.text.includes('running')) {
          off();
          resolve();
        }
      });
    });
    expect(await service.cancelRun(run.id)).toBe(true);
    const done = await service.waitForRun(run.id);
    expect(done.status).toBe('cancelled');
    expect((await service.getExecution(done.executionIds[0]!)).status).toBe('cancelled');
    expect(onHost(h, `ps -u ${h.user} -o args= | grep -E '^sleep 400' | grep -v grep`).trim()).toBe('');
  });

  it('reports a missing interpreter as such, not as exit 127', async () => {
    const r = await runJob(service, { language: 'python', script: 'print(1)' }, ['h3']);
    expect(r.exec.status).toBe('error');
    expect(r.exec.errorKind).toBe('interpreter_missing');
    expect(r.exec.errorMessage).toBe('python3 not found on h3: install it or pick another language.');
    expect(r.text('h3')).toBe('');
  });

  it('runs on three hosts in parallel; one failing makes the run partial', async () => {
    const r = await runJob(service, { language: 'python', script: 'import socket\nprint("hi")' }, [
      'h1',
      'h2',
      'h3',
    ]);
    const byServer = Object.fromEntries(r.executions.map((e) => [e.serverName, e.status]));
    expect(byServer).toEqual({ h1: 'succeeded', h2: 'succeeded', h3: 'error' });
    expect(r.run.status).toBe('partial');
  });

  it('keeps to the concurrency limit', async () => {
    // Each execution appends its start and end to a shared file; with a limit of 1 they never overlap.
    const file = `/tmp/cronium-concurrency-${Date.now()}`;
    const script = `echo start >> ${file}; sleep 0.3; echo end >> ${file}`;
    const r = await runJob(service, { language: 'bash', script }, ['h1', 'h2'], { concurrency: 1 });
    expect(r.run.status).toBe('succeeded');
    expect(onHost(h, `cat ${file}; rm -f ${file}`).trim().split('\n')).toEqual([
      'start',
      'end',
      'start',
      'end',
    ]);
  });

  it('deploys the runner again when someone removed ~/.cronium', async () => {
    await runJob(service, { language: 'bash', script: 'true' }, ['h2']);
    onHost(h, 'rm -rf ~/.cronium');
    const r = await runJob(service, { language: 'bash', script: 'echo again' }, ['h2']);
    expect(r.exec.status).toBe('succeeded');
    expect(r.text('h2', 'stdout')).toBe('again\n');
  });

  it('pushes live events: status changes in order, logs before the final status', async () => {
    const seen: string[] = [];
    const off = service.subscribe((e) => {
      if (e.type === 'execution') seen.push(e.execution.status);
      if (e.type === 'log') seen.push(`log:${e.chunk.text.trim()}`);
      if (e.type === 'run') seen.push(`run:${e.run.status}`);
    });
    await runJob(service, { language: 'bash', script: 'echo one' }, ['h1']);
    off();
    expect(seen).toEqual(['run:running', 'connecting', 'running', 'log:one', 'succeeded', 'run:succeeded']);
  });
});

describe('executor: losing the connection mid-run', () => {
  it('reports connection_lost and leaves no process of the script on the host', async () => {
    const { service, close } = await serviceWithHosts({}, h);
    try {
      const tag = `cronium-lost-${Date.now()}`;
      const job = await service.createJob({
        name: 'lost',
        language: 'bash',
        script: `exec -a ${tag} sleep 300 & echo "up $PPID"; wait`,
      });
      const run = await service.startRun({ jobId: job.id, serverIds: ['h2'] });
      // The script is the session's own process: its parent is the sshd process serving this connection.
      const sshdPid = await new Promise<string>((resolve) => {
        const off = service.subscribe((e) => {
          const m = e.type === 'log' ? /up (\d+)/.exec(e.chunk.text) : null;
          if (m) {
            off();
            resolve(m[1]!);
          }
        });
      });
      expect(onHost(h, `ps -o args= -p ${sshdPid}`)).toMatch(/^sshd: crtest/);
      execFileSync('kill', ['-KILL', sshdPid]);
      const done = await service.waitForRun(run.id);
      const execution = await service.getExecution(done.executionIds[0]!);
      expect(execution.status).toBe('error');
      expect(execution.errorKind).toBe('connection_lost');
      let left = '';
      for (let i = 0; i < 50; i++) {
        left = onHost(h, `ps -u ${h.user} -o args= | grep ${tag} | grep -v grep`).trim();
        if (!left) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      expect(left).toBe('');
    } finally {
      await close();
    }
  });
});
