/**
 * One tool action request, checked and delivered: the payload each tool (Slack, Discord, email) accepts,
 * and the delivery (a webhook POST, an SMTP exchange) within a deadline. toolActions.ts performs them.
 */

import { TOOL_TYPES, type ToolType } from '../core/domain.ts';
import { emailAddress } from '../core/rules.ts';

/** Credentials of one stored tool, decrypted (core only). */
export type ToolCredentials =
  | { type: 'slack' | 'discord'; webhookUrl: string }
  | {
      type: 'email';
      host: string;
      port: number;
      secure?: boolean;
      user?: string;
      password?: string;
      from: string;
    };

/** At most this many tool actions per execution (a runaway loop must not flood a channel or an inbox). */
export const MAX_TOOL_ACTIONS = 100;
/** Milliseconds a delivery may take (inside the helpers' own 30 s wait for the app's answer). */
export const TOOL_ACTION_TIMEOUT_MS = 20_000;
/** Recipients of one email, all fields together. */
export const MAX_RECIPIENTS = 100;

/** Each tool's name as messages show it. */
export const NAMES: Record<ToolType, string> = { slack: 'Slack', discord: 'Discord', email: 'email' };

/** The action names each tool answers: Cronium's SDKs send `send_message`; its plugins' ids are accepted too. */
const ACTIONS: Record<ToolType, readonly string[]> = {
  slack: ['send_message', 'slack_send_message'],
  discord: ['send_message', 'discord_send_message'],
  email: ['send_message', 'send_email'],
};

/** A tool action refused or failed: the HTTP status and error code the script's helper gets. */
export class Refusal extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
const badRequest = (message: string) => new Refusal(400, 'invalid_input', message);

/** Whether a value is a plain JSON object (not null, not an array). */
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function optionalText(config: Record<string, unknown>, field: string, max: number): string | undefined {
  const value = config[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badRequest(`config.${field} must be text`);
  if (value.length > max) throw badRequest(`config.${field} is at most ${max} characters`);
  return value;
}

/** A JSON value given as itself or as JSON text (Cronium's plugins take `blocks` and `embeds` as text). */
function jsonish(value: unknown, field: string): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw badRequest(`config.${field} is not valid JSON`);
  }
}

/** Email addresses from text (comma-separated, as Cronium's email tool takes them) or a list. */
function addresses(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  const out: string[] = [];
  for (const item of list) {
    if (typeof item !== 'string')
      throw badRequest(`config.${field} must be an email address or a list of them`);
    for (const part of item.split(',')) {
      const address = part.trim();
      if (!address) continue;
      const parsed = emailAddress.safeParse(address);
      if (!parsed.success)
        throw badRequest(
          `config.${field}: "${address.slice(0, 80)}" is not ${parsed.error.issues[0]!.message}`,
        );
      out.push(parsed.data);
    }
  }
  return out;
}

/** What a request asks for, checked: the tool, the action's name, and the payload to send. */
export interface Checked {
  tool: ToolType;
  action: string;
  target: string;
  /** Sends it; `timeoutMs` bounds the whole delivery (connect, answer). */
  send: (
    credentials: ToolCredentials,
    scrub: (text: string) => string,
    timeoutMs: number,
  ) => Promise<unknown>;
}

/**
 * Checks a request `{tool, action, config}` against its tool's rules.
 * @throws Refusal 400 invalid_input for an unknown tool or action, or a config the tool cannot send.
 */
