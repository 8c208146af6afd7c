// npm run bench:summary (the last step of `npm run bench`): one table of the targets
// with what the benchmark scripts of this run recorded in bench-results/ (see lib/results.ts).
// Exit status 0 whatever the outcome: this reports, it does not gate.
import { formatTable } from './lib/harness.ts';
import { readResults, RESULTS_DIR } from './lib/results.ts';

function value(n: number, unit: string): string {
  if (!Number.isFinite(n)) return '-';
  const digits = n >= 100 ? 0 : n >= 10 ? 1 : 2;
  return `${n.toFixed(digits)} ${unit}`;
}

const recorded = readResults();
if (recorded.length === 0) {
  process.stdout.write(`no results in ${RESULTS_DIR}/: run the benchmarks first (npm run bench)\n`);
} else {
  const rows = recorded.flatMap((b) =>
    b.results.map((r) => [r.name, r.peer, value(r.diskless, r.unit), value(r.peerValue, r.unit), Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}x` : '-', r.target, r.met ? 'yes' : 'NO', String(r.rounds), r.note ?? '']),
  );
  const met = recorded.reduce((n, b) => n + b.results.filter((r) => r.met).length, 0);
  const total = recorded.reduce((n, b) => n + b.results.length, 0);
  const when = recorded.map((b) => `${b.bench} ${b.at}`).join(', ');
  process.stdout.write(
    `\nSummary: ratio = median of the per-round ratios diskless/peer (rounds alternate the servers)\n` +
      `${formatTable(['what', 'peer', 'diskless', 'peer value', 'ratio', 'target', 'met', 'rounds', 'note'], rows)}\n` +
      `${met} of ${total} targets met (recorded: ${when})\n`,
  );
}
