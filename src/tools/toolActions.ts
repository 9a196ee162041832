/**
 * Tool actions (Cronium's `executeToolAction` and its `sendSlackMessage`, `sendDiscordMessage` and
 * `sendEmail` wrappers): the app performs them on the script's behalf with credentials from its secret
 * store, which the script never sees. A request is what Cronium's SDKs send, `{tool, action, config}`;
 * the answer's data is what Cronium's tool plugins return (Slack `{ok}`, Discord `{success, message_id}`,
 * email `{messageId, status, recipients, timestamp, deliveryInfo}`). Used by the runtime API (API mode:
 * at once) and by bundled-mode collection (queued, sent when the run is collected).
 */
import type { ToolActionRecord, ToolType } from '../core/domain.ts';
import {
  check,
  type Checked,
  isObject,
  NAMES,
  Refusal,
  TOOL_ACTION_TIMEOUT_MS,
  type ToolCredentials,
} from './toolRequests.ts';

export {
  MAX_RECIPIENTS,
  MAX_TOOL_ACTIONS,
  TOOL_ACTION_TIMEOUT_MS,
  type ToolCredentials,
} from './toolRequests.ts';

/** Where a performer finds the credential for a tool: Cronium's rule, the most recently added of its type. */
export interface CredentialSource {
  newestOfType(type: ToolType): Promise<{ name: string; credentials: ToolCredentials } | null>;
}

/** How a tool action ended: its record (for the log and the execution's detail) and the script's answer. */
export type ToolActionOutcome =
  | { ok: true; record: ToolActionRecord; data: unknown }
  | { ok: false; record: ToolActionRecord; status: number; code: string; message: string };

/** Performs tool actions; the runtime API and bundled-mode collection hold one. */
export interface ToolActionPerformer {
  /** Never throws: a bad request or a failed delivery is an outcome with ok false. */
  perform(request: unknown, mode: 'api' | 'bundled'): Promise<ToolActionOutcome>;
}

/** The secret strings of a credential, to take out of any message (a URL's path carries its token). */
function secretsOf(credentials: ToolCredentials): string[] {
  if (credentials.type === 'email') return credentials.password ? [credentials.password] : [];
  const url = new URL(credentials.webhookUrl);
  return [credentials.webhookUrl, url.href, url.pathname + url.search, ...url.pathname.split('/')].filter(
    (s) => s.length >= 8,
  );
}

function scrubber(secrets: string[]): (text: string) => string {
  const sorted = [...new Set(secrets)].sort((a, b) => b.length - a.length);
  return (text) => sorted.reduce((t, s) => t.split(s).join('***'), text);
}

/**
 * Performs tool actions with the newest stored credential of each tool (Cronium's rule when there are
 * several). Every outcome carries its record; no message ever holds a credential. `timeoutMs` bounds each
 * delivery (TOOL_ACTION_TIMEOUT_MS; tests give less).
 */
export function toolActionPerformer(
  source: CredentialSource,
  { timeoutMs = TOOL_ACTION_TIMEOUT_MS }: { timeoutMs?: number } = {},
): ToolActionPerformer {
  return {
    async perform(request, mode) {
      const at = Date.now();
      const shown = isObject(request)
        ? {
            tool: typeof request.tool === 'string' ? request.tool.slice(0, 40) : String(request.tool ?? ''),
            action: typeof request.action === 'string' ? request.action.slice(0, 60) : '',
          }
        : { tool: '', action: '' };
      let credential: string | null = null;
      let checked: Checked | null = null;
      let scrub = (text: string) => text;
      try {
        checked = check(request);
        const stored = await source.newestOfType(checked.tool);
        if (!stored)
          throw new Refusal(
            404,
            'not_found',
            `no ${NAMES[checked.tool]} credentials are stored: add them under Tools in the app, or with "cronium tool add"`,
          );
        credential = stored.name;
        scrub = scrubber(secretsOf(stored.credentials));
        const data = await checked.send(stored.credentials, scrub, timeoutMs);
        return { ok: true, data, record: record('sent', null) };
      } catch (err) {
        const refusal =
          err instanceof Refusal
            ? err
            : new Refusal(
                502,
                'tool_failed',
                `${checked ? NAMES[checked.tool] : 'the tool'} failed: ${(err as Error).message}`,
              );
        const message = scrub(refusal.message);
        return {
          ok: false,
          status: refusal.status,
          code: refusal.code,
          message,
          record: record('failed', message),
        };
      }

      function record(status: 'sent' | 'failed', error: string | null): ToolActionRecord {
        return {
          tool: checked?.tool ?? shown.tool,
          action: checked?.action ?? shown.action,
          credential,
          target: checked?.target ?? '',
          status,
          error,
          mode,
          at,
        };
      }
    },
  };
}

/** The execution log's line for a tool action (a system line; never a credential). */
export function toolActionLine(r: ToolActionRecord): string {
  const what = [r.tool || 'tool', r.action].filter(Boolean).join(' ');
  const where = r.target ? ` to ${r.target}` : '';
  const through = r.credential ? ` (credential "${r.credential}")` : '';
  const queued = r.mode === 'bundled' ? ', queued by the script and sent at collection' : '';
  return r.status === 'sent'
    ? `tool action ${what}${where}${through}: sent${queued}`
    : `tool action ${what}${where}${through}: failed: ${r.error ?? 'unknown error'}`;
}

/** A refused action that never reached perform() (over the count, too large): its record and answer. */
export function refusedToolAction(
  request: unknown,
  mode: 'api' | 'bundled',
  status: number,
  code: string,
  message: string,
): Extract<ToolActionOutcome, { ok: false }> {
  const r = isObject(request) ? request : {};
  return {
    ok: false,
    status,
    code,
    message,
    record: {
      tool: typeof r.tool === 'string' ? r.tool.slice(0, 40) : '',
      action: typeof r.action === 'string' ? r.action.slice(0, 60) : '',
      credential: null,
      target: '',
      status: 'failed',
      error: message,
      mode,
      at: Date.now(),
    },
  };
}