export function check(request: unknown): Checked {
  if (!isObject(request)) throw badRequest('a tool action is {"tool": ..., "action": ..., "config": {...}}');
  const tool = typeof request.tool === 'string' ? request.tool.trim().toLowerCase() : '';
  if (!(TOOL_TYPES as readonly string[]).includes(tool))
    throw badRequest(
      `no tool ${JSON.stringify(String(request.tool ?? '')).slice(0, 60)}: the tools are ${TOOL_TYPES.join(', ')}`,
    );
  const type = tool as ToolType;
  const action = typeof request.action === 'string' ? request.action : '';
  if (!ACTIONS[type].includes(action.trim().toLowerCase().replace(/-/g, '_')))
    throw badRequest(
      `${NAMES[type]} has no action ${JSON.stringify(action.slice(0, 60))}: use ${ACTIONS[type].join(' or ')}`,
    );
  const config = request.config ?? {};
  if (!isObject(config)) throw badRequest('config must be a JSON object');
  if (type === 'slack') return slack(config, action);
  if (type === 'discord') return discord(config, action);
  return email(config, action);
}

function slack(config: Record<string, unknown>, action: string): Checked {
  const text = optionalText(config, 'text', 40_000);
  const blocks = config.blocks === undefined ? undefined : jsonish(config.blocks, 'blocks');
  if (text === undefined && blocks === undefined)
    throw badRequest('a Slack message needs config.text or config.blocks');
  const payload: Record<string, unknown> = {};
  if (text !== undefined) payload.text = text;
  // Block Kit as a list, or as {"blocks": [...]} (what Cronium's plugin also takes).
  if (blocks !== undefined) payload.blocks = isObject(blocks) && 'blocks' in blocks ? blocks.blocks : blocks;
  if (config.attachments !== undefined) payload.attachments = jsonish(config.attachments, 'attachments');
  for (const field of ['channel', 'username', 'icon_emoji', 'icon_url', 'thread_ts'])
    if (config[field] !== undefined && config[field] !== null)
      payload[field] = optionalText(config, field, 2000);
  const channel = typeof payload.channel === 'string' ? payload.channel : null;
  return {
    tool: 'slack',
    action,
    target: channel ?? 'webhook',
    send: async (credentials, scrub, timeoutMs) => {
      const response = await post(credentials, payload, 'Slack', scrub, timeoutMs);
      await response.text();
      return { ok: true };
    },
  };
}

function discord(config: Record<string, unknown>, action: string): Checked {
  const content = optionalText(config, 'content', 2000);
  let embeds = config.embeds === undefined ? undefined : jsonish(config.embeds, 'embeds');
  if (isObject(embeds)) embeds = Array.isArray(embeds.embeds) ? embeds.embeds : [embeds];
  if (embeds !== undefined && !Array.isArray(embeds))
    throw badRequest('config.embeds must be a list of embeds');
  if (content === undefined && embeds === undefined)
    throw badRequest('a Discord message needs config.content or config.embeds');
  const payload: Record<string, unknown> = {};
  if (content !== undefined) payload.content = content;
  if (embeds !== undefined) payload.embeds = embeds;
  for (const field of ['username', 'avatar_url'])
    if (config[field] !== undefined && config[field] !== null)
      payload[field] = optionalText(config, field, 2000);
  if (typeof config.tts === 'boolean') payload.tts = config.tts;
  // A webhook posts to its own channel: Cronium's channelId is shown, not sent.
  const channelId = typeof config.channelId === 'string' && config.channelId ? config.channelId : null;
  return {
    tool: 'discord',
    action,
    target: channelId ? `channel ${channelId}` : 'webhook',
    send: async (credentials, scrub, timeoutMs) => {
      const response = await post(credentials, payload, 'Discord', scrub, timeoutMs, true);
      const text = await response.text();
      let id: unknown;
      try {
        id = (JSON.parse(text) as { id?: unknown }).id;
      } catch {
        id = undefined;
      }
      return typeof id === 'string' ? { success: true, message_id: id } : { success: true };
    },
  };
}

