export const MASK = '***';

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

  /** Length of the longest suffix of text that is a proper prefix of some secret. */
  private heldSuffixLength(text: string): number {
    let best = 0;
    for (const secret of this.secrets) {
      const max = Math.min(secret.length - 1, text.length);
      for (let n = max; n > best; n--) {
        if (secret.startsWith(text.slice(text.length - n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
