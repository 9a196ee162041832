/**
 * Why helpers fell back from API mode to bundled mode, as a small fixed set of kinds: the reason itself is
 * free text (it names hosts and quotes the server's answer), so a metric labelled with it would grow without
 * bound. One declaration: each kind with the start of the reason texts that src/runtime/helperSession.ts
 * (openHelperSession) and src/ssh/forwarding.ts write for it; any other text is `other`.
 */
const FALLBACK_REASON_KINDS = [
  ['runtime_down', /^the app's runtime API is not listening/],
  ['token_failed', /^no token could be signed/],
  ['forwarding_refused', /^the server refused remote port forwarding/],
  ['tunnel_failed', /reverse tunnel .*could not be opened|^the connection to .* is closed/i],
  ['tunnel_unreachable', /^a request through the tunnel did not reach the app/],
  ['no_http_client', /^neither curl nor wget is installed/],
] as const;

/** Every kind a fallback reason is counted under (the label values of cronium_helper_fallbacks_total). */
export const HELPER_FALLBACK_KINDS = [...FALLBACK_REASON_KINDS.map(([kind]) => kind), 'other'] as const;
export type HelperFallbackKind = (typeof HELPER_FALLBACK_KINDS)[number];

/** The kind of a fallback reason (an execution's `fallbackReason`): the first pattern it matches, else other. */
export function helperFallbackKind(reason: string): HelperFallbackKind {
  for (const [kind, pattern] of FALLBACK_REASON_KINDS) if (pattern.test(reason)) return kind;
  return 'other';
}
