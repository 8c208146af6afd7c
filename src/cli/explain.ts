// `diskless explain CODE...`: iPXE error codes and the server's own warning codes in plain
// words, offline (no server needed). iPXE codes as iPXE prints them: 0x1d704039, 1d704039 or
// the http://ipxe.org/... link; warnings by their code (no-such-target, chap-failed, ...).
import type { Command } from 'commander';
import { explainCode } from '../doctor/explain-code.ts';
import { WARNING_RULES } from '../doctor/warning-rules.ts';
import { print } from './api-client.ts';

export function registerExplainCommand(program: Command): void {
  program
    .command('explain')
    .description('Explain iPXE error codes (e.g. 0x1d704039) and diskless warning codes (e.g. no-such-target): what failed and what to check')
    .argument('<codes...>', 'codes as iPXE prints them (0x1d704039, 1d704039, http://ipxe.org/1d704039) or a warning code')
    .option('--json', 'print JSON')
    .action((inputs: string[], flags: { json?: boolean }) => {
      const explanations = inputs.map((input) => ({ input, explanation: explainCode(input) }));
      const bad = explanations.filter((e) => e.explanation === null).map((e) => e.input);
      if (bad.length > 0) {
        throw new Error(`not an iPXE error code nor a warning code: ${bad.join(', ')} (iPXE prints eight hex digits, e.g. 0x1d704039; warnings: ${WARNING_RULES.map((r) => r.code).join(', ')})`);
      }
      const found = explanations.flatMap((e) => (e.explanation === null ? [] : [e.explanation]));
      print(flags, found, found.map((e) => e.text).join('\n'));
    });
}
