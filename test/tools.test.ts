/**
 * Issue 15 part 4: tool actions. Scripts written for Cronium call sendSlackMessage, sendDiscordMessage,
 * sendEmail and executeToolAction (Python snake_case, Node.js objects, Bash functions); the app sends them
 * with credentials from its secret store, here to a local webhook server and a local SMTP server
 * (smtp-server), from real scripts on a real host, in API mode (at once) and bundled mode (queued, sent
 * at collection). Every action is in the execution's log and detail; a failure is the helper's error in
 * API mode and a failed record in bundled mode; no credential ever shows.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';

import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Execution, ToolActionRecord } from '../src/core/domain.ts';
import type { CroniumService } from '../src/service/service.ts';
import { toolActionPerformer } from '../src/tools/toolActions.ts';
import { ownHosts, serviceWithHosts } from './support/fixtures.ts';

const SLACK_TOKEN = 'xoxbSLACKTOKEN0123456789abcdef';
const DISCORD_TOKEN = 'dscDISCORDTOKEN9876543210fedcba';
const SMTP_USER = 'mailer';
const SMTP_PASSWORD = 'smtp-Pa55word-never-shown';

interface Hooked {
  path: string;
  body: unknown;
}
interface Mail {
  from: string;
  to: string[];
  data: string;
}

/** A local stand-in for Slack's and Discord's incoming webhooks: records each POST, answers like them. */
function startWebhooks(): Promise<{ server: Server; base: string; received: Hooked[] }> {
  const received: Hooked[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const text = Buffer.concat(parts).toString('utf8');
      received.push({ path: req.url ?? '', body: JSON.parse(text) as unknown });
      if (req.url?.startsWith('/fail/')) {
        // An error page that repeats the request's URL: its token must never reach the script or the log.
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`internal error handling POST ${req.url}`);
      } else if (req.url?.startsWith('/api/webhooks/')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: '1100223344', channel_id: '77' }));
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received }),
    ),
  );
}

/** A local SMTP server (no TLS) that takes one login and records each message. */
function startSmtp(): Promise<{ server: SMTPServer; port: number; mails: Mail[] }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: false,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) callback(null, { user: SMTP_USER });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(parts).toString('utf8'),
        });
        callback();
      });
    },
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.server.address() as AddressInfo).port, mails }),
    ),
  );
}

/** The same scenario in each language, with Cronium's names and argument shapes. */
const SCRIPTS = {
  python: `
results = {}
host = cronium.event()["server"]["name"]
results["slack"] = cronium.send_slack_message("#alerts", "disk at 91% on " + host)
results["email"] = cronium.send_email(to="ops@example.com", subject="Nightly report", body="All 3 jobs passed", cc="lead@example.com")
try:
    results["discord"] = cronium.send_discord_message("1234", "deploy done")
except cronium.CroniumAPIError as e:
    results["discord_error"] = {"status": e.status_code, "message": e.message}
try:
    results["teams"] = cronium.execute_tool_action("teams", "send_message", {"text": "x"})
except cronium.CroniumAPIError as e:
    results["teams_error"] = e.status_code
cronium.output(results)
`,
  node: `
const cronium = require('cronium');
const results = {};
const host = cronium.event().server.name;
results.slack = cronium.sendSlackMessage({ channel: '#alerts', text: 'disk at 91% on ' + host });
results.email = cronium.sendEmail({ to: 'ops@example.com', subject: 'Nightly report', body: 'All 3 jobs passed', cc: ['lead@example.com'] });
try {
  results.discord = cronium.sendDiscordMessage({ channelId: '1234', content: 'deploy done' });
} catch (e) {
  if (!(e instanceof cronium.CroniumAPIError)) throw e;
  results.discord_error = { status: e.statusCode, message: e.message };
}
try {
  results.teams = cronium.executeToolAction('teams', 'send_message', { text: 'x' });
} catch (e) {
  results.teams_error = e.statusCode;
}
cronium.output(results);
`,
  bash: `
source /usr/local/bin/cronium.sh
slack=$(cronium_send_slack_message "#alerts" "disk at 91% on $(cronium_event_field server.name)")
email=$(cronium_send_email "ops@example.com" "Nightly report" "All 3 jobs passed" --cc lead@example.com)
if discord=$(cronium_send_discord_message 1234 "deploy done" 2>/dev/null); then discord_rc=0; else discord_rc=$?; discord=null; fi
if teams=$(cronium_execute_tool_action teams send_message '{"text":"x"}' 2>/dev/null); then teams_rc=0; else teams_rc=$?; teams=null; fi
cronium_output "{\\"slack\\":$slack,\\"email\\":$email,\\"discord\\":$discord,\\"discord_rc\\":$discord_rc,\\"teams_rc\\":$teams_rc}"
`,
} as const;

