/** What a client sends to save a tool credential (Slack, Discord, email). */
import * as z from 'zod';

import * as rules from '../core/rules.ts';
import { TOOL_TYPES } from '../core/domain.ts';
import { oneOf } from './parse.ts';

const webhookTool = <T extends 'slack' | 'discord'>(type: T) =>
  z.object({ type: z.literal(type), name: rules.name, webhookUrl: rules.webhookUrl });

/**
 * A tool credential to store (Cronium's tool connections): a Slack or Discord incoming webhook's URL, or
 * an SMTP server to send email through. `secure`: TLS from the first byte (SMTPS, port 465; the default
 * there); otherwise STARTTLS is used when the server offers it. The webhook URL and the password are
 * sealed by the secret store and never leave the core again.
 */
export const toolInputSchema = z.discriminatedUnion(
  'type',
  [
    webhookTool('slack'),
    webhookTool('discord'),
    z.object({
      type: z.literal('email'),
      name: rules.name,
      host: rules.host,
      port: rules.port.default(587),
      secure: z.boolean().optional(),
      user: rules.smtpUser.optional(),
      password: rules.secret.optional(),
      from: rules.emailAddress,
    }),
  ],
  { message: `type is ${oneOf(TOOL_TYPES)}` },
);
export type ToolInput = z.input<typeof toolInputSchema>;
export type ToolInputParsed = z.output<typeof toolInputSchema>;
