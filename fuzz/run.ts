// Coverage-guided fuzzing of diskless's decoders (see fuzz/README.md).
//   node --import tsx fuzz/run.ts --target iscsi-pdu --seconds 60 [--seed N] [--save] [--all]
//   node --import tsx fuzz/run.ts --all --minimize
// --target NAME (or --all: every target in turn, --seconds each); --save adds inputs that find
// new coverage to fuzz/corpus/NAME/; --minimize keeps only the corpus entries that add coverage. Crashes go to fuzz/crashes/NAME/ (input .bin + stack .txt).
// Exit status 1 when a crash was found.
import path from 'node:path';
import { fuzz, minimizeCorpus, type FuzzReport } from './engine.ts';
import { findTarget, removeScratch, TARGETS } from './targets.ts';

const HERE = import.meta.dirname;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

async function main(): Promise<number> {
  const seconds = Number(arg('seconds') ?? 60);
  const seed = arg('seed') !== undefined ? Number(arg('seed')) : undefined;
  const names = flag('all') ? TARGETS.map((t) => t.name) : [arg('target') ?? ''];
  if (names[0] === '' || flag('help')) {
    process.stdout.write(`usage: fuzz/run.ts --target NAME|--all [--seconds N] [--seed N] [--save] [--minimize]\ntargets:\n${TARGETS.map((t) => `  ${t.name.padEnd(14)} ${t.description}`).join('\n')}\n`);
    return names[0] === '' ? 2 : 0;
  }
  if (flag('minimize')) {
    for (const name of names) {
      const [before, after] = await minimizeCorpus(findTarget(name), path.join(HERE, 'corpus', name));
      process.stdout.write(`${name}: corpus ${before} → ${after} entries\n`);
    }
    removeScratch();
    return 0;
  }
  const reports: FuzzReport[] = [];
  for (const name of names) {
    const target = findTarget(name);
    const corpusDir = path.join(HERE, 'corpus', name);
    const report = await fuzz({
      target,
      seconds,
      ...(seed !== undefined ? { seed } : {}),
      corpusDir,
      ...(flag('save') ? { saveDir: corpusDir } : {}),
      crashDir: path.join(HERE, 'crashes', name),
      log: (line) => process.stderr.write(`${line}\n`),
    });
    reports.push(report);
    process.stdout.write(
      `${report.target}: ${report.execs} execs in ${report.seconds} s (${Math.round(report.execs / report.seconds)}/s), ${report.seeds} seeds → corpus ${report.corpus}, ` +
        `blocks ${report.seedBlocks} → ${report.blocks}, ${report.crashes.length} crashes, ${report.slow.length} slow\n`,
    );
    for (const crash of report.crashes) process.stdout.write(`  CRASH ${crash.message}\n    ${crash.signature}\n    input: ${crash.input.toString('hex').slice(0, 400)}\n`);
  }
  removeScratch();
  return reports.some((r) => r.crashes.length > 0) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
