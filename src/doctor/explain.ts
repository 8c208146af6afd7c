// `diskless explain CODE`: an iPXE error code in plain words. The generic parts come from the
// code itself (ipxe-error-code.ts); what failed and what to check come from the rules, when
// diskless has one for that failure site. Pure: the same code always gives the same text.
import { decodeIpxeError, type DecodedIpxeError } from './ipxe-error-code.ts';
import { findIpxeErrorRule, type IpxeErrorRule } from './ipxe-error-rules.ts';

export interface IpxeErrorExplanation {
  readonly decoded: DecodedIpxeError;
  readonly rule: IpxeErrorRule | null;
  /** iPXE's own page for the code. */
  readonly url: string;
}

export function explainIpxeError(code: number): IpxeErrorExplanation {
  const decoded = decodeIpxeError(code);
  return { decoded, rule: findIpxeErrorRule(code), url: `https://ipxe.org/err/${decoded.hex.slice(2)}` };
}

function moduleLine(d: DecodedIpxeError, rule: IpxeErrorRule | null): string {
  const f = d.file;
  const where = f.name !== null ? `${f.name}.c` : (rule?.module ?? `file 0x${f.index.toString(16).padStart(2, '0')} of the ${f.category ?? 'unknown'} group, not in diskless's table`);
  const arch = f.arch ? ', x86-specific' : '';
  return `  Where:       ${where}${arch}${d.disambiguator !== 0 ? `, disambiguator 0x${d.disambiguator.toString(16).padStart(2, '0')}` : ''}`;
}

function bullets(label: string, items: readonly string[]): string[] {
  return items.map((item, i) => `${i === 0 ? label.padEnd(13) : ' '.repeat(13)}- ${item}`).map((line) => `  ${line}`);
}

/** The explanation as the CLI prints it: fixed layout, tested as exact text. */
export function renderExplanation(e: IpxeErrorExplanation): string {
  const d = e.decoded;
  const lines = [`${d.hex}: ${d.posix.text ?? `unknown error 0x${d.posix.value.toString(16)}`}`];
  lines.push(`  Error:       ${d.posix.name ?? '?'} (0x${d.posix.value.toString(16).padStart(2, '0')})`);
  lines.push(moduleLine(d, e.rule));
  lines.push(`  Platform:    ${d.platform.meaning}`);
  if (e.rule !== null) {
    lines.push(`  What failed: ${e.rule.whatFailed}`);
    lines.push(...bullets('Causes:', e.rule.causes));
    lines.push(...bullets('Check:', e.rule.check));
    lines.push(`  Source:      ${e.rule.source}`);
  } else {
    const area = d.file.area !== null ? `, in ${d.file.area}` : '';
    lines.push(`  What failed: "${d.posix.text ?? 'an error'}"${area}. diskless has no notes on this code; the parts above are read from the code itself.`);
  }
  lines.push(`  More:        ${e.url}`);
  return lines.join('\n') + '\n';
}
