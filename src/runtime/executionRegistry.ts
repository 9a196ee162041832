import { VARIABLE_CHANGE_TEXT_MAX, type ToolActionRecord, type VariableChange } from '../core/domain.ts';

/** What a running execution's helpers read and write, whichever way they reach the app. */
export interface RuntimeContext {
  executionId: string;
  jobId: string;
  serverId: string;
  input: unknown;
  /** What cronium.event() returns. */
  event: Record<string, unknown>;
  output: unknown;
  outputSet: boolean;
  condition: boolean | null;
  changes: VariableChange[];
  /**
   * Called with the new value when the script sets a secret variable, so the execution masks it from
   * then on (its log, output and history).
   */
  onSecretValue?: (value: unknown) => void;
  /** The tool actions the script asked for so far, in order (the execution's detail lists them). */
  toolActions?: ToolActionRecord[];
  /** Called as each tool action ends, so the execution's log says so (a system line). */
  onToolAction?: (record: ToolActionRecord) => void;
}

/** The shared variables, as the helpers see them (secret values decrypted for the script). */
export interface VariableAccess {
  get(key: string): { value: unknown } | null;
  set(key: string, value: unknown, updatedBy: string): void;
  remove(key: string): boolean;
  /** Every variable; `secret` marks the ones whose values are masked wherever output goes. */
  all(): { key: string; value: unknown; secret?: boolean }[];
  /** Whether a key is secret (a set keeps a key's secrecy, so its new value must be masked too). */
  isSecret?(key: string): boolean;
  /**
   * Reads, changes and writes one variable in a single store transaction (no other writer between),
   * returning the new value; `change` gets undefined when the variable is unset and may throw to abort.
   * Optional: without it the runtime reads and writes in two steps.
   */
  update?(key: string, change: (current: unknown) => unknown, updatedBy: string): Promise<unknown>;
}

export interface RateLimit {
  /** Requests allowed at once. */
  burst: number;
  /** Requests regained per second. */
  perSecond: number;
}

/**
 * Executions whose helpers may call the runtime, keyed by id. A token opens only a registered execution,
 * so removing it (in the executor's finally) is what makes its token stop working.
 */
export class ExecutionRegistry {
  private readonly active = new Map<
    string,
    { context: RuntimeContext; tokens: number; refilledAt: number }
  >();
  private readonly limit: RateLimit;

  constructor(limit: RateLimit = { burst: 2000, perSecond: 1000 }) {
    this.limit = limit;
  }

  register(context: RuntimeContext): void {
    this.active.set(context.executionId, { context, tokens: this.limit.burst, refilledAt: Date.now() });
  }

  unregister(executionId: string): void {
    this.active.delete(executionId);
  }

  get(executionId: string): RuntimeContext | null {
    return this.active.get(executionId)?.context ?? null;
  }

  /** Token bucket per execution: false when this request is over the limit. */
  take(executionId: string): boolean {
    const entry = this.active.get(executionId);
    if (!entry) return false;
    const now = Date.now();
    entry.tokens = Math.min(
      this.limit.burst,
      entry.tokens + ((now - entry.refilledAt) / 1000) * this.limit.perSecond,
    );
    entry.refilledAt = now;
    if (entry.tokens < 1) return false;
    entry.tokens -= 1;
    return true;
  }
}

/** Records a change, keeping one entry per key: the last operation wins, as it does in the store. */
export function recordChange(changes: VariableChange[], change: VariableChange): void {
  const at = changes.findIndex((c) => c.key === change.key);
  if (at >= 0) changes.splice(at, 1);
  changes.push(change);
}

/**
 * The change a set makes, as history keeps it: the value as JSON text, cut at VARIABLE_CHANGE_TEXT_MAX
 * characters; a secret variable's value is left out (`secret: true`), never recorded.
 */
export function setChange(key: string, value: unknown, secret: boolean): VariableChange {
  if (secret) return { key, op: 'set', secret: true };
  const text = JSON.stringify(value) ?? 'null';
  const cut =
    text.length > VARIABLE_CHANGE_TEXT_MAX ? `${text.slice(0, VARIABLE_CHANGE_TEXT_MAX - 1)}…` : text;
  return { key, op: 'set', value: cut };
}

/** Shell helpers pass text: JSON when it parses as JSON, else the text itself (one rule, in core). */
export { parseJsonOrText } from '../core/jsonText.ts';
