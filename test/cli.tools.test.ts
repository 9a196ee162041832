/**
 * `cronium tool add|list|remove` (issue 15 part 4): credentials for tool actions, secrets on stdin only,
 * sealed at rest, never printed again.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { runCli } from './support/cli.ts';
import { tempDir } from './support/fixtures.ts';

const SLACK_URL = 'https://hooks.slack.com/services/T000/B000/cliSLACKtoken123456';
const PASSWORD = 'cli-smtp-Secret-99';

describe('cronium tool', () => {
  const dir = tempDir();
  afterAll(async () => dir.remove());
  const cli = (args: string[], stdin?: string) => runCli(args, { CRONIUM_DATA_DIR: dir.path }, stdin);

  it('adds a Slack webhook from stdin and an SMTP server with its password from stdin', async () => {
    const slack = await cli(
      ['tool', 'add', 'team', '--type', 'slack', '--webhook-url-stdin'],
      `${SLACK_URL}\n`,
    );
    expect(slack).toMatchObject({ code: 0, stderr: '' });
    expect(slack.stdout).toBe('Stored slack credentials "team" (webhook on hooks.slack.com).\n');
    const mail = await cli(
      [
        'tool',
        'add',
        'mail',
        '--type',
        'email',
        '--host',
        'smtp.example.com',
        '--port',
        '465',
        '--user',
        'ops@example.com',
        '--password-stdin',
        '--from',
        'cronium@example.com',
        '--json',
      ],
      `${PASSWORD}\n`,
    );
    expect(mail.code).toBe(0);
    expect(JSON.parse(mail.stdout)).toMatchObject({
      name: 'mail',
      type: 'email',
      summary: 'ops@example.com at smtp.example.com:465, TLS, from cronium@example.com',
    });
  });

  it('lists them without their secrets, in text and JSON, and keeps the secrets sealed on disk', async () => {
    const text = await cli(['tool', 'list']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^NAME\s+TYPE\s+WHERE\s+ADDED\n/);
    expect(text.stdout).toMatch(/\nmail\s+email\s+ops@example\.com at smtp\.example\.com:465, TLS/);
    expect(text.stdout).toMatch(/\nteam\s+slack\s+webhook on hooks\.slack\.com/);
    const json = await cli(['tool', 'list', '--json']);
    const listed = JSON.parse(json.stdout) as { name: string }[];
    expect(listed.map((t) => t.name)).toEqual(['mail', 'team']);
    for (const out of [text.stdout, json.stdout]) {
      expect(out).not.toContain('cliSLACKtoken123456');
      expect(out).not.toContain(PASSWORD);
    }
    const db = readFileSync(join(dir.path, 'cronium.db'));
    expect(db.includes('cliSLACKtoken123456')).toBe(false);
    expect(db.includes(PASSWORD)).toBe(false);
  });

  it('refuses a secret on the command line, options of another type, and bad values, writing nothing', async () => {
    const onLine = await cli(['tool', 'add', 'x', '--type', 'slack', '--webhook-url', SLACK_URL]);
    expect(onLine.code).toBe(2);
    expect(onLine.stderr).toMatch(/Unknown option '--webhook-url'/);
    const noStdin = await cli(['tool', 'add', 'x', '--type', 'discord']);
    expect(noStdin.code).toBe(2);
    expect(noStdin.stderr).toMatch(/--webhook-url-stdin/);
    const mixed = await cli(
      ['tool', 'add', 'x', '--type', 'slack', '--webhook-url-stdin', '--host', 'h'],
      SLACK_URL,
    );
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/--host is for --type email only/);
    const badUrl = await cli(['tool', 'add', 'x', '--type', 'slack', '--webhook-url-stdin'], 'not a url\n');
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/webhook URL is an http:\/\/ or https:\/\/ address/);
    const badType = await cli(['tool', 'add', 'x', '--type', 'teams']);
    expect(badType.code).toBe(2);
    expect(badType.stderr).toMatch(/type is slack, discord or email/);
    const taken = await cli(['tool', 'add', 'TEAM', '--type', 'slack', '--webhook-url-stdin'], SLACK_URL);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toMatch(/a tool named "TEAM" already exists/);
    expect(JSON.parse((await cli(['tool', 'list', '--json'])).stdout)).toHaveLength(2);
  });

  it('removes one by name; a name that is not there is an error', async () => {
    expect(await cli(['tool', 'remove', 'team'])).toMatchObject({ code: 0, stdout: 'Removed team.\n' });
    const again = await cli(['tool', 'remove', 'team']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/No tool named "team"/);
    const left = JSON.parse((await cli(['tool', 'list', '--json'])).stdout) as { name: string }[];
    expect(left.map((t) => t.name)).toEqual(['mail']);
  });
});
