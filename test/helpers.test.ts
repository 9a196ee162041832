import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import type { Execution } from '../src/core/domain.ts';
import type { CroniumService } from '../src/service/service.ts';
import { ownHosts, runJob, serviceWithHosts } from './support/fixtures.ts';
import { onHost } from './support/sshHosts.ts';

const INPUT = { n: 1.5, s: 'text with "quotes"', nested: { list: [1, 'two', { three: null }], ok: true } };
const OBJ = { a: [1, { b: null }], t: true };

/** The same script in each language: reads input and event, sets three variables, a condition, an output. */
function script(language: 'bash' | 'python' | 'node', p: string): string {
  if (language === 'python') {
    return `prev = cronium.getVariable("${p}-obj")
cronium.setVariable("${p}-str", "hello")
cronium.setVariable("${p}-num", 42)
cronium.setVariable("${p}-obj", {"a": [1, {"b": None}], "t": True})
cronium.setCondition(True)
import cronium as imported
cronium.output({"got": cronium.input(), "event": cronium.event(), "prev": prev, "num": imported.getVariable("${p}-num"), "cond": cronium.getCondition(), "missing": cronium.getVariable("${p}-none")})
`;
  }
  if (language === 'node') {
    return `const prev = cronium.getVariable('${p}-obj');
cronium.setVariable('${p}-str', 'hello');
cronium.setVariable('${p}-num', 42);
cronium.setVariable('${p}-obj', { a: [1, { b: null }], t: true });
cronium.setCondition(true);
(async () => {
  cronium.output({ got: await cronium.input(), event: cronium.event(), prev, num: cronium.getVariable('${p}-num'), cond: cronium.getCondition(), missing: cronium.getVariable('${p}-none') });
})();
`;
  }
  return `set -e
prev=$(cronium.getVariable ${p}-obj)
cronium.setVariable ${p}-str hello
cronium_setVariable ${p}-num 42
cronium.setVariable ${p}-obj '{"a":[1,{"b":null}],"t":true}'
cronium.setCondition true
missing=$(cronium_getVariable ${p}-none)
[ -z "$missing" ]
cronium.output "{\\"got\\":$(cronium.input),\\"event\\":$(cronium_event),\\"prev\\":\${prev:-null},\\"num\\":$(cronium.getVariable ${p}-num),\\"cond\\":$(cronium.getCondition),\\"str\\":\\"$(cronium.getVariable ${p}-str)\\",\\"missing\\":null}"
`;
}

// A test user of this file's own: its home (~/.cronium) and processes are nobody else's.
const h = ownHosts('helpers');
afterAll(async () => h.removeUser());

