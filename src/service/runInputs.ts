/** What a run request resolves to before anything starts: its target servers and its parameters' values. */
import type { JobParam, ParamValue } from '../core/domain.ts';
import { CroniumError, invalidInput } from '../core/errors.ts';
import { resolveParams } from '../core/rules.ts';
import type { ServerRecord } from '../store/serverRepo.ts';
import type { ServerService } from './servers.ts';

/** A run target naming a tag: `tag:NAME` (RunRequest.serverIds; schedules store them as such). */
export const TAG_PREFIX = 'tag:';
const TAG_TARGET = /^tag:(.+)$/s;

/**
 * The servers a run's targets name, in order: each entry a server (id or name) or `tag:NAME`, every
 * server with that tag (by name). A server reached through a tag and also named, or through two tags,
 * runs once; one named twice is refused.
 * @throws CroniumError not_found for an unknown server, invalid_input for a tag no server has or a
 * server named twice.
 */
export async function resolveTargets(serverService: ServerService, refs: string[]): Promise<ServerRecord[]> {
  const chosen: ServerRecord[] = [];
  const named = new Set<string>();
  for (const ref of refs) {
    const tag = TAG_TARGET.exec(ref)?.[1]?.trim();
    if (ref.startsWith(TAG_PREFIX) && !tag) throw invalidInput({ serverIds: `"${ref}" names no tag` });
    const found = tag ? await serverService.recordsTagged(tag) : [await serverService.record(ref)];
    if (tag && !found.length) {
      const known = await serverService.knownTags();
      throw invalidInput({
        serverIds: `no server is tagged "${tag}"${known.length ? ` (tags in use: ${known.join(', ')})` : ''}`,
      });
    }
    for (const server of found) {
      if (!tag) {
        if (named.has(server.id)) throw invalidInput({ serverIds: `${server.name} is listed twice` });
        named.add(server.id);
      }
      if (!chosen.some((c) => c.id === server.id)) chosen.push(server);
    }
  }
  return chosen;
}

/** What `find` returns, or null when it throws not_found (a record removed since). */
export async function orNull<T>(find: () => Promise<T>): Promise<T | null> {
  try {
    return await find();
  } catch (err) {
    if (err instanceof CroniumError && err.kind === 'not_found') return null;
    throw err;
  }
}

/**
 * A run's parameter values checked against the job's declaration (rules.resolveParams).
 * @throws CroniumError invalid_input with a message per `params.<name>`.
 */
export function checkParams(
  declared: JobParam[],
  given: Record<string, unknown>,
): Record<string, ParamValue> {
  const result = resolveParams(declared, given);
  if ('errors' in result) throw invalidInput(result.errors);
  return result.values;
}

/**
 * What cronium.input() returns: the parameters merged over the input (an object; none given reads as
 * `{}`). A job without parameters leaves the input as it is.
 * @throws CroniumError invalid_input when parameters meet an input that is not an object.
 */
export function mergeParams(input: unknown, params: Record<string, ParamValue>): unknown {
  if (Object.keys(params).length === 0) return input;
  if (input === null || input === undefined) return { ...params };
  if (typeof input !== 'object' || Array.isArray(input))
    throw invalidInput({
      input: 'a job with parameters takes a JSON object as input (the parameters are merged into it)',
    });
  return { ...input, ...params };
}
