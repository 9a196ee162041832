import { describe, expect, it } from 'vitest';

import { ControlFilter } from '../src/exec/controlFilter.ts';
import { LogSink } from '../src/exec/logSink.ts';
import { runStatusOf } from '../src/exec/runManager.ts';
import { SecretMasker } from '../src/exec/secretMasker.ts';
import { heredocFile, shellQuote } from '../src/exec/shell.ts';
import type { LogChunk } from '../src/core/domain.ts';
import { KeyFileSecretStore } from '../src/secrets/secretStore.ts';
import { fingerprintOf, keyTypeOf } from '../src/ssh/hostKeys.ts';
import { tempDir } from './support/fixtures.ts';
import { execFileSync } from 'node:child_process';

describe('SecretMasker', () => {
  it('masks a secret even when it arrives split across reads', async () => {
    const masker = new SecretMasker(['s3cr3t-value']);
    const out =
      ['token=s3cr', '3t-va', 'lue done', '\n'].map((p) => masker.push(p)).join('') + masker.flush();
    expect(out).toBe('token=*** done\n');
  });

  it('holds back only a possible start of a secret', async () => {
    const masker = new SecretMasker(['abcdef']);
    expect(masker.push('xx abc')).toBe('xx ');
    expect(masker.push('zz')).toBe('abczz');
    expect(masker.flush()).toBe('');
  });

  it('masks the longer of two overlapping secrets whole', async () => {
    expect(new SecretMasker(['pass', 'password123']).mask('password123 pass')).toBe('*** ***');
  });
});

describe('LogSink', () => {
  it('decodes UTF-8 split across reads, batches, and numbers chunks in order', () => {
    const batches: LogChunk[][] = [];
    const sink = new LogSink({
      executionId: 'e',
      secrets: [],
      write: (c) => batches.push(c),
      flushIntervalMs: 10_000,
    });
    const snow = Buffer.from('❄\n');
    sink.data('stdout', snow.subarray(0, 1));
    sink.data('stdout', snow.subarray(1));
    sink.data('stderr', Buffer.from('err\n'));
    sink.data('stdout', Buffer.from('more\n'));
    sink.close();
    const chunks = batches.flat();
    expect(batches).toHaveLength(1);
    expect(chunks.map((c) => [c.seq, c.stream, c.text])).toEqual([
      [0, 'stdout', '❄\n'],
      [1, 'stderr', 'err\n'],
      [2, 'stdout', 'more\n'],
    ]);
  });

  it('writes early when a batch grows past its limit, so memory stays bounded', () => {
    const batches: LogChunk[][] = [];
    const sink = new LogSink({
      executionId: 'e',
      secrets: [],
      write: (c) => batches.push(c),
      flushIntervalMs: 10_000,
      maxBatchChars: 1000,
    });
    for (let i = 0; i < 10; i++) sink.data('stdout', Buffer.alloc(400, 'x'));
    expect(batches.length).toBeGreaterThanOrEqual(3);
    sink.close();
    expect(batches.flat().reduce((n, c) => n + c.text.length, 0)).toBe(4000);
  });
});

describe('ControlFilter', () => {
  it('takes control lines at the head of stderr and passes everything else', async () => {
    const seen: string[] = [];
    const filter = new ControlFilter('n0nce', (m) => seen.push(m));
    const parts = [
      '\x1ecronium:n0nce:ready\n\x1ecronium:n0',
      'nce:interpreter_missing python3\n',
      'real stderr\n',
    ];
    const passed =
      Buffer.concat(parts.map((p) => filter.push(Buffer.from(p)))).toString() + filter.end().toString();
    expect(seen).toEqual(['interpreter_missing python3']);
    expect(passed).toBe('real stderr\n');
    expect(filter.ready).toBe(true);
  });

  it('holds back what the shell says when the runner never started', async () => {
    const filter = new ControlFilter('n0nce', () => {});
    const passed = filter.push(Buffer.from('sh: 0: cannot open runner.sh: No such file\n'));
    expect(passed.length).toBe(0);
    expect(filter.ready).toBe(false);
    expect(filter.end().toString()).toBe('sh: 0: cannot open runner.sh: No such file\n');
  });

  it('does not take a line with another nonce', async () => {
    const seen: string[] = [];
    const filter = new ControlFilter('n0nce', (m) => seen.push(m));
    filter.push(Buffer.from('\x1ecronium:n0nce:ready\n'));
    const passed = filter.push(Buffer.from('\x1ecronium:forged:interpreter_missing x\n')).toString();
    expect(seen).toEqual([]);
    expect(passed).toBe('\x1ecronium:forged:interpreter_missing x\n');
  });
});

describe('shell quoting', () => {
  it('round-trips hostile values through sh', async () => {
    const value = `it's "quoted" $HOME \`id\` \\ \n new line`;
    expect(execFileSync('sh', ['-c', `printf %s ${shellQuote(value)}`], { encoding: 'utf8' })).toBe(value);
    const dir = tempDir();
    const content = "line with 'quotes' and $VARS\nCRONIUM_EOF_fake\nend";
    execFileSync('sh', ['-c', heredocFile(shellQuote(`${dir.path}/f`), content)]);
    expect(execFileSync('cat', [`${dir.path}/f`], { encoding: 'utf8' })).toBe(content + '\n');
    dir.remove();
  });
});

describe('secret store', () => {
  it('round-trips, uses a fresh IV each time, and refuses a tampered value', async () => {
    const dir = tempDir();
    const store = new KeyFileSecretStore(dir.path);
    const a = await store.encrypt('value');
    expect(a).toMatch(/^v1:/);
    expect(await store.encrypt('value')).not.toBe(a);
    expect(await new KeyFileSecretStore(dir.path).decrypt(a)).toBe('value');
    const tampered =
      'v1:' +
      Buffer.from(Buffer.from(a.slice(3), 'base64').map((b, i) => (i === 30 ? b ^ 1 : b))).toString('base64');
    await expect(store.decrypt(tampered)).rejects.toThrow(/could not be decrypted/);
    dir.remove();
  });
});

describe('host key fingerprints', () => {
  it('match ssh-keygen -l', async () => {
    const dir = tempDir();
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', `${dir.path}/k`]);
    const pub = execFileSync('cat', [`${dir.path}/k.pub`], { encoding: 'utf8' }).split(' ');
    const blob = Buffer.from(pub[1]!, 'base64');
    const expected = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${dir.path}/k.pub`], {
      encoding: 'utf8',
    }).split(' ')[1];
    expect(fingerprintOf(blob)).toBe(expected);
    expect(keyTypeOf(blob)).toBe('ssh-ed25519');
    dir.remove();
  });
});

describe('run status', () => {
  it('is succeeded, partial, failed or cancelled from its executions', () => {
    const s = (...st: string[]) => st.map((status) => ({ status }) as never);
    expect(runStatusOf(s('succeeded', 'succeeded'), false)).toBe('succeeded');
    expect(runStatusOf(s('succeeded', 'failed'), false)).toBe('partial');
    expect(runStatusOf(s('error', 'failed'), false)).toBe('failed');
    expect(runStatusOf(s('succeeded', 'cancelled'), true)).toBe('cancelled');
  });
});
