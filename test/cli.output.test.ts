/**
 * The CLI's live output against real hosts (issue 8): prefixed output of several servers is exact for
 * tricky bytes (case 7), a reader that closes the pipe early gives a quiet exit 141 (case 9), and a slow
 * reader keeps the CLI's memory flat while every byte arrives (case 11).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { hosts, tempDir } from './support/fixtures.ts';
import { deprefix } from './support/prefixed.ts';
import { createTestUser, onHost, type TestUser } from './support/sshHosts.ts';

interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

describe('cronium CLI output (real processes, real hosts)', () => {
  const h = hosts();
  const dir = tempDir();
  const env = { ...process.env, CRONIUM_DATA_DIR: dir.path, CRONIUM_RUNTIME_PORT: '0' };
  let user: TestUser;

  function cli(args: string[]): Promise<CliResult> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['src/cli/main.ts', ...args], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const stdout: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => stdout.push(d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout), stderr }));
    });
  }

  /** Starts the CLI, reads `keep` bytes of the chosen output, then closes that pipe as `head -c` would. */
  function cliClosingEarly(
    args: string[],
    which: 'stdout' | 'stderr',
    keep: number,
  ): Promise<{ code: number | null; kept: Buffer; other: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['src/cli/main.ts', ...args], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const closing = child[which];
      const other = which === 'stdout' ? child.stderr : child.stdout;
      let kept = Buffer.alloc(0);
      let otherText = '';
      other.on('data', (d) => (otherText += d));
      closing.on('data', (d: Buffer) => {
        kept = Buffer.concat([kept, d]);
        if (kept.length >= keep) closing.destroy();
      });
      child.on('close', (code) => resolve({ code, kept: kept.subarray(0, keep), other: otherText }));
    });
  }

  async function addJob(name: string, lang: 'bash' | 'python', script: string): Promise<void> {
    const r = await cli(['job', 'add', name, '--lang', lang, '--script', script, '--timeout', '120']);
    expect(r.stderr).toBe('');
  }

  /** The multi-server summary lines ("cronium: h1: succeeded", "cronium: run …") that end stderr. */
  function withoutSummary(stderr: string): Buffer {
    return Buffer.from(stderr.replace(/(^|\n)(cronium: [^\n]*\n)+$/, '$1'));
  }

  beforeAll(async () => {
    user = createTestUser(h, 'cliout');
    for (const name of ['h1', 'h2'] as const) {
      const r = await cli([
        'server',
        'add',
        name,
        '--host',
        h.hosts[name].address,
        '--user',
        user.user,
        '--key',
        h.keyPath,
      ]);
      expect(r.stderr).toBe('');
    }
  });
  afterAll(async () => {
    user.remove();
    dir.remove();
  });

  describe('several servers: prefixed output (case 7)', () => {
    it('prints a last line without newline once per server', async () => {
      await addJob('noeol', 'bash', 'printf "test"');
      const run = await cli(['run', 'noeol', '--on', 'h1,h2']);
      expect(run.code).toBe(0);
      const text = run.stdout.toString();
      expect(text.split('\n').sort()).toEqual(['', '[h1] test', '[h2] test']);
      expect(text).toHaveLength('[h1] test\n[h2] test\n'.length);
      expect(run.stderr).toMatch(/run succeeded \(2\/2 succeeded\)/);
    });

    it('writes bytes that are not UTF-8 exactly as printed (Latin-1, binary), on one server and on several', async () => {
      // Latin-1 "café", a lone continuation byte, a 3-byte lead cut short, and 0xff 0xfe at the very end.
      await addJob(
        'latin1',
        'bash',
        "printf 'caf\\351\\n\\200x\\342\\202\\n'; printf '\\377\\376' >&2; printf '\\377\\376'",
      );
      const one = await cli(['run', 'latin1', '--on', 'h1']);
      expect(one.code).toBe(0);
      expect(one.stdout).toEqual(
        Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a, 0x80, 0x78, 0xe2, 0x82, 0x0a, 0xff, 0xfe]),
      );
      const two = await cli(['run', 'latin1', '--on', 'h1,h2']);
      expect(two.code).toBe(0);
      const line = (host: string) =>
        Buffer.concat([Buffer.from(`[${host}] `), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])]);
      for (const host of ['h1', 'h2']) {
        expect(two.stdout.includes(line(host))).toBe(true);
        expect(
          two.stdout.includes(Buffer.concat([Buffer.from(`[${host}] `), Buffer.from([0xff, 0xfe, 0x0a])])),
        ).toBe(true);
      }
      expect(two.stdout.includes(Buffer.from('\uFFFD'))).toBe(false);
    });

    it('keeps CR LF, progress bars, NUL, split UTF-8 and stderr exact per server', async () => {
      // Each piece is flushed on its own, with a pause, so pieces arrive in separate SSH packets: the euro
      // sign is split across two of them.
      const script = [
        'import sys, time',
        "pieces = [b'plain\\n', b'crlf\\r\\n', b'nul\\x00byte\\n', b'bar 10%\\r', b'bar 100%\\n',",
        "          '€ é 😀'.encode()[:2], '€ é 😀'.encode()[2:] + b'\\n', b'[h9] fake prefix\\n', b'no newline at end']",
        'for i, p in enumerate(pieces):',
        '    sys.stdout.buffer.write(p); sys.stdout.buffer.flush()',
        "    sys.stderr.buffer.write(b'err %d\\n' % i); sys.stderr.buffer.flush()",
        '    time.sleep(0.02)',
      ].join('\n');
      await addJob('tricky', 'python', script);
      const run = await cli(['run', 'tricky', '--on', 'h1,h2']);
      expect(run.stderr).toMatch(/run succeeded/);
      const stdout = Buffer.from(
        'plain\ncrlf\r\nnul\0byte\nbar 10%\rbar 100%\n€ é 😀\n[h9] fake prefix\nno newline at end\n',
      );
      const stderr = Buffer.from(Array.from({ length: 9 }, (_, i) => `err ${i}\n`).join(''));
      const out = deprefix(run.stdout, ['[h1] ', '[h2] ']);
      const err = deprefix(withoutSummary(run.stderr), ['[h1] ', '[h2] ']);
      for (const prefix of ['[h1] ', '[h2] ']) {
        expect(out.get(prefix)).toEqual(stdout);
        expect(err.get(prefix)).toEqual(stderr);
      }
      // A progress bar's redraw starts with the prefix again, so a terminal shows "[h1] bar 100%".
      expect(run.stdout.toString()).toContain('[h1] bar 10%\r[h1] bar 100%\n');
    });

    it('prints a 5 MB line without newline once per server', async () => {
      await addJob('longline', 'bash', "head -c 5000000 /dev/zero | tr '\\0' x");
      const run = await cli(['run', 'longline', '--on', 'h1,h2']);
      expect(run.code).toBe(0);
      const out = deprefix(run.stdout, ['[h1] ', '[h2] ']);
      for (const prefix of ['[h1] ', '[h2] ']) {
        // Only line breaks can be added (where the other server's output had to come in between).
        const bytes = out.get(prefix)!;
        expect(bytes.filter((b) => b !== 0x0a).toString()).toBe('x'.repeat(5_000_000));
      }
    });
  });

  describe('a closed pipe (case 9)', () => {
    let executionId = '';

    beforeAll(async () => {
      // Alternating streams make many log chunks (so show reads several pages), then 2 MB (more than a
      // pipe holds, so a reader that stops early does close the pipe on a writer).
      const script =
        'for i in $(seq 40); do echo "out $i"; echo "err $i" >&2; sleep 0.02; done\n' +
        "yes 'a line of output for the pipe tests' | head -c 2000000";
      await addJob('big', 'bash', script);
      const run = await cli(['run', 'big', '--on', 'h1']);
      expect(run.code).toBe(0);
      executionId = JSON.parse((await cli(['history', '--json', '--limit', '1'])).stdout.toString())[0].id;
    });

    it('show --json streams the stored log page by page into the JSON one stringify would give', async () => {
      const shown = await cli(['show', executionId, '--json']);
      expect(shown.code).toBe(0);
      const parsed = JSON.parse(shown.stdout.toString());
      expect(shown.stdout.toString()).toBe(JSON.stringify(parsed, null, 2) + '\n');
      expect(parsed.log.length).toBeGreaterThan(16);
      const text = (stream: string) =>
        parsed.log
          .filter((c: { stream: string }) => c.stream === stream)
          .map((c: { text: string }) => c.text)
          .join('');
      const lines = (tag: string) => Array.from({ length: 40 }, (_, i) => `${tag} ${i + 1}\n`).join('');
      expect(text('stdout')).toBe(
        lines('out') +
          'a line of output for the pipe tests\n'.repeat(Math.ceil(2_000_000 / 36)).slice(0, 2_000_000),
      );
      expect(text('stderr')).toBe(lines('err'));
    });

    it('show | head -c 300 exits 141 without a word, as coreutils do (real head, pipefail)', () => {
      for (const args of [`show ${executionId} --json`, `show ${executionId}`]) {
        const r = spawnSync(
          'bash',
          [
            '-c',
            `set -o pipefail; "${process.execPath}" src/cli/main.ts ${args} | head -c 300 >/dev/null; echo $?`,
          ],
          { env, encoding: 'utf8' },
        );
        expect(r.stderr).toBe('');
        expect(r.stdout).toBe('141\n');
      }
    });

    it('a closed stdout during run cancels the remote script (one and several servers)', async () => {
      await addJob('endless', 'bash', 'exec yes cronium-endless-marker');
      for (const on of ['h1', 'h1,h2']) {
        const r = await cliClosingEarly(['run', 'endless', '--on', on], 'stdout', 300);
        expect(r.kept.toString()).toMatch(/cronium-endless-marker\n/);
        expect(r.other).toBe('');
        expect(r.code).toBe(141);
        const [latest] = JSON.parse((await cli(['history', '--json', '--limit', '1'])).stdout.toString());
        expect(latest.status).toBe('cancelled');
      }
      expect(onHost(h, "pgrep -u $(id -u) -f 'cronium-endless-marke[r]' || true", user.user)).toBe('');
    }, 120_000);

    it('a closed stderr during run does the same', async () => {
      await addJob('endlesserr', 'bash', 'yes cronium-endless-marker >&2');
      const r = await cliClosingEarly(['run', 'endlesserr', '--on', 'h1'], 'stderr', 300);
      expect(r.kept.toString()).toMatch(/cronium-endless-marker\n/);
      expect(r.other).toBe('');
      expect(r.code).toBe(141);
      const [latest] = JSON.parse((await cli(['history', '--json', '--limit', '1'])).stdout.toString());
      expect(latest.status).toBe('cancelled');
    });
  });

  describe('a slow reader (case 11)', () => {
    const line = 'cronium flow control test line 0123456789 abcdefghijklmnopqrstuvwxyz\n';

    /** The first `size` bytes of `line` repeated: what `yes LINE | head -c SIZE` prints. */
    function expectedHash(size: number): string {
      const hash = createHash('sha256');
      const block = Buffer.from(line.repeat(Math.floor(1_000_000 / line.length)));
      for (let left = size; left > 0; left -= block.length)
        hash.update(block.subarray(0, Math.min(left, block.length)));
      return hash.digest('hex');
    }

    /** Runs `job` through the real CLI into a slow reader; returns the CLI's peak RSS and what arrived. */
    async function throughSlowReader(job: string) {
      // The reader hashes what it gets and rests every 256 KiB: far slower than the host writes.
      const reader = spawn(
        process.execPath,
        [
          '-e',
          `const h = require('crypto').createHash('sha256'); let n = 0, since = 0;
           process.stdin.on('data', (d) => { h.update(d); n += d.length; since += d.length;
             if (since >= 262144) { since = 0; process.stdin.pause(); setTimeout(() => process.stdin.resume(), 2); } });
           process.stdin.on('end', () => process.stdout.write(n + ' ' + h.digest('hex')));`,
        ],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      let received = '';
      reader.stdout.on('data', (d) => (received += d));
      const readerDone = new Promise((resolve) => reader.on('close', resolve));

      const started = performance.now();
      const child = spawn(process.execPath, ['src/cli/main.ts', 'run', job, '--on', 'h1'], {
        env,
        stdio: ['ignore', reader.stdin, 'pipe'],
      });
      reader.stdin.destroy(); // the CLI holds the pipe's write end now
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      // VmHWM is the process's peak resident set so far: the last reading before it exits is its peak.
      let peakKb = 0;
      const sample = setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (m) peakKb = Math.max(peakKb, Number(m[1]));
        } catch {
          /* exited */
        }
      }, 50);
      const code = await new Promise((resolve) => child.on('close', resolve));
      clearInterval(sample);
      await readerDone;
      return {
        code,
        stderr,
        received,
        peakMiB: peakKb / 1024,
        seconds: (performance.now() - started) / 1000,
      };
    }

    it('keeps the CLI’s memory flat while a slow reader takes 200 MB, and every byte arrives', async () => {
      const size = 200_000_000;
      // The baseline is a run big enough to reach the steady state (the log writer's thread started, a
      // batch in flight): a 1 kB run now starts no thread, which measured the thread, not the output.
      const base = 20_000_000;
      await addJob('tiny', 'bash', `yes '${line.trimEnd()}' | head -c ${base}`);
      await addJob('flood', 'bash', `yes '${line.trimEnd()}' | head -c ${size}`);
      const tiny = await throughSlowReader('tiny');
      expect(tiny.received).toBe(`${base} ${expectedHash(base)}`);
      const flood = await throughSlowReader('flood');
      console.log(
        `slow reader: ${size / 1e6} MB in ${flood.seconds.toFixed(1)} s (${(size / 1e6 / flood.seconds).toFixed(0)} MB/s); ` +
          `CLI peak RSS ${flood.peakMiB.toFixed(0)} MiB (${tiny.peakMiB.toFixed(0)} MiB for ${base / 1e6} MB)`,
      );
      expect(flood.stderr).toBe('');
      expect(flood.code).toBe(0);
      expect(flood.received).toBe(`${size} ${expectedHash(size)}`);
      // Flat: 180 MB more output adds a bounded amount (the collector's slack: 60–100 MiB seen), well below
      // the ~170 MiB that output kept in memory would add; before flow control the CLI held most of what
      // the reader had not taken.
      expect(tiny.peakMiB).toBeGreaterThan(0);
      expect(flood.peakMiB - tiny.peakMiB).toBeLessThan(120);
    }, 120_000);
  });
});
