// `diskless explain CODE...`: iPXE error codes in plain words, offline (no server needed).
// Takes the codes as iPXE prints them: 0x1d704039, 1d704039 or the http://ipxe.org/... link.
import type { Command } from 'commander';
import { explainIpxeError, renderExplanation } from '../doctor/explain.ts';
import { parseIpxeCode } from '../doctor/ipxe-error-code.ts';
import { print } from './api-client.ts';

export function registerExplainCommand(program: Command): void {
  program
    .command('explain')
    .description('Explain iPXE error codes (e.g. 0x1d704039): what failed and what to check')
    .argument('<codes...>', 'codes as iPXE prints them: 0x1d704039, 1d704039 or http://ipxe.org/1d704039')
    .option('--json', 'print JSON')
    .action((inputs: string[], flags: { json?: boolean }) => {
      const bad = inputs.filter((input) => parseIpxeCode(input) === null);
      if (bad.length > 0) throw new Error(`not an iPXE error code: ${bad.join(', ')} (iPXE prints eight hex digits, e.g. 0x1d704039)`);
      const explanations = inputs.map((input) => explainIpxeError(parseIpxeCode(input) ?? 0));
      print(flags, explanations, explanations.map(renderExplanation).join('\n'));
    });
}
