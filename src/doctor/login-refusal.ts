// Why the portal refused a login, from the reason its boot event carries (the LoginError
// messages of src/iscsi/login.ts and login-security.ts; login-refusal.test.ts runs the real
// login machine so that a reworded message fails a test instead of silencing a warning). Pure.

export type LoginRefusal =
  | { readonly kind: 'no-such-target'; readonly target: string }
  | { readonly kind: 'initiator-not-allowed' }
  /** CHAP_N or CHAP_R did not match the target's CHAP. */
  | { readonly kind: 'chap-wrong'; readonly what: 'user' | 'secret' }
  /** The target requires CHAP and the initiator offered none (iPXE without username/password). */
  | { readonly kind: 'chap-missing' }
  /** The initiator insists on CHAP and the target has none configured. */
  | { readonly kind: 'chap-unexpected' }
  /** The initiator asked the target to prove itself, and the target cannot (no mutual CHAP, or its secret is the initiator's). */
  | { readonly kind: 'mutual-chap'; readonly why: 'not-configured' | 'secret-reused' | 'incomplete' }
  | { readonly kind: 'other'; readonly reason: string };

interface RefusalPattern {
  readonly pattern: RegExp;
  readonly refusal: (match: RegExpExecArray) => LoginRefusal;
}

const PATTERNS: readonly RefusalPattern[] = [
  { pattern: /^no target (\S+)/, refusal: (m) => ({ kind: 'no-such-target', target: m[1] ?? '' }) },
  { pattern: / may not use /, refusal: () => ({ kind: 'initiator-not-allowed' }) },
  { pattern: /^CHAP_N does not match/, refusal: () => ({ kind: 'chap-wrong', what: 'user' }) },
  { pattern: /^CHAP_R does not match/, refusal: () => ({ kind: 'chap-wrong', what: 'secret' }) },
  { pattern: /^initiator asked for mutual CHAP/, refusal: () => ({ kind: 'mutual-chap', why: 'not-configured' }) },
  { pattern: /^mutual CHAP secret equals the initiator secret/, refusal: () => ({ kind: 'mutual-chap', why: 'secret-reused' }) },
  { pattern: /^mutual CHAP needs both/, refusal: () => ({ kind: 'mutual-chap', why: 'incomplete' }) },
  { pattern: /^AuthMethod=.* does not include None/, refusal: () => ({ kind: 'chap-unexpected' }) },
  { pattern: /^no CHAP credentials configured/, refusal: () => ({ kind: 'chap-unexpected' }) },
  {
    pattern: /^(CHAP required|AuthMethod=.* does not include CHAP|security stage not completed|expected CHAP_N and CHAP_R)/,
    refusal: () => ({ kind: 'chap-missing' }),
  },
];

export function classifyLoginRefusal(reason: string): LoginRefusal {
  for (const { pattern, refusal } of PATTERNS) {
    const match = pattern.exec(reason);
    if (match !== null) return refusal(match);
  }
  return { kind: 'other', reason };
}
