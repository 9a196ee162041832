/**
 * Issue 9, case 1: every secret value the app knows is shown and stored as *** wherever output goes —
 * live events, the stored log, history (output), `cronium show` and its --json — on real hosts, for each
 * language in API and bundled mode; and bundled mode leaves no secret variable the script did not name
 * in the work directory.
 */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CoreEvent } from '../src/contract.ts';
import { maskDeep, SecretMasker, secretForms } from '../src/exec/secretMasker.ts';
import { keyToHex } from '../src/runtime/helperSession.ts';
import type { CroniumService } from '../src/service/service.ts';
import { runCli } from './support/cli.ts';
import { hosts, runJob, serviceWithHosts } from './support/fixtures.ts';

const SECRET = 'S3cret-x';
const UNASKED = 'N0t-asked-4';

/** The CLI on dataDir, outside any keychain session (DBUS_SESSION_BUS_ADDRESS unset). */
function cli(dataDir: string, args: string[]) {
  return runCli(args, { CRONIUM_DATA_DIR: dataDir, DBUS_SESSION_BUS_ADDRESS: undefined });
}

/** Reads back dbpass, sets the secret "rotating" to a new value, and prints both (and reports both). */
function script(language: 'bash' | 'python' | 'node', rotated: string): string {
  if (language === 'python')
    return `import json
v = cronium.getVariable("dbpass")
print("v=" + v)
cronium.setVariable("rotating", "${rotated}")
print("r=" + cronium.getVariable("rotating"))
print(json.dumps({"v": v}))
cronium.output({"v": v, "r": "${rotated}", "note": "v is " + v})
`;
  if (language === 'node')
    return `const v = cronium.getVariable('dbpass');
console.log('v=' + v);
cronium.setVariable('rotating', '${rotated}');
console.log('r=' + cronium.getVariable('rotating'));
process.stderr.write('err v=' + v + '\\n');
cronium.output({ v, r: '${rotated}', note: 'v is ' + v });
`;
  return `echo "v=$(cronium.getVariable dbpass)"
cronium.setVariable rotating ${rotated}
echo "r=$(cronium.getVariable rotating)"
s=$(cronium.getVariable dbpass)
printf 'split=%s' "\${s%?????}"; sleep 0.3; printf '%s\n' "\${s#???}"
cronium.output "{\\"v\\":\\"$(cronium.getVariable dbpass)\\",\\"r\\":\\"${rotated}\\"}"
`;
}