function email(config: Record<string, unknown>, action: string): Checked {
  const to = addresses(config.to, 'to');
  const cc = addresses(config.cc, 'cc');
  const bcc = addresses(config.bcc, 'bcc');
  if (to.length === 0) throw badRequest('an email needs config.to (an address, or a list)');
  if (to.length + cc.length + bcc.length > MAX_RECIPIENTS)
    throw badRequest(`an email goes to at most ${MAX_RECIPIENTS} recipients`);
  const subject = optionalText(config, 'subject', 998);
  if (subject === undefined || subject.trim() === '') throw badRequest('an email needs config.subject');
  const body = optionalText(config, 'body', 10 * 1024 * 1024);
  if (body === undefined) throw badRequest('an email needs config.body');
  // Text unless asked for HTML: Cronium's Bash SDK sends `html: true` for --html; its plugin calls it isHtml.
  const html = config.html === true || config.isHtml === true;
  const replyTo = addresses(config.replyTo ?? config.reply_to, 'replyTo');
  return {
    tool: 'email',
    action,
    target: to.join(', ').slice(0, 200),
    send: async (credentials, _scrub, timeoutMs) => {
      if (credentials.type !== 'email') throw new Error('not an email credential');
      // Loaded on first use: nodemailer is a fifth of the CLI's code, and most runs send no email.
      const { default: nodemailer } = await import('nodemailer');
      const transport = nodemailer.createTransport({
        host: credentials.host,
        port: credentials.port,
        secure: credentials.secure ?? credentials.port === 465,
        auth: credentials.user ? { user: credentials.user, pass: credentials.password ?? '' } : undefined,
        // Past the deadline below, which answers first (504, with one message).
        connectionTimeout: timeoutMs + 1000,
        greetingTimeout: timeoutMs + 1000,
        socketTimeout: timeoutMs + 1000,
      });
      // nodemailer's timeouts are per step: one deadline bounds the whole exchange.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Refusal(504, 'tool_timeout', `the mail server did not answer within ${timeoutMs / 1000} s`),
            ),
          timeoutMs,
        );
      });
      try {
        const sending = transport.sendMail({
          from: credentials.from,
          to,
          cc: cc.length ? cc : undefined,
          bcc: bcc.length ? bcc : undefined,
          replyTo: replyTo.length ? replyTo : undefined,
          subject,
          ...(html ? { html: body, text: body.replace(/<[^>]*>/g, '') } : { text: body }),
        });
        sending.catch(() => {}); // settled after the deadline: already answered
        const info = await Promise.race([sending, deadline]);
        const accepted = info.accepted.map(String);
        const rejected = info.rejected.map(String);
        if (accepted.length === 0)
          throw new Refusal(
            502,
            'tool_failed',
            `the mail server refused every recipient: ${rejected.join(', ')}`,
          );
        return {
          messageId: info.messageId,
          status: 'sent',
          recipients: accepted,
          timestamp: new Date().toISOString(),
          deliveryInfo: { accepted, rejected, pending: [] },
        };
      } finally {
        clearTimeout(timer);
        transport.close();
      }
    },
  };
}

/** POSTs JSON to a webhook; a non-2xx answer, or none in time, is a Refusal (502 / 504). */
async function post(
  credentials: ToolCredentials,
  payload: unknown,
  service: string,
  scrub: (text: string) => string,
  timeoutMs: number,
  wait = false,
): Promise<Response> {
  if (credentials.type === 'email') throw new Error('not a webhook credential');
  const url = new URL(credentials.webhookUrl);
  // Discord answers with the message it posted (its id) only when asked to wait for it.
  if (wait) url.searchParams.set('wait', 'true');
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    if ((err as Error).name === 'TimeoutError')
      throw new Refusal(504, 'tool_timeout', `${service} did not answer within ${timeoutMs / 1000} s`);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Refusal(
      502,
      'tool_failed',
      `${service} could not be reached (${scrub(cause?.code ?? cause?.message ?? (err as Error).message)})`,
    );
  }
  if (!response.ok) {
    const text = (await response.text().catch(() => '')).trim().replace(/\s+/g, ' ').slice(0, 300);
    throw new Refusal(
      502,
      'tool_failed',
      `${service} answered HTTP ${response.status}${text ? `: ${scrub(text)}` : ''}`,
    );
  }
  return response;
}
