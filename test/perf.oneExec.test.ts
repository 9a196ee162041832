/**
 * Issue 10, connection set-up: a bundled run is ONE exec request. The runner's watcher runs the collector
 * itself when nothing of the script is left, and the helpers' results come back after the script's stderr
 * on the same session (see runner.sh, CollectTail); only when something may still write there (a
 * background job) does the app collect on a session of its own, as before. Counted on a real host: the
 * test user's ~/.bashrc logs every command sshd starts for it (Debian's bash reads it for ssh commands).
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CollectTail } from '../src/exec/collectTail.ts';
import type { CroniumService } from '../src/service/service.ts';
import { ownHosts, runJob, serviceWithHosts } from './support/fixtures.ts';

const h = ownHosts('oneexec');
const home = `/home/${h.user}`;
const sessionLog = join(home, 'sessions.log');

/** The commands sshd started for the test user (one per exec request) while `fn` ran, in order. */
async function sessionsDuring<T>(fn: () => Promise<T>): Promise<{ result: T; sessions: string[] }> {
  rmSync(sessionLog, { force: true });
  const result = await fn();
  let text = '';
  try {
    text = readFileSync(sessionLog, 'utf8');
  } catch {
    /* no session at all */
  }
  return { result, sessions: text.split('\n').filter(Boolean) };
}

/** The kind of each logged command: the runner's launch, the collector, a deploy, or as it is. */
const kinds = (sessions: string[]) =>
  sessions.map((c) =>
    /runner\.sh/.test(c) ? 'launch' : /collect\.sh/.test(c) ? 'collect' : c === 'sh -s' ? 'deploy' : c,
  );

const BASH_RESULTS = `cronium.output '{"n": 7, "s": "ü"}'
cronium.setVariable oneexec-var "from the script"
cronium.setCondition true
printf 'out\\n'
printf 'err without a newline' >&2
`;

describe('a bundled run takes one session', () => {
  let service: CroniumService;
  let close: () => Promise<void>;
  beforeAll(async () => {
    writeFileSync(join(home, '.bashrc'), 'printf "%s\\n" "$BASH_EXECUTION_STRING" >> "$HOME/sessions.log"\n');
    ({ service, close } = await serviceWithHosts({ tunnelLingerMs: 0 }, h));
    // The first run deploys the runner; the runs below find it there.
    const first = await runJob(service, { language: 'bash', script: 'true' }, ['h1']);
    expect(first.exec.status).toBe('succeeded');
  });
  afterAll(async () => {
    await close();
    h.removeUser();
  });

  it('launch, script, outputs, variables and condition: one exec request on the host', async () => {
    const { result: r, sessions } = await sessionsDuring(() =>
      runJob(service, { language: 'bash', script: BASH_RESULTS, helperMode: 'bundled' }, ['h1']),
    );
    expect(r.exec).toMatchObject({ status: 'succeeded', helperMode: 'bundled', output: { n: 7, s: 'ü' } });
    expect(r.exec.condition).toBe(true);
    expect(await service.getVariableValue('oneexec-var')).toBe('from the script');
    // The script's own output is stored as it wrote it: the collector's frames are not in it.
    expect(r.text('h1', 'stdout')).toBe('out\n');
    expect(r.text('h1', 'stderr')).toBe('err without a newline');
    expect(r.text('h1', 'system')).not.toMatch(/could not be collected/);
    expect(kinds(sessions)).toEqual(['launch']);
    // The work directory went with the collector.
    expect(workDirs()).not.toContain(r.exec.id);
  });

  it('Python and Node.js too', async () => {
    for (const [language, script] of [
      ['python', 'cronium.output({"lang": "py"})\n'],
      ['node', "cronium.output({ lang: 'js' });\n"],
    ] as const) {
      const { result: r, sessions } = await sessionsDuring(() =>
        runJob(service, { language, script, helperMode: 'bundled' }, ['h1']),
      );
      expect(r.exec.status).toBe('succeeded');
      expect(r.exec.output).toEqual({ lang: language === 'python' ? 'py' : 'js' });
      expect(kinds(sessions)).toEqual(['launch']);
    }
  });

  it('a background job still writing to the session: collected on a session of its own, output intact', async () => {
    const script = `cronium.output '{"bg": true}'
( sleep 1; printf 'late line\\n' >&2 ) &
printf 'early\\n' >&2
`;
    const { result: r, sessions } = await sessionsDuring(() =>
      runJob(service, { language: 'bash', script, helperMode: 'bundled' }, ['h1']),
    );
    expect(r.exec).toMatchObject({ status: 'succeeded', output: { bg: true } });
    expect(r.text('h1', 'stderr')).toBe('early\nlate line\n');
    expect(kinds(sessions)).toEqual(['launch', 'collect']);
    expect(workDirs()).not.toContain(r.exec.id);
  });

  it('cancelled: what the script left is still collected, on the same session', async () => {
    const job = await service.createJob({
      name: 'oneexec-cancel',
      language: 'bash',
      script: `cronium.output '{"before": "cancel"}'\nprintf 'started\\n'\nsleep 30\n`,
      helperMode: 'bundled',
    });
    const { result, sessions } = await sessionsDuring(async () => {
      const run = await service.startRun({ jobId: job.id, serverIds: ['h1'] });
      const started = new Promise<void>((resolve) => {
        const off = service.subscribe((e) => {
          if (e.type === 'log' && e.chunk.text.includes('started')) {
            off();
            resolve();
          }
        });
      });
      await started;
      await service.cancelRun(run.id);
      const done = await service.waitForRun(run.id);
      return await service.getExecution(done.executionIds[0]!);
    });
    expect(result).toMatchObject({ status: 'cancelled', output: { before: 'cancel' } });
    expect(kinds(sessions)).toEqual(['launch']);
  });
});