describe('secret values are masked wherever output goes (real hosts)', () => {
  const h = hosts();
  let service: CroniumService;
  let dir: string;
  let close: () => Promise<void>;
  const live: CoreEvent[] = [];
  beforeAll(async () => {
    ({ service, dir, close } = await serviceWithHosts({ tunnelLingerMs: 0 }));
    service.subscribe((e) => live.push(e));
    await service.setVariable({ key: 'dbpass', value: SECRET, secret: true });
    await service.setVariable({ key: 'unasked', value: UNASKED, secret: true });
  });
  afterAll(async () => close());

  describe.each(['bash', 'python', 'node'] as const)('%s', (language) => {
    it.each(['api', 'bundled'] as const)('in %s mode', async (mode) => {
      const rotated = `R0tated-${language}-${mode}`;
      await service.setVariable({ key: 'rotating', value: 'old-r0tating', secret: true });
      const from = live.length;
      const { exec, text } = await runJob(
        service,
        { name: `mask-${language}-${mode}`, language, script: script(language, rotated) },
        ['h1'],
        { helperMode: mode },
      );
      expect(exec.status, text('h1')).toBe('succeeded');
      expect(exec.helperMode).toBe(mode);

      // The stored log: the secret read back is masked, even split by `fold` into 3-character lines.
      const stored = text('h1');
      expect(stored).toContain('v=***');
      expect(stored).not.toContain(SECRET);
      // Printed in two writes, 0.3 s apart: two reads, masked all the same.
      if (language === 'bash') expect(stored).toContain('split=***\n');
      if (language === 'node') expect(text('h1', 'stderr')).toContain('err v=***');
      // API mode learns the new secret value as it is set: what the script prints afterwards is masked
      // live too. Bundled mode learns it when the script has ended: the stored log is masked then.
      if (mode === 'api') expect(stored).toContain('r=***');
      expect((await service.readLog(exec.id, -1, 1_000_000)).map((c) => c.text).join('')).not.toContain(
        rotated,
      );
      // The rows themselves, as stored.
      const db = new DatabaseSync(join(dir, 'cronium.db'));
      const rows = db.prepare('SELECT text FROM log_chunks WHERE execution_id = ?').all(exec.id) as {
        text: string;
      }[];
      db.close();
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.map((r) => r.text).join('')).not.toContain(SECRET);

      // Live events: the same masked chunks, and no event carries the clear value.
      const events = live.slice(from);
      const liveText = events
        .filter((e): e is Extract<CoreEvent, { type: 'log' }> => e.type === 'log')
        .filter((e) => e.chunk.executionId === exec.id)
        .map((e) => e.chunk.text)
        .join('');
      expect(liveText).toContain('v=***');
      expect(JSON.stringify(events)).not.toContain(SECRET);

      // History: the output the script reported, masked; the variable kept its secrecy.
      const execution = await service.getExecution(exec.id);
      expect(execution.output).toMatchObject({ v: '***', r: '***' });
      expect(JSON.stringify(execution)).not.toContain(SECRET);
      expect(JSON.stringify(execution)).not.toContain(rotated);
      expect((await service.listVariables()).find((v) => v.key === 'rotating')).toMatchObject({
        secret: true,
        value: null,
      });
      expect(await service.getVariableValue('rotating')).toBe(rotated);

      // `cronium show`, text and --json.
      const shown = await cli(dir, ['show', exec.id]);
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toContain('v=***');
      expect(shown.stdout).not.toContain(SECRET);
      const json = await cli(dir, ['show', exec.id, '--json']);
      expect(json.code, json.stderr).toBe(0);
      expect(json.stdout).toContain('v=***');
      expect(json.stdout).not.toContain(SECRET);
      expect(json.stdout).not.toContain(rotated);
      // Nothing anywhere of the secret nobody asked for.
      expect(stored + JSON.stringify(events) + json.stdout).not.toContain(UNASKED);
    });
  });

  it('masks secret env values, the API token and the server password in the log', async () => {
    const pwServer = await service.createServer({
      name: 'h1-password',
      host: h.hosts.h1.address,
      port: h.hosts.h1.port,
      username: h.user,
      auth: { type: 'password', password: h.password },
    });
    const { exec, text } = await runJob(
      service,
      {
        language: 'bash',
        script: `echo "env=$API_KEY"; echo "tok=$CRONIUM_API_TOKEN"; echo "pw=${h.password}"`,
        env: [{ key: 'API_KEY', value: 'k3y-value-9', secret: true }],
      },
      [pwServer.id],
      { helperMode: 'api' },
    );
    expect(exec.status, text('h1-password')).toBe('succeeded');
    expect(text('h1-password')).toContain('env=***\ntok=***\npw=***\n');
    await service.removeServer(pwServer.id);
  });

  it('bundled mode writes a secret variable only for a script that names it: no trace of the others', async () => {
    // The script names dbpass but not the other secret; it lists its work directory and greps it for the
    // other secret's value (built from two pieces, so the script's own text does not hold it).
    const { exec, text } = await runJob(
      service,
      {
        language: 'bash',
        script: `# uses dbpass
ls -a "$CRONIUM_WORK_DIR"
if grep -rl "N0t-""asked-4" "$CRONIUM_WORK_DIR"; then echo TRACE-FOUND; else echo no-trace; fi
`,
      },
      ['h1'],
      { helperMode: 'bundled' },
    );
    expect(exec.status, text('h1')).toBe('succeeded');
    const listing = text('h1', 'stdout');
    expect(listing).toContain('no-trace');
    expect(listing).not.toContain('TRACE-FOUND');
    expect(listing).toContain(`.cronium.var.${keyToHex('dbpass')}.json`);
    expect(listing).not.toContain(keyToHex('unasked'));
  });
});

describe('the masker', () => {
  it('masks a secret split across pieces, and one added mid-stream from then on', () => {
    const m = new SecretMasker(['S3cret-x']);
    let out = '';
    for (const piece of ['v=S3', 'cr', 'et-x and ', 'later']) out += m.push(piece);
    m.add('later');
    out += m.push(' then later again');
    out += m.flush();
    expect(out).toBe('v=*** and later then *** again');
  });

  it('knows the forms a value takes in output, and masks every string of a JSON value', () => {
    expect(secretForms('a"b\\c')).toEqual(['a"b\\c', 'a\\"b\\\\c']);
    expect(secretForms({ user: 'adm1n', pw: 'p4ss' })).toEqual([
      '{"user":"adm1n","pw":"p4ss"}',
      'adm1n',
      'p4ss',
    ]);
    expect(secretForms(true)).toEqual([]);
    const m = new SecretMasker(['p4ss']);
    expect(maskDeep({ p4ss: ['x p4ss', 3, null] }, (t) => m.mask(t))).toEqual({ '***': ['x ***', 3, null] });
  });
});
