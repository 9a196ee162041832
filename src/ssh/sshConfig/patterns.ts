/** ssh_config(5) PATTERNS: how Host lines select an alias. */

/**
 * OpenSSH's match_pattern: `*` any run of characters, `?` exactly one; compared without case (host names).
 */
export function matchPattern(text: string, pattern: string): boolean {
  let re = PATTERNS.get(pattern);
  if (!re) {
    const source = pattern
      .toLowerCase()
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    re = new RegExp(`^${source}$`, 's');
    // A config has a few hundred patterns at most; a bound keeps a long-lived process's cache small.
    if (PATTERNS.size > 10_000) PATTERNS.clear();
    PATTERNS.set(pattern, re);
  }
  return re.test(text.toLowerCase());
}

/** Compiled patterns: each host of a config is matched against every Host line. */
const PATTERNS = new Map<string, RegExp>();

/**
 * OpenSSH's match_pattern_list: a comma-separated list of patterns, each maybe negated with `!`. True when
 * some pattern matches and no negated one does.
 */
export function matchPatternList(text: string, list: string): boolean {
  let matched = false;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    if (!matchPattern(text, pattern)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** Whether a Host line's patterns (each its own argument) select `alias`. */
export function hostLineMatches(patterns: string[], alias: string): boolean {
  return matchPatternList(alias, patterns.join(','));
}

/** True for a Host pattern that names one host (no wildcard, no negation): an importable alias. */
export function isPlainAlias(pattern: string): boolean {
  return !/[*?!]/.test(pattern) && pattern.length > 0;
}