/** The work directories left on h1 for the test user (~/.cronium/runs). */
function workDirs(): string[] {
  try {
    return readdirSync(join(home, '.cronium', 'runs'));
  } catch {
    return [];
  }
}

describe('CollectTail', () => {
  const nonce = 'abc123';
  const frames = Buffer.from('\x1e.cronium.output.json 2\n{}');
  const stream = Buffer.concat([
    Buffer.from('script stderr \x1ecronium:abc12 not ours\n'),
    Buffer.from(`\x1ecronium:${nonce}:collect\n`),
    frames,
    Buffer.from(`\x1ecronium:${nonce}:collected\n`),
  ]);

  it('takes the frames out at any split of the stream', () => {
    for (let a = 0; a <= stream.length; a++) {
      for (const b of [a, Math.min(stream.length, a + 1), Math.min(stream.length, a + 17)]) {
        const tail = new CollectTail(nonce);
        const out = Buffer.concat([
          tail.push(stream.subarray(0, a)),
          tail.push(stream.subarray(a, b)),
          tail.push(stream.subarray(b)),
        ]);
        const { frames: got, rest } = tail.end();
        expect(Buffer.concat([out, rest]).toString()).toBe('script stderr \x1ecronium:abc12 not ours\n');
        expect(got?.toString()).toBe(frames.toString());
      }
    }
  });

  it('passes everything through without the begin line, holding back only a possible beginning of it', () => {
    const tail = new CollectTail(nonce);
    expect(tail.push(Buffer.from('plain\n')).toString()).toBe('plain\n');
    expect(tail.push(Buffer.from('ends with \x1ecronium:ab')).toString()).toBe('ends with ');
    expect(tail.started).toBe(false);
    expect(tail.end()).toEqual({ frames: null, rest: Buffer.from('\x1ecronium:ab') });
  });

  it('frames cut short (no closing line) are no frames', () => {
    const tail = new CollectTail(nonce);
    tail.push(Buffer.from(`x\x1ecronium:${nonce}:collect\n\x1e.cronium.output.json 9\n{"a"`));
    expect(tail.started).toBe(true);
    expect(tail.end().frames).toBeNull();
  });
});
