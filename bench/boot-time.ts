// node --import tsx bench/boot-time.ts — the BIOS boot time of a bare machine, power-on to the
// boot sector's CRC, with ../shared/e2e's qemu-boot.sh in mode b (iPXE in QEMU on a tap in the
// namespace e2e-b), against the peers and against diskless in the same run:
//   dnsmasq+tgtd  dnsmasq (DHCP, TFTP, RA: the README's stand-in config), tgtd (the image as
//                 LUN 1), a small HTTP server for boot.ipxe;
//   diskless      one `diskless serve --dhcp full --interface br0` (its RA responder on), the
//                 machine registered by MAC with the image as its boot disk.
// The setups take turns (dnsmasq+tgtd, diskless, dnsmasq+tgtd, ...) for BENCH_PAIRS rounds; each
// boot starts its setup fresh, and only qemu-boot.sh is timed (start to exit, in ms: its own
// "PASS: ... Ns" line counts whole seconds). A boot passes only with the image's CRC (exit 0).
// qemu-boot.sh looks at the serial log every 0.5 s, so its exit trails the boot by up to 0.5 s;
// the last column (and crcSeen in the JSON) is when this bench, polling the log every 20 ms, saw
// the CRC and DONE.
// Records bench-results/boot-time.json (lib/results.ts): the ratio of the times to the CRC.
//
// Env: BENCH_PAIRS (3), BENCH_BOOT_TIMEOUT (qemu-boot.sh -t, 90 s), E2E_DIR (../shared/e2e),
// BENCH_BOOT_PCAP=1 (a capture per boot beside its serial log, kept with BENCH_BOOT_KEEP=DIR).
// Needs root and: qemu-system-x86 ipxe-qemu ipxe nasm dnsmasq-base tgt iproute2 (see
// ../shared/e2e/README.md). Uses the namespace e2e-b and tgtd control port 47.
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fail, findTool, formatTable, median, onCleanup, ratio } from './lib/harness.ts';
import { recordResults, RESULTS_DIR, targetResult } from './lib/results.ts';
import { copyImage, disklessSetup, makeImage, namespaceUp, peerSetup, qemuBoot, type BootResult, type BootSetup } from './lib/boot-peers.ts';

const PAIRS = Number(process.env.BENCH_PAIRS ?? 3);
const BOOT_TIMEOUT_SECONDS = Number(process.env.BENCH_BOOT_TIMEOUT ?? 90);
/** The guest's NIC address: the machine diskless has registered. */
const MAC = '52:54:00:b0:07:01';
const WORKLOAD = 'Boot, BIOS, e2e mode b, power-on to CRC';

const TOOLS: ReadonlyArray<readonly [string, string]> = [
  ['qemu-system-x86_64', 'qemu-system-x86 ipxe-qemu'],
  ['nasm', 'nasm'],
  ['dnsmasq', 'dnsmasq-base'],
  ['tgtd', 'tgt'],
  ['tgtadm', 'tgt'],
  ['ip', 'iproute2'],
  ['ss', 'iproute2'],
];

