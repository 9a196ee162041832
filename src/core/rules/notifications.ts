/** Rules for notification targets: webhook URLs, email addresses, SMTP users. */
import * as z from 'zod';

import { CONTROL } from './chars.ts';

/**
 * An incoming webhook's URL (Slack, Discord): http or https, with a host, at most 2048 characters (what
 * browsers and the services accept), no credentials in it and nothing after a `#`. It is a secret: the
 * path carries the webhook's token.
 */
export const WEBHOOK_URL_MAX = 2048;
export const webhookUrl = z
  .string()
  .trim()
  .min(1, 'a webhook URL is required')
  .max(WEBHOOK_URL_MAX, `a webhook URL is at most ${WEBHOOK_URL_MAX} characters`)
  .refine((text) => {
    try {
      const url = new URL(text);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '' && !url.username;
    } catch {
      return false;
    }
  }, 'a webhook URL is an http:// or https:// address, such as https://hooks.slack.com/services/…');

/**
 * An email address, as SMTP takes it (RFC 5321 §4.5.3.1.3: at most 254 characters): one "@", no spaces,
 * quotes, angle brackets, commas or control characters, and a dot in the domain (what Cronium's email
 * tool checks too).
 */
export const EMAIL_MESSAGE = 'an email address such as ops@example.com';
export const emailAddress = z
  .string()
  .trim()
  .max(254, 'an email address is at most 254 characters')
  .regex(/^[^\s@<>",;()\\[\]]+@[^\s@<>",;()\\[\]]+\.[^\s@<>",;()\\[\].]+$/, EMAIL_MESSAGE)
  .refine((a) => !CONTROL.test(a), EMAIL_MESSAGE);

/** An SMTP login name (often an email address): 1–256 characters without control characters. */
export const smtpUser = z
  .string()
  .trim()
  .min(1, 'an SMTP user is 1–256 characters')
  .max(256, 'an SMTP user is 1–256 characters')
  .refine((u) => !CONTROL.test(u), 'an SMTP user has no control characters');