describe('tool actions from scripts, with credentials from the secret store', () => {
  const h = ownHosts('tools');
  let service: CroniumService;
  let close: () => Promise<void>;
  let hooks: Awaited<ReturnType<typeof startWebhooks>>;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;

  beforeAll(async () => {
    hooks = await startWebhooks();
    smtp = await startSmtp();
    ({ service, close } = await serviceWithHosts({ tunnelLingerMs: 0 }, h));
    await service.createTool({
      type: 'slack',
      name: 'team-slack',
      webhookUrl: `${hooks.base}/services/T01/B02/${SLACK_TOKEN}`,
    });
    // Discord's stored webhook answers 500 (and repeats its URL): every Discord action fails.
    await service.createTool({
      type: 'discord',
      name: 'ops-discord',
      webhookUrl: `${hooks.base}/fail/api/webhooks/55/${DISCORD_TOKEN}`,
    });
    await service.createTool({
      type: 'email',
      name: 'mail',
      host: '127.0.0.1',
      port: smtp.port,
      user: SMTP_USER,
      password: SMTP_PASSWORD,
      from: 'cronium@example.com',
    });
  });
  afterAll(async () => {
    await close?.();
    hooks?.server.close();
    await new Promise<void>((resolve) => (smtp ? smtp.server.close(() => resolve()) : resolve()));
    h.removeUser();
  });

  let runs = 0;
  async function run(language: keyof typeof SCRIPTS, mode: 'api' | 'bundled') {
    const name = `tools-${language}-${mode}-${++runs}`;
    const job = await service.createJob({ name, language, script: SCRIPTS[language] });
    const started = await service.startRun({ jobId: job.id, serverIds: ['h1'], helperMode: mode });
    const done = await service.waitForRun(started.id);
    const exec = await service.getExecution(done.executionIds[0]!);
    const log = await service.readLog(exec.id, -1, 1_000_000);
    const text = (stream: string) =>
      log
        .filter((c) => c.stream === stream)
        .map((c) => c.text)
        .join('');
    return { exec, system: text('system'), stdout: text('stdout'), stderr: text('stderr'), all: log };
  }

  async function expectNoCredential(exec: Execution, logText: string): Promise<void> {
    const everything = JSON.stringify(exec) + logText + JSON.stringify(await service.listTools());
    for (const secret of [SLACK_TOKEN, DISCORD_TOKEN, SMTP_PASSWORD])
      expect(everything).not.toContain(secret);
  }

  function expectRecords(actions: ToolActionRecord[], mode: 'api' | 'bundled'): void {
    expect(actions.map((a) => [a.tool, a.status, a.credential, a.mode])).toEqual([
      ['slack', 'sent', 'team-slack', mode],
      ['email', 'sent', 'mail', mode],
      ['discord', 'failed', 'ops-discord', mode],
      ['teams', 'failed', null, mode],
    ]);
    expect(actions[0]!.target).toBe('#alerts');
    expect(actions[1]!.target).toBe('ops@example.com');
    expect(actions[2]!.error).toMatch(/^Discord answered HTTP 500: internal error handling POST .*\*\*\*/);
    expect(actions[3]!.error).toMatch(/no tool "teams"/);
  }

  it.each([
    ['python', 'api'],
    ['python', 'bundled'],
    ['node', 'api'],
    ['node', 'bundled'],
    ['bash', 'api'],
    ['bash', 'bundled'],
  ] as const)('%s in %s mode', async (language, mode) => {
    const hooksBefore = hooks.received.length;
    const mailsBefore = smtp.mails.length;
    const r = await run(language, mode);
    expect(r.exec.helperMode).toBe(mode);
    expect(r.exec.status).toBe('succeeded');
    expect(r.stderr).toBe('');

    // What reached the services, with the stored credentials.
    const reached = hooks.received.slice(hooksBefore);
    expect(reached).toEqual([
      {
        path: `/services/T01/B02/${SLACK_TOKEN}`,
        body: { channel: '#alerts', text: 'disk at 91% on h1' },
      },
      { path: `/fail/api/webhooks/55/${DISCORD_TOKEN}?wait=true`, body: { content: 'deploy done' } },
    ]);
    const mails = smtp.mails.slice(mailsBefore);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.from).toBe('cronium@example.com');
    expect(mails[0]!.to.sort()).toEqual(['lead@example.com', 'ops@example.com']);
    expect(mails[0]!.data).toContain('Subject: Nightly report');
    expect(mails[0]!.data).toContain('All 3 jobs passed');

    // What the script got back: the tools' answers at once (API mode), or "queued" (bundled mode).
    const output = r.exec.output as Record<string, unknown>;
    if (mode === 'bundled') {
      expect(output.slack).toEqual({ queued: true });
      expect(output.email).toEqual({ queued: true });
    } else {
      expect(output.slack).toEqual({ ok: true });
      expect(output.email).toMatchObject({
        status: 'sent',
        recipients: ['ops@example.com', 'lead@example.com'],
        deliveryInfo: { rejected: [] },
      });
      expect((output.email as { messageId: string }).messageId).toMatch(/^<.+@.+>$/);
      if (language === 'bash') {
        expect(output).toMatchObject({ discord: null, discord_rc: 1, teams_rc: 1 });
      } else {
        const error = output.discord_error as { status: number; message: string };
        expect(error.status).toBe(502);
        expect(error.message).toMatch(/^Discord answered HTTP 500/);
        expect(output.teams_error).toBe(400);
      }
    }

    // The execution's detail and log say what happened to each action.
    expectRecords(r.exec.toolActions, mode);
    const lines = r.system.split('\n').filter((l) => l.startsWith('tool action'));
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe(
      `tool action slack send_message to #alerts (credential "team-slack"): sent${mode === 'bundled' ? ', queued by the script and sent at collection' : ''}`,
    );
    expect(lines[2]).toMatch(
      /^tool action discord send_message to channel 1234 \(credential "ops-discord"\): failed: Discord answered HTTP 500/,
    );
    await expectNoCredential(r.exec, r.all.map((c) => c.text).join(''));
  });

  it('lists credentials without their secrets, uses the newest of a type, and removes them', async () => {
    const listed = await service.listTools();
    expect(listed.map((t) => [t.name, t.type, t.summary])).toEqual([
      ['mail', 'email', `${SMTP_USER} at 127.0.0.1:${smtp.port}, from cronium@example.com`],
      ['ops-discord', 'discord', `webhook on ${new URL(hooks.base).host}`],
      ['team-slack', 'slack', `webhook on ${new URL(hooks.base).host}`],
    ]);
    await expect(
      service.createTool({ type: 'slack', name: 'team-slack', webhookUrl: `${hooks.base}/x/y/z` }),
    ).rejects.toThrow(/already exists/);
    await expect(
      service.createTool({ type: 'slack', name: 'bad', webhookUrl: 'ftp://example.com/x' }),
    ).rejects.toThrow(/webhook URL is an http/);
    await expect(
      service.createTool({ type: 'email', name: 'bad', host: 'x', from: 'not-an-address' } as never),
    ).rejects.toThrow(/from: an email address/);
    await expect(service.createTool({ type: 'teams', name: 'x' } as never)).rejects.toThrow(
      /type is slack, discord or email/,
    );
    expect(await service.listTools()).toHaveLength(3);

    const second = await service.createTool({
      type: 'slack',
      name: 'second-slack',
      webhookUrl: `${hooks.base}/services/T9/B9/second0123456`,
    });
    const before = hooks.received.length;
    const r = await run('python', 'api');
    expect(hooks.received[before]!.path).toBe('/services/T9/B9/second0123456');
    expect(r.exec.toolActions[0]!.credential).toBe('second-slack');
    await service.removeTool(second.name);
    await expect(service.removeTool('second-slack')).rejects.toThrow(/No tool named "second-slack"/);
    expect((await service.listTools()).map((t) => t.name)).not.toContain('second-slack');
  });

  it('a bundled-mode script that queues more than the limit gets refused by the helper, the rest are sent', async () => {
    const before = hooks.received.length;
    const script = `
sent = 0
try:
    for i in range(105):
        cronium.send_slack_message("#flood", "n%d" % i)
        sent += 1
except cronium.CroniumAPIError as e:
    cronium.output({"sent": sent, "status": e.status_code})
`;
    const job = await service.createJob({ name: 'tools-flood', language: 'python', script });
    const done = await service.waitForRun(
      (await service.startRun({ jobId: job.id, serverIds: ['h1'], helperMode: 'bundled' })).id,
    );
    const exec = await service.getExecution(done.executionIds[0]!);
    expect(exec.output).toEqual({ sent: 100, status: 429 });
    expect(exec.toolActions).toHaveLength(100);
    expect(exec.toolActions.every((a) => a.status === 'sent')).toBe(true);
    expect(hooks.received.slice(before).map((h) => (h.body as { text: string }).text)).toEqual(
      Array.from({ length: 100 }, (_, i) => `n${i}`),
    );
  });
});