interface Sample extends BootResult {
  readonly round: number;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(2);
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** The harness's last lines (its FAIL line, the console's last 15 lines, QEMU's stderr). */
function lastLines(text: string, n = 25): string {
  return text
    .trimEnd()
    .split('\n')
    .slice(-n)
    .map((l) => `    ${l}`)
    .join('\n');
}

async function bootOnce(setup: BootSetup, round: number, crc: string, logs: string): Promise<Sample> {
  const running = await setup.start();
  let result: BootResult;
  try {
    const serialLog = join(logs, `${setup.name}-${round + 1}.log`);
    result = await qemuBoot({ crc, mac: MAC, serialLog, timeoutSeconds: BOOT_TIMEOUT_SECONDS });
    if (!result.ok) result = { ...result, out: `${result.out}\n--- servers ---\n${running.output()}` };
  } finally {
    await running.stop();
  }
  return { ...result, round };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root: network namespaces, a tap device, tgtd and DHCP in the namespace');
  if (!Number.isInteger(PAIRS) || PAIRS < 1) throw new Error(`BENCH_PAIRS must be a whole number from 1, not "${process.env.BENCH_PAIRS}"`);
  const missing = TOOLS.filter(([tool, pkg]) => findTool(tool, pkg) === null);
  if (missing.length > 0) throw new Error(`missing: ${missing.map(([tool]) => tool).join(', ')}`);

  const loadBefore = load();
  const dir = mkdtempSync('/dev/shm/diskless-boot-time-');
  const removeDir = onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const peer = peerSetup({ dir: join(dir, 'peer'), image: join(dir, 'peer', 'bootcheck.img') });
  const diskless = disklessSetup({ dir: join(dir, 'diskless'), image: join(dir, 'diskless', 'bootcheck.img'), mac: MAC });
  const setups = [peer, diskless];
  const samples = new Map<string, Sample[]>(setups.map((s) => [s.name, []]));
  try {
    const image = join(dir, 'bootcheck.img');
    const crc = makeImage(image);
    // Each server its own copy of the same image.
    for (const name of ['peer', 'diskless', 'logs']) mkdirSync(join(dir, name));
    copyImage(image, join(dir, 'peer', 'bootcheck.img'));
    copyImage(image, join(dir, 'diskless', 'bootcheck.img'));

    process.stdout.write(`boot time, BIOS, e1000 (${MAC}), e2e mode b: ${PAIRS} rounds, image CRC32=${crc}, load average ${loadBefore}\n`);
    const destroyNamespace = namespaceUp();
    try {
      for (let round = 0; round < PAIRS; round++) {
        for (const setup of setups) {
          const sample = await bootOnce(setup, round, crc, join(dir, 'logs'));
          samples.get(setup.name)?.push(sample);
          const verdict = sample.ok ? `PASS${sample.note !== undefined ? ` (${sample.note})` : ''}` : 'FAILED';
          const crcSeen = sample.crcMs !== null ? `, CRC in the serial log at ${seconds(sample.crcMs)} s` : '';
          process.stdout.write(`  round ${round + 1}/${PAIRS}  ${setup.name.padEnd(12)}  ${seconds(sample.ms).padStart(6)} s  ${verdict}${crcSeen}\n`);
          if (!sample.ok) process.stdout.write(`${lastLines(sample.out, 60)}\n`);
        }
      }
    } finally {
      destroyNamespace();
    }
  } finally {
    const keep = process.env.BENCH_BOOT_KEEP;
    if (keep !== undefined && keep !== '') cpSync(join(dir, 'logs'), keep, { recursive: true });
    removeDir();
  }

  const summary = (setup: BootSetup) => {
    const all = samples.get(setup.name) ?? [];
    const passed = all.filter((s) => s.ok).map((s) => s.ms / 1000);
    const crcSeen = all.flatMap((s) => (s.ok && s.crcMs !== null ? [s.crcMs / 1000] : []));
    return {
      crcSeen: crcSeen.length > 0 ? median(crcSeen) : Number.NaN,
      median: passed.length > 0 ? median(passed) : Number.NaN,
      min: passed.length > 0 ? Math.min(...passed) : Number.NaN,
      max: passed.length > 0 ? Math.max(...passed) : Number.NaN,
      failures: all.length - passed.length,
      runs: all.length,
    };
  };
  const p = summary(peer);
  const d = summary(diskless);
  const cell = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '-');
  const rows = [peer, diskless].map((s) => {
    const r = s === peer ? p : d;
    return [s.name, cell(r.median), cell(r.min), cell(r.max), `${r.failures}/${r.runs}`, cell(r.crcSeen)];
  });
  process.stdout.write(`\n${WORKLOAD} (load average ${loadBefore} → ${load()})\n`);
  process.stdout.write(formatTable(['setup', 'median s', 'min s', 'max s', 'failed', 'median s to CRC in log'], rows));
  process.stdout.write(`ratio diskless/${peer.name}: ${ratio(d.median, p.median)} boot time (lower is better; target <= 1.0x)\n`);
  process.stdout.write(`(qemu-boot.sh looks at the serial log every 0.5 s, so its exit trails the CRC by up to 0.5 s; the last column is when this bench, polling every 20 ms, saw the CRC and DONE: ratio ${ratio(d.crcSeen, p.crcSeen)})\n`);

  const bothMeasured = Number.isFinite(d.median) && Number.isFinite(p.median) && p.median > 0;
  // Power-on to the CRC on the serial console, round by round (a failed boot is no value): the
  // bench's own 20 ms look at the log, not the harness's exit, which trails it by up to 0.5 s.
  const toCrc = (setup: BootSetup): number[] => (samples.get(setup.name) ?? []).map((x) => (x.ok && x.crcMs !== null ? x.crcMs / 1000 : Number.NaN));
  const note = `${d.failures} diskless / ${p.failures} peer boots failed; to qemu-boot.sh's exit ${ratio(d.median, p.median)}; load ${loadBefore}`;
  const result = targetResult({ name: WORKLOAD, peer: peer.name, unit: 's', higherIsBetter: false, note }, toCrc(diskless), toCrc(peer), { max: 1.0 });
  recordResults('boot-time', [d.failures === 0 ? result : { ...result, met: false }]);
  process.stdout.write(`wrote ${RESULTS_DIR}/boot-time.json\n`);
  if (!bothMeasured) throw new Error('a setup did not boot once: no ratio');
}

main().catch(fail);
