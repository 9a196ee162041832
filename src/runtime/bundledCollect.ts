/**
 * Bundled mode after the script: what the collector brought back (variables, output, condition, tool
 * actions), applied to the execution as the runtime API would have.
 */
import { VARIABLE_KEY_MESSAGE, variableKey } from '../core/rules.ts';
import {
  MAX_TOOL_ACTIONS,
  refusedToolAction,
  type ToolActionOutcome,
  type ToolActionPerformer,
} from '../tools/toolActions.ts';
import type { RuntimeContext, VariableAccess } from './executionRegistry.ts';
import { parseJsonOrText, recordChange, setChange } from './executionRegistry.ts';
import { updateVariable } from './runtimeVariables.ts';
import {
  checkFieldKey,
  checkOutput,
  checkVariable,
  incrementValue,
  MAX_OUTPUT_BYTES,
  MAX_VARIABLE_BYTES,
  overLimitMessage,
  withOutputField,
} from './helperRules.ts';

/** Bundled-mode files are named by the hex of the key, so any key is a safe file name (hexToKey reads it back). */
export const keyToHex = (key: string) => Buffer.from(key, 'utf8').toString('hex');
export const hexToKey = (hex: string) => Buffer.from(hex, 'hex').toString('utf8');

/** The collector's output: "\x1e<name> <bytes>\n<content>" for each file it found. */
export function parseCollected(data: Buffer): Map<string, string> {
  const files = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    if (data[at] !== 0x1e) break;
    const newline = data.indexOf(0x0a, at);
    if (newline < 0) break;
    const [name, size] = data
      .subarray(at + 1, newline)
      .toString('utf8')
      .split(' ');
    const length = Number(size);
    if (!name || !Number.isInteger(length)) break;
    files.set(name, data.subarray(newline + 1, newline + 1 + length).toString('utf8'));
    at = newline + 1 + length;
  }
  return files;
}

/**
 * Applies what a bundled-mode script left behind exactly as API mode would have: output, condition, and
 * variable sets, deletes and increments in the order of the helpers' journal. Returns problems worth
 * logging (the execution's log shows each as a system line).
 */
export async function applyCollected(
  files: Map<string, string>,
  context: RuntimeContext,
  variables: VariableAccess,
): Promise<string[]> {
  const problems: string[] = [];
  // What the helpers refused to write never gets here; this is the last line for what slipped past.
  const tooLarge = (name: string, what: 'output' | 'variable value', limit: number): boolean => {
    const size = files.get(`${name}.toolarge`);
    if (size === undefined) return false;
    problems.push(`cronium: ${overLimitMessage(what, Number(size), limit)}, so it was not recorded`);
    return true;
  };
  const output = files.get('.cronium.output.json');
  // Fields set one by one (Bash `cronium.output <key> <value>`), in the order they were set.
  const fields = (files.get('.cronium.outfields') ?? '')
    .split('\n')
    .filter((hex) => /^[0-9a-f]+$/.test(hex) && files.has(`.cronium.outfield.${hex}`));
  if (
    !tooLarge('.cronium.output.json', 'output', MAX_OUTPUT_BYTES) &&
    (output !== undefined || fields.length > 0)
  ) {
    // Text that is not JSON (Bash) is a string, as the runtime API records it.
    let value = output === undefined ? undefined : parseJsonOrText(output);
    for (const hex of fields) {
      const key = hexToKey(hex);
      // The same field-key rule as the runtime's ?key= (the helpers check it first; this is for what slipped past).
      const refused = checkFieldKey(key);
      if (refused) {
        problems.push(`cronium.output(${JSON.stringify(key.slice(0, 120))}): ${refused}`);
        continue;
      }
      value = withOutputField(value, key, parseJsonOrText(files.get(`.cronium.outfield.${hex}`)!));
    }
    const over = checkOutput(value);
    if (over) problems.push(`cronium: ${over}, so it was not recorded`);
    else {
      context.output = value;
      context.outputSet = true;
    }
  }
  const condition = files.get('.cronium.condition.json')?.trim();
  if (condition === 'true' || condition === 'false') context.condition = condition === 'true';

  // Per key, in the order of its last operation: the last operation, the last absolute one (a set or a
  // delete), and the increments journalled after that ("incr <hex> <by>").
  const journal = new Map<string, { op: string; absolute: string | null; steps: string[] }>();
  for (const line of (files.get('.cronium.changes') ?? '').split('\n')) {
    // An empty key journals as "setraw " (no hex): it is read, so the key rule can refuse it below.
    const [, op, hex, by] = /^([a-z]+) ([0-9a-f]*)(?: (\S+))?$/.exec(line) ?? [];
    if (!op || hex === undefined || (op === 'incr') !== (by !== undefined)) continue;
    const entry = journal.get(hex) ?? { op, absolute: null, steps: [] };
    journal.delete(hex);
    entry.op = op;
    if (op === 'incr') entry.steps.push(by!);
    else {
      entry.absolute = op;
      entry.steps = [];
    }
    journal.set(hex, entry);
  }
  for (const [hex, { op, absolute, steps }] of journal) {
    const key = hexToKey(hex);
    // The same rule as every other door: a key that could not be written back as a file is never stored.
    if (!variableKey.safeParse(key).success) {
      problems.push(`cronium.setVariable(${JSON.stringify(key.slice(0, 120))}): ${VARIABLE_KEY_MESSAGE}`);
      continue;
    }
    if (op === 'delete') {
      await variables.remove(key);
      recordChange(context.changes, { key, op: 'delete' });
      continue;
    }
    if (absolute === null) {
      // Only increments in this run: applied to the stored value at collect, in one atomic write, so
      // executions counting at once (in either mode) never lose a count.
      const problem = await applyIncrements(key, steps, context, variables);
      if (problem) problems.push(problem);
      continue;
    }
    const name = `.cronium.var.${hex}`;
    if (tooLarge(`${name}.json`, 'variable value', MAX_VARIABLE_BYTES)) continue;
    if (tooLarge(`${name}.raw`, 'variable value', MAX_VARIABLE_BYTES)) continue;
    const json = files.get(`${name}.json`);
    const raw = files.get(`${name}.raw`);
    let value: unknown;
    // After a set or delete in this run, increments were exact on the script's side: its file holds the result.
    if (op === 'incr' && json === undefined && raw !== undefined) value = parseJsonOrText(raw);
    else if (op === 'setraw' && raw !== undefined) value = parseJsonOrText(raw);
    else if (op === 'settext' && raw !== undefined) value = raw;
    else if (json !== undefined) {
      try {
        value = JSON.parse(json) as unknown;
      } catch {
        problems.push(`cronium.setVariable(${key}): the value is not valid JSON, so it was not saved`);
        continue;
      }
    } else continue;
    const over = checkVariable(value);
    if (over) {
      problems.push(`cronium: setVariable(${key}): ${over}, so it was not saved`);
      continue;
    }
    await variables.set(key, value, `execution:${context.executionId}`);
    const secret = (await variables.isSecret?.(key)) ?? false;
    if (secret) context.onSecretValue?.(value);
    recordChange(context.changes, setChange(key, value, secret));
  }
  return problems;
}