describe('the tool action performer (failures a real service gives on demand here)', () => {
  it('a wrong SMTP password, an unreachable webhook and a bad call fail with a sentence and no secret', async () => {
    const smtp = await startSmtp();
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', () => resolve()));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    try {
      const performer = toolActionPerformer({
        newestOfType: async (type) =>
          type === 'email'
            ? {
                name: 'mail',
                credentials: {
                  type: 'email',
                  host: '127.0.0.1',
                  port: smtp.port,
                  user: SMTP_USER,
                  password: 'wrong-password-123',
                  from: 'cronium@example.com',
                },
              }
            : type === 'slack'
              ? {
                  name: 'gone',
                  credentials: {
                    type: 'slack',
                    webhookUrl: `http://127.0.0.1:${deadPort}/services/${SLACK_TOKEN}`,
                  },
                }
              : null,
      });
      const mail = await performer.perform(
        { tool: 'email', action: 'send_message', config: { to: 'a@example.com', subject: 's', body: 'b' } },
        'api',
      );
      expect(mail).toMatchObject({
        ok: false,
        status: 502,
        record: { status: 'failed', credential: 'mail' },
      });
      expect(JSON.stringify(mail)).not.toContain('wrong-password-123');
      expect(smtp.mails).toHaveLength(0);

      const slack = await performer.perform(
        { tool: 'slack', action: 'send_message', config: { text: 'x' } },
        'bundled',
      );
      expect(slack).toMatchObject({
        ok: false,
        status: 502,
        message: 'Slack could not be reached (ECONNREFUSED)',
      });
      expect(JSON.stringify(slack)).not.toContain(SLACK_TOKEN);

      const none = await performer.perform(
        { tool: 'discord', action: 'send_message', config: { content: 'x' } },
        'api',
      );
      expect(none).toMatchObject({ ok: false, status: 404, record: { credential: null } });
      expect((none as { message: string }).message).toMatch(/no Discord credentials are stored/);

      for (const [request, message] of [
        [{ tool: 'slack', action: 'send_message', config: {} }, /needs config.text or config.blocks/],
        [{ tool: 'slack', action: 'post', config: { text: 'x' } }, /Slack has no action "post"/],
        [
          { tool: 'email', action: 'send_message', config: { to: 'nobody', subject: 's', body: 'b' } },
          /"nobody" is not an email address/,
        ],
        [
          { tool: 'email', action: 'send_message', config: { to: 'a@example.com', body: 'b' } },
          /needs config.subject/,
        ],
        [{ tool: 'discord', action: 'send_message', config: 'text' }, /config must be a JSON object/],
        ['just text', /a tool action is/],
      ] as const) {
        const outcome = await performer.perform(request, 'api');
        expect(outcome).toMatchObject({ ok: false, status: 400 });
        expect((outcome as { message: string }).message).toMatch(message);
      }
    } finally {
      await new Promise<void>((resolve) => smtp.server.close(() => resolve()));
    }
  });

  it('a service that never answers is given up on after the deadline (504), webhook and SMTP alike', async () => {
    // Takes connections and says nothing: no SMTP greeting, no HTTP response.
    const sockets: Socket[] = [];
    const silent = createTcpServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    const port = (silent.address() as AddressInfo).port;
    try {
      const performer = toolActionPerformer(
        {
          newestOfType: async (type) =>
            type === 'email'
              ? {
                  name: 'mail',
                  credentials: { type: 'email', host: '127.0.0.1', port, from: 'cronium@example.com' },
                }
              : {
                  name: 'hook',
                  credentials: { type, webhookUrl: `http://127.0.0.1:${port}/hook/${SLACK_TOKEN}` },
                },
        },
        { timeoutMs: 300 },
      );
      const started = Date.now();
      const outcomes = await Promise.all([
        performer.perform({ tool: 'slack', action: 'send_message', config: { text: 'x' } }, 'api'),
        performer.perform({ tool: 'discord', action: 'send_message', config: { content: 'x' } }, 'api'),
        performer.perform(
          { tool: 'email', action: 'send_message', config: { to: 'a@example.com', subject: 's', body: 'b' } },
          'api',
        ),
      ]);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(outcomes.map((o) => [o.ok, !o.ok && o.status, !o.ok && o.message])).toEqual([
        [false, 504, 'Slack did not answer within 0.3 s'],
        [false, 504, 'Discord did not answer within 0.3 s'],
        [false, 504, 'the mail server did not answer within 0.3 s'],
      ]);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
