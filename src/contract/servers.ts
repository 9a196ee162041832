/** What a client sends to save a server, and what testing one reports. */
import * as z from 'zod';

import * as rules from '../core/rules.ts';
import { oneOf } from './parse.ts';
import { type ErrorKind, SERVER_HELPER_MODES } from '../core/domain.ts';

export const serverAuthSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('key'),
    keyPath: rules.keyPath,
    /** Left out: an edit keeps the stored passphrase; null: an edit removes it (the key has none now). */
    passphrase: rules.secret.nullable().optional(),
  }),
  // Editing a server may leave the password out to keep the stored one (null, to remove it, is refused:
  // a password login needs one).
  z.object({ type: z.literal('password'), password: rules.secret.nullable().optional() }),
  z.object({ type: z.literal('agent') }),
]);

export const serverInputSchema = z.object({
  name: rules.name,
  host: rules.host,
  port: rules.port.default(22),
  username: rules.username,
  auth: serverAuthSchema,
  jumpServerId: z.string().min(1).max(500).nullable().default(null),
  tags: rules.tags,
  description: rules.description,
  helperMode: z
    .enum(SERVER_HELPER_MODES, { message: `helper mode is ${oneOf(SERVER_HELPER_MODES)}` })
    .default('default'),
});
export type ServerInput = z.input<typeof serverInputSchema>;

export interface ServerTestResult {
  online: boolean;
  os: string | null;
  latencyMs: number | null;
  fingerprint: string | null;
  error: { kind: ErrorKind; message: string } | null;
}
