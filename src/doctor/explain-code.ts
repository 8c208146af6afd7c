// One explanation for anything the console or a user can point at: an iPXE error code (what
// `diskless explain` prints, explain.ts) or the code of a live warning (warning-rules.ts). Pure.
import { explainIpxeError, renderExplanation } from './explain.ts';
import { parseIpxeCode } from './ipxe-error-code.ts';
import { warningRule, type WarningRule } from './warning-rules.ts';

export interface CodeExplanation {
  readonly kind: 'ipxe-error' | 'warning';
  /** The code as given back: "0x2c0d603b" or "no-such-target". */
  readonly code: string;
  /** One line. */
  readonly title: string;
  /** The full explanation, as plain text lines. */
  readonly text: string;
  /** iPXE's page for an iPXE code, null for a warning. */
  readonly url: string | null;
  /** A warning's usual iPXE error, an iPXE code's own; null when none. */
  readonly ipxeError: string | null;
}

export function renderWarningExplanation(rule: WarningRule): string {
  const lines = [`${rule.code}: ${rule.title}`, `  What:        ${rule.meaning}`];
  if (rule.ipxeError !== null) lines.push(`  iPXE shows:  ${rule.ipxeError} (diskless explain ${rule.ipxeError})`);
  lines.push('  Raised by:   the server itself, from live traffic: a warn log line, a warning on the machine\'s boot timeline, GET /api/warnings');
  lines.push('  More:        docs/DOCTOR.md, "Warnings from live traffic"');
  return lines.join('\n') + '\n';
}

/** The explanation of a code, or null when it is neither an iPXE code nor a warning code. */
export function explainCode(given: string): CodeExplanation | null {
  const rule = warningRule(given.trim().toLowerCase());
  if (rule !== null) return { kind: 'warning', code: rule.code, title: rule.title, text: renderWarningExplanation(rule), url: null, ipxeError: rule.ipxeError };
  const code = parseIpxeCode(given);
  if (code === null) return null;
  const explanation = explainIpxeError(code);
  const d = explanation.decoded;
  return {
    kind: 'ipxe-error',
    code: d.hex,
    title: explanation.rule?.whatFailed ?? d.posix.text ?? 'an iPXE error',
    text: renderExplanation(explanation),
    url: explanation.url,
    ipxeError: d.hex,
  };
}