/**
 * Applies a run's increments of one key (the journal's `by` texts, in order) to the stored value in one
 * atomic write, as the runtime's increment endpoint does. Returns the problem to log when the stored
 * value is not a number or a step is not one; nothing is written then.
 */
async function applyIncrements(
  key: string,
  steps: string[],
  context: RuntimeContext,
  variables: VariableAccess,
): Promise<string | null> {
  let by = 0;
  for (const step of steps) {
    const added = incrementValue(key, by, step);
    if ('error' in added) return `cronium.incrementVariable(${key}): ${added.error}, so nothing was changed`;
    by = added.value;
  }
  let refused: string | null = null;
  const value = await updateVariable(
    variables,
    key,
    (current) => {
      const next = incrementValue(key, current, by);
      if ('error' in next) {
        refused = next.error;
        throw new Error(next.error);
      }
      return next.value;
    },
    `execution:${context.executionId}`,
  ).catch((err: unknown) => {
    if (refused === null) throw err;
    return undefined;
  });
  if (refused !== null) return `cronium.incrementVariable(${key}): ${refused as string}`;
  const secret = (await variables.isSecret?.(key)) ?? false;
  if (secret) context.onSecretValue?.(value);
  recordChange(context.changes, setChange(key, value, secret));
  return null;
}

/** A tool action a bundled-mode script queued: its request, or why it cannot be sent. */
export type QueuedToolAction = { request: unknown } | { request: unknown; refused: string };

/**
 * The tool actions a bundled-mode script queued, in the order it asked for them: the index
 * `.cronium.actions` names each `.cronium.action.<id>.json` (a `{tool, action, config}` request).
 */
export function queuedToolActions(files: Map<string, string>): QueuedToolAction[] {
  const queued: QueuedToolAction[] = [];
  for (const id of (files.get('.cronium.actions') ?? '').split('\n')) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) continue;
    const name = `.cronium.action.${id}.json`;
    const size = files.get(`${name}.toolarge`);
    if (size !== undefined) {
      queued.push({
        request: null,
        refused: overLimitMessage('tool action', Number(size), MAX_VARIABLE_BYTES),
      });
      continue;
    }
    const text = files.get(name);
    if (text === undefined) continue;
    try {
      queued.push({ request: JSON.parse(text) as unknown });
    } catch {
      queued.push({ request: null, refused: "the tool action's request is not valid JSON" });
    }
  }
  return queued;
}

/**
 * Sends what a bundled-mode script queued, one after the other in its order, exactly as the runtime API
 * would have: each ends as a record in the execution's detail and a line in its log. A failure is
 * recorded, never thrown (the script has ended; there is no one to answer).
 */
export async function performQueuedToolActions(
  queued: QueuedToolAction[],
  context: RuntimeContext,
  tools: ToolActionPerformer | undefined,
): Promise<void> {
  let sent = 0;
  for (const item of queued) {
    let outcome: ToolActionOutcome;
    if ('refused' in item)
      outcome = refusedToolAction(item.request, 'bundled', 400, 'invalid_input', item.refused);
    else if (!tools)
      outcome = refusedToolAction(
        item.request,
        'bundled',
        501,
        'not_supported',
        'tool actions are not available here',
      );
    else if (sent >= MAX_TOOL_ACTIONS)
      outcome = refusedToolAction(
        item.request,
        'bundled',
        429,
        'too_many_tool_actions',
        `an execution may ask for at most ${MAX_TOOL_ACTIONS} tool actions`,
      );
    else {
      sent++;
      outcome = await tools.perform(item.request, 'bundled');
    }
    (context.toolActions ??= []).push(outcome.record);
    context.onToolAction?.(outcome.record);
  }
}