describe('runtime helpers on real hosts', () => {
  let service: CroniumService;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ service, close } = await serviceWithHosts({ tunnelLingerMs: 0 }, h));
  });
  afterAll(async () => close());

  describe.each(['bash', 'python', 'node'] as const)('%s', (language) => {
    it.each(['api', 'bundled'] as const)(
      'in %s mode: input, output, typed variables across runs, event, condition',
      async (mode) => {
        const p = `${language}-${mode}`;
        const job = { name: `helpers-${p}`, language, script: script(language, p) };
        const first = await runJob(service, job, ['h1'], { input: INPUT, helperMode: mode });
        expect(first.text('h1', 'stderr')).toBe('');
        expect(first.exec).toMatchObject({
          status: 'succeeded',
          helperMode: mode,
          fallbackReason: null,
          condition: true,
        });
        const out = first.exec.output as Record<string, unknown>;
        expect(out.got).toEqual(INPUT);
        expect(out.prev).toBeNull();
        expect(out.num).toBe(42);
        expect(out.cond).toBe(true);
        expect(out.missing).toBeNull();
        if (language === 'bash') expect(out.str).toBe('hello');
        expect(out.event).toMatchObject({
          executionId: first.exec.id,
          jobId: first.exec.jobId,
          jobName: job.name,
          language,
          server: { id: first.exec.serverId, name: 'h1', host: h.hosts.h1.address },
          runId: first.run.id,
          trigger: 'manual',
          attempt: 1,
        });
        expect(typeof (out.event as { startedAt: unknown }).startedAt).toBe('string');
        // What the script set is in the shared store, with its type.
        expect(await service.getVariableValue(`${p}-str`)).toBe('hello');
        expect(await service.getVariableValue(`${p}-num`)).toBe(42);
        expect(await service.getVariableValue(`${p}-obj`)).toEqual(OBJ);
        expect(first.exec.variableChanges.map((c) => `${c.op} ${c.key}`).sort()).toEqual([
          `set ${p}-num`,
          `set ${p}-obj`,
          `set ${p}-str`,
        ]);
        // A later run reads the object back.
        const second = await service.startRun({
          jobId: (await service.getJob(job.name)).id,
          serverIds: ['h1'],
          input: INPUT,
          helperMode: mode,
        });
        const done = await service.waitForRun(second.id);
        const again = await service.getExecution(done.executionIds[0]!);
        expect(again, (await service.readLog(again.id)).map((c) => c.text).join('')).toMatchObject({
          status: 'succeeded',
          helperMode: mode,
        });
        expect((again.output as { prev: unknown }).prev).toEqual(OBJ);
      },
    );
  });

  it('Bash helpers work through wget when the host has no curl', async () => {
    const r = await runJob(
      service,
      {
        language: 'bash',
        script:
          'c=$(command -v curl || echo none); cronium.setVariable wget-var "via wget"; v=$(cronium.getVariable wget-var); m=$(cronium.getVariable wget-none); cronium.output "{\\"curl\\":\\"$c\\",\\"v\\":\\"$v\\",\\"m\\":\\"$m\\",\\"in\\":$(cronium.input)}"',
      },
      // h3 has wget but no curl on its PATH.
      ['h3'],
      { input: { x: 1 }, helperMode: 'api' },
    );
    expect(r.text('h3', 'stderr')).toBe('');
    expect(r.exec).toMatchObject({
      status: 'succeeded',
      helperMode: 'api',
      output: { curl: 'none', v: 'via wget', m: '', in: { x: 1 } },
    });
  });

  it('applies bundled results whatever the exit status, including deletes', async () => {
    await service.setVariable({ key: 'doomed', value: 'x' });
    const r = await runJob(
      service,
      {
        language: 'python',
        script:
          'cronium.deleteVariable("doomed")\ncronium.setVariable("after-fail", [1, 2])\ncronium.output({"partial": True})\nraise SystemExit(3)',
      },
      ['h1'],
      { helperMode: 'bundled' },
    );
    expect(r.exec).toMatchObject({
      status: 'failed',
      exitCode: 3,
      helperMode: 'bundled',
      output: { partial: true },
    });
    await expect(service.getVariableValue('doomed')).rejects.toThrow(/No variable/);
    expect(await service.getVariableValue('after-fail')).toEqual([1, 2]);
    expect(r.exec.variableChanges).toEqual([
      { key: 'doomed', op: 'delete' },
      { key: 'after-fail', op: 'set', value: '[1,2]' },
    ]);
    expect(r.exec.timings.collectMs).toBeGreaterThanOrEqual(0);
  });

  it('runs a Python script written in the Cronium style unchanged', async () => {
    await service.setVariable({ key: 'threshold', value: 3 });
    const cronium_style = `import json

threshold = cronium.getVariable("threshold") or 10
data = cronium.input()
above = [x for x in data["items"] if x > threshold]
cronium.setVariable("last_count", len(above))
print(json.dumps(above))
cronium.output({"count": len(above), "above": above})
`;
    const r = await runJob(service, { language: 'python', script: cronium_style }, ['h2'], {
      input: { items: [1, 5, 2, 8] },
    });
    expect(r.exec).toMatchObject({
      status: 'succeeded',
      helperMode: 'api',
      output: { count: 2, above: [5, 8] },
    });
    expect(r.text('h2', 'stdout')).toBe('[5, 8]\n');
    expect(await service.getVariableValue('last_count')).toBe(2);
  });

  it('reports a failed helper as an exception in Python and a non-zero return in Bash', async () => {
    const py = await runJob(
      service,
      {
        language: 'python',
        script:
          'try:\n    cronium.setCondition("maybe")\nexcept RuntimeError as e:\n    print("raised", type(e).__name__, e)',
      },
      ['h1'],
    );
    expect(py.text('h1', 'stdout')).toBe(
      'raised CroniumAPIError setCondition takes true/false, 1/0, yes/no or on/off\n',
    );
    const sh = await runJob(
      service,
      { language: 'bash', script: 'cronium.setCondition maybe || echo "rc=$?"' },
      ['h1'],
    );
    expect(sh.text('h1', 'stdout')).toBe('rc=1\n');
    expect(sh.text('h1', 'stderr')).toMatch(/^cronium: /);
  });

  describe('fallback on a host that refuses forwarding', () => {
    it('auto falls back to bundled mode, says why, and gives the same results', async () => {
      const r = await runJob(
        service,
        { name: 'fallback-auto', language: 'python', script: script('python', 'fb') },
        ['noforward'],
        { input: INPUT },
      );
      expect(r.exec).toMatchObject({ status: 'succeeded', helperMode: 'bundled', condition: true });
      expect(r.exec.fallbackReason).toMatch(/refused remote port forwarding/);
      expect((r.exec.output as { got: unknown }).got).toEqual(INPUT);
      expect(await service.getVariableValue('fb-num')).toBe(42);
      expect(r.text('noforward', 'system')).toMatch(
        /helpers fell back to bundled mode: the server refused remote port forwarding/,
      );
    });

    it('api mode fails the execution with that reason', async () => {
      const r = await runJob(service, { language: 'bash', script: 'echo should-not-run' }, ['noforward'], {
        helperMode: 'api',
      });
      expect(r.exec).toMatchObject({ status: 'error', errorKind: 'tunnel_refused' });
      expect(r.exec.errorMessage).toMatch(
        /API mode is not available: the server refused remote port forwarding/,
      );
      expect(r.text('noforward')).not.toContain('should-not-run');
    });

    it('bundled mode never tries a tunnel', async () => {
      const tunnels: string[] = [];
      const off = service.subscribe((e) => e.type === 'tunnel' && tunnels.push(e.state));
      const r = await runJob(
        service,
        { language: 'node', script: 'cronium.output(cronium.input())' },
        ['h2'],
        { helperMode: 'bundled', input: [1] },
      );
      off();
      expect(r.exec).toMatchObject({ helperMode: 'bundled', fallbackReason: null, output: [1] });
      expect(tunnels).toEqual([]);
    });
  });

  it('gives two executions on one host at once both API mode, and closes the tunnel after', async () => {
    const states: string[] = [];
    const off = service.subscribe((e) => e.type === 'tunnel' && states.push(e.state));
    const job = await service.createJob({
      name: 'concurrent',
      language: 'python',
      script:
        'import time\nt0 = time.time()\ntime.sleep(0.5)\ncronium.output({"id": cronium.event()["executionId"], "t0": t0, "t1": time.time()})',
    });
    const runs = [
      await service.startRun({ jobId: job.id, serverIds: ['h2'] }),
      await service.startRun({ jobId: job.id, serverIds: ['h2'] }),
    ];
    const done = await Promise.all(runs.map((r) => service.waitForRun(r.id)));
    off();
    const executions: Execution[] = await Promise.all(
      done.map(async (r) => await service.getExecution(r.executionIds[0]!)),
    );
    for (const e of executions)
      expect(e).toMatchObject({ status: 'succeeded', helperMode: 'api', output: { id: e.id } });
    // They really ran at the same time on the host, through one tunnel opened once and closed once.
    const [a, b] = executions.map((e) => e.output as { t0: number; t1: number });
    expect(a!.t0 < b!.t1 && b!.t0 < a!.t1).toBe(true);
    expect(states).toEqual(['idle', 'forwarding', 'closed']);
  });

  it('keeps the token off every remote command line and out of the log', async () => {
    const job = await service.createJob({
      name: 'ps-token',
      language: 'bash',
      script: 'echo "token=$CRONIUM_API_TOKEN"; sleep 1.5; cronium.setCondition true',
    });
    const run = await service.startRun({ jobId: job.id, serverIds: ['h1'] });
    let seen = '';
    for (let i = 0; i < 40 && !seen.includes('sleep 1.5'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      seen = onHost(h, 'ps -eo args');
    }
    expect(seen).toContain('sleep 1.5');
    expect(seen).not.toMatch(/eyJ[A-Za-z0-9_-]+\./);
    const done = await service.waitForRun(run.id);
    const e = await service.getExecution(done.executionIds[0]!);
    expect(e).toMatchObject({ helperMode: 'api', condition: true });
    expect((await service.readLog(e.id)).map((c) => c.text).join('')).toBe('token=***\n');
  });
});

describe('tunnel reuse', () => {
  it('keeps an unused tunnel open a short while for the next execution, then closes it', async () => {
    const { service, close } = await serviceWithHosts({ tunnelLingerMs: 400 }, h);
    try {
      const states: string[] = [];
      service.subscribe((e) => e.type === 'tunnel' && states.push(e.state));
      const job = await service.createJob({ name: 'twice', language: 'python', script: 'cronium.output(1)' });
      for (let i = 0; i < 2; i++) {
        const done = await service.waitForRun(
          (await service.startRun({ jobId: job.id, serverIds: ['h1'] })).id,
        );
        expect(await service.getExecution(done.executionIds[0]!)).toMatchObject({
          helperMode: 'api',
          output: 1,
        });
      }
      expect(states).toEqual(['idle', 'forwarding']);
      await vi.waitFor(() => expect(states).toEqual(['idle', 'forwarding', 'closed']), { timeout: 5000 });
    } finally {
      await close();
    }
  });
});
