export const MASK = '***';

/**
 * The texts under which a secret value can show up in output: a string as itself and as it reads inside
 * a JSON string (quotes and backslashes escaped); any other JSON value as its JSON text, plus each of the
 * strings inside it. So `echo "$(cronium.getVariable k)"`, `print(json.dumps(v))` and `console.log(v)` are
 * all caught.
 */
export function secretForms(value: unknown): string[] {
  // true/false/null would mask those words everywhere; they are no secret worth hunting for.
  if (value === null || value === undefined || typeof value === 'boolean') return [];
  if (typeof value === 'string') {
    const escaped = JSON.stringify(value).slice(1, -1);
    return escaped === value ? [value] : [value, escaped];
  }
  const forms = [JSON.stringify(value)];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') forms.push(...secretForms(v));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return forms;
}

/** A copy of a JSON value with mask() applied to every string in it, keys included. */
export function maskDeep(value: unknown, mask: (text: string) => string): unknown {
  if (typeof value === 'string') return mask(value);
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, mask));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [mask(k), maskDeep(v, mask)]));
  return value;
}

/**
 * Replaces secret values with *** in a stream of text that arrives in arbitrary pieces. A piece's tail that
 * could be the start of a secret is held back until the next piece (or flush), so a secret split across
 * two reads is still masked.
 */
export class SecretMasker {
  private secrets: string[];
  private held = '';

  constructor(secrets: Iterable<string>) {
    // Longest first, so a secret that contains another is masked whole. Very short values would mask
    // ordinary text everywhere; they are still encrypted at rest, only not hunted for in logs.
    this.secrets = [...new Set([...secrets].filter((s) => s.length >= 3))].sort(
      (a, b) => b.length - a.length,
    );
  }

  add(secret: string): void {
    if (secret.length < 3 || this.secrets.includes(secret)) return;
    this.secrets = [...this.secrets, secret].sort((a, b) => b.length - a.length);
  }

  get active(): boolean {
    return this.secrets.length > 0;
  }

  push(text: string): string {
    if (!this.active) return text;
    const combined = this.held + text;
    const masked = this.mask(combined);
    const keep = this.heldSuffixLength(masked);
    this.held = masked.slice(masked.length - keep);
    return masked.slice(0, masked.length - keep);
  }

  flush(): string {
    const rest = this.held;
    this.held = '';
    return rest;
  }

  mask(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(MASK);
    return out;
  }

  /**
   * Length of the longest suffix of text that is a proper prefix of some secret. Only the places in the
   * last (secret length − 1) characters where the secret's first character occurs are tried, from the
   * farthest back: per piece this costs a few indexOf calls, not one comparison per possible length.
   */
  private heldSuffixLength(text: string): number {
    let best = 0;
    for (const secret of this.secrets) {
      const first = secret[0]!;
      const from = Math.max(0, text.length - (secret.length - 1));
      for (
        let at = text.indexOf(first, from);
        at !== -1 && text.length - at > best;
        at = text.indexOf(first, at + 1)
      ) {
        if (text.startsWith(secret.slice(0, text.length - at), at)) {
          best = text.length - at;
          break;
        }
      }
    }
    return best;
  }
}

const MASK_BYTES = Buffer.from(MASK);

/**
 * SecretMasker for a stream of bytes: the same secrets (at least 3 characters, longest first) masked in
 * the output's UTF-8 bytes instead of its decoded text, so that output nobody reads as text is never
 * decoded. The result is the same as masking the text: UTF-8 is self-synchronizing (RFC 3629 §3: a
 * character's first byte is never a continuation byte), so a secret's bytes found in the output always
 * start and end on character boundaries, including beside invalid bytes. The caller gives pieces that end
 * on character boundaries (see Utf8Boundary); the held tail (the longest that could begin a secret) then
 * also starts on one.
 */
export class BytesMasker {
  private secrets: { text: string; bytes: Buffer }[] = [];
  private held: Buffer | null = null;

  constructor(secrets: Iterable<string>) {
    for (const s of secrets) this.add(s);
  }

  /** A secret learnt later: masked from the next piece on (and in the held tail). */
  add(secret: string): void {
    if (secret.length < 3 || this.secrets.some((s) => s.text === secret)) return;
    // Ordered as SecretMasker orders them (by length in characters), so both mask alike.
    this.secrets = [...this.secrets, { text: secret, bytes: Buffer.from(secret, 'utf8') }].sort(
      (a, b) => b.text.length - a.text.length,
    );
  }

  get active(): boolean {
    return this.secrets.length > 0;
  }

  /** Masks a piece; returns what can be written now (a view of `data` when nothing was masked or held). */
  push(data: Buffer): Buffer {
    if (!this.active) return data;
    const combined = this.held ? Buffer.concat([this.held, data]) : data;
    const masked = this.mask(combined);
    const keep = this.heldSuffixLength(masked);
    this.held = keep > 0 ? Buffer.from(masked.subarray(masked.length - keep)) : null;
    return keep > 0 ? masked.subarray(0, masked.length - keep) : masked;
  }

  /** The held tail (the stream ended: it was no secret). */
  flush(): Buffer {
    const rest = this.held;
    this.held = null;
    return rest ?? Buffer.alloc(0);
  }

  /** Every secret in `data` replaced with ***; `data` itself when it holds none. */
  mask(data: Buffer): Buffer {
    let out = data;
    for (const { bytes } of this.secrets) {
      let at = out.indexOf(bytes);
      if (at === -1) continue;
      const parts: Buffer[] = [];
      let from = 0;
      for (; at !== -1; at = out.indexOf(bytes, from)) {
        parts.push(out.subarray(from, at), MASK_BYTES);
        from = at + bytes.length;
      }
      parts.push(out.subarray(from));
      out = Buffer.concat(parts);
    }
    return out;
  }

  /** As SecretMasker's: the longest suffix that is a proper prefix of a secret, found from its first byte. */
  private heldSuffixLength(data: Buffer): number {
    let best = 0;
    for (const { bytes } of this.secrets) {
      const first = bytes[0]!;
      const from = Math.max(0, data.length - (bytes.length - 1));
      for (
        let at = data.indexOf(first, from);
        at !== -1 && data.length - at > best;
        at = data.indexOf(first, at + 1)
      ) {
        const n = data.length - at;
        if (data.compare(bytes, 0, n, at, data.length) === 0) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
