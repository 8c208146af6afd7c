// Load: many concurrent iSCSI sessions with mixed I/O against the real server process, for
// minutes. Reports latency percentiles per operation, throughput, errors (including data
// verification: each session owns a region and checks every block it reads back), and the
// server's memory and CPU over time. Not part of CI.
//   node --import tsx scripts/load/iscsi-sessions.ts [--sessions 100] [--seconds 120] [--depth 2] [--disk-mib 1024]
// The disk lives on /var/tmp (a disk file system, as in production).
import fs from 'node:fs';
import path from 'node:path';
import { BLOCK, IscsiClient } from '../../test/helpers/iscsi-client.ts';
import { seededRandom } from '../../src/lib/seeded-random.ts';
import { spawnServer } from '../../test/helpers/server-child.ts';
import { histogramPercentiles, Latencies, option, ProcessSampler } from './common.ts';

const SESSIONS = option('sessions', 100);
const SECONDS = option('seconds', 120);
const DEPTH = option('depth', 2);
const DISK_MIB = option('disk-mib', 1024);
const IQN = 'iqn.2026-11.org.diskless.load:disk';

type Kind = 'read4k' | 'read1m' | 'write' | 'fua' | 'sync';

const ZERO_BLOCK = Buffer.alloc(BLOCK);

/** Blocks stamped (op, block) in every 8 bytes: cheap to make and check (native fill). */
function stamp(target: Buffer, op: number, firstBlock: number): Buffer {
  const head = Buffer.allocUnsafe(8);
  for (let b = 0; b * BLOCK < target.length; b++) {
    head.writeUInt32LE(op, 0);
    head.writeUInt32LE(firstBlock + b, 4);
    target.fill(head, b * BLOCK, (b + 1) * BLOCK);
  }
  return target;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync('/var/tmp/diskless-load-iscsi-');
  const disk = path.join(dir, 'disk.img');
  fs.writeFileSync(disk, '');
  fs.truncateSync(disk, DISK_MIB * 1024 * 1024);
  const server = await spawnServer({ dataDir: dir, listen: '127.0.0.1', logLevel: 'warn', http: { port: 0 }, iscsi: { port: 0 }, targets: [{ iqn: IQN, luns: [{ lun: 0, path: disk }] }] });
  const sampler = new ProcessSampler(server.pid);
  const latency: Record<Kind, Latencies> = { read4k: new Latencies(), read1m: new Latencies(), write: new Latencies(), fua: new Latencies(), sync: new Latencies() };
  const errors: string[] = [];
  let bytes = 0;
  const regionBlocks = Math.floor((DISK_MIB * 2048) / SESSIONS);
  const started = Date.now();
  const deadline = started + SECONDS * 1000;
  const clients: IscsiClient[] = [];
  for (let s = 0; s < SESSIONS; s++) clients.push(await IscsiClient.connect(server.iscsiPort, { target: IQN, isid: Buffer.from([0x80, 0, 0, 0, s >> 8, s & 0xff]), initiatorName: `iqn.2026-11.org.diskless.load:i${s}` }));
  process.stderr.write(`${SESSIONS} sessions logged in in ${Date.now() - started} ms; running ${SECONDS} s at depth ${DEPTH}\n`);

  const session = async (s: number, client: IscsiClient): Promise<void> => {
    const next = seededRandom(s + 1);
    const first = s * regionBlocks;
    // What each block of this session's region must hold: the id of its last write (0: zeros).
    const model = new Uint32Array(regionBlocks);
    const busy = new Uint8Array(regionBlocks);
    let id = s * 10_000_000 + 1;
    const lane = async (): Promise<void> => {
      while (Date.now() < deadline && errors.length < 20) {
        const roll = next(100);
        const kind: Kind = roll < 60 ? 'read4k' : roll < 65 ? 'read1m' : roll < 88 ? 'write' : roll < 96 ? 'fua' : 'sync';
        const t0 = performance.now();
        if (kind === 'sync') {
          const r = await client.syncCache();
          if (r.status !== 0) errors.push(`session ${s}: SYNCHRONIZE CACHE status ${r.status}`);
        } else {
          const blocks = kind === 'read1m' ? 2048 : kind === 'read4k' ? 8 : 8 * (1 + next(16));
          const offset = next(regionBlocks - blocks);
          if (busy.subarray(offset, offset + blocks).some((b) => b !== 0)) continue;
          busy.fill(1, offset, offset + blocks);
          if (kind === 'read4k' || kind === 'read1m') {
            const r = await client.read(first + offset, blocks);
            if (r.status !== 0) errors.push(`session ${s}: READ status ${r.status}`);
            const expected = Buffer.allocUnsafe(BLOCK);
            for (let b = 0; b < blocks && errors.length < 20; b++) {
              const want = model[offset + b] ?? 0;
              const got = r.data.subarray(b * BLOCK, (b + 1) * BLOCK);
              const ok = want === 0 ? got.equals(ZERO_BLOCK) : got.equals(stamp(expected, want, first + offset + b));
              if (!ok) errors.push(`session ${s}: block ${first + offset + b} does not hold write ${want}`);
            }
          } else {
            const op = id++;
            const data = stamp(Buffer.allocUnsafe(blocks * BLOCK), op, first + offset);
            const r = await client.write(first + offset, data, kind === 'fua');
            if (r.status !== 0) errors.push(`session ${s}: WRITE status ${r.status}`);
            else model.fill(op, offset, offset + blocks);
          }
          busy.fill(0, offset, offset + blocks);
          bytes += blocks * BLOCK;
        }
        latency[kind].add(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: DEPTH }, lane));
  };
  const progress = setInterval(() => process.stderr.write(`  ${((Date.now() - started) / 1000).toFixed(0)} s: ${latency.read4k.count + latency.write.count} ops, RSS ${sampler.samples.at(-1)?.rssMiB.toFixed(0)} MiB\n`), 15000);
  await Promise.all(clients.map((c, s) => session(s, c).catch((err: unknown) => void errors.push(`session ${s}: ${String(err)}`))));
  clearInterval(progress);
  const elapsed = (Date.now() - started) / 1000;
  // The server's own view (admission to last response PDU queued), from /metrics.
  const metrics = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
  const serverSide = [...histogramPercentiles(metrics, 'diskless_iscsi_command_seconds')].map(([labels, h]) => `${/op="(\w+)"/.exec(labels)?.[1] ?? labels} n=${h.count} p50 ${h.p50} p99 ${h.p99}`);
  for (const c of clients) c.close();
  sampler.stop();
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  const ops = Object.values(latency).reduce((n, l) => n + l.count, 0);
  process.stdout.write(
    [
      `iscsi-sessions: ${SESSIONS} sessions x depth ${DEPTH}, ${elapsed.toFixed(0)} s, disk ${DISK_MIB} MiB on /var/tmp`,
      `  ${ops} commands (${(ops / elapsed).toFixed(0)}/s), ${(bytes / elapsed / 1024 / 1024).toFixed(1)} MiB/s, errors: ${errors.length}${errors.length > 0 ? ` (${errors.slice(0, 3).join('; ')})` : ''}`,
      '  client-side latency (includes queueing in this one-process load generator):',
      ...Object.entries(latency).map(([k, l]) => `    ${k.padEnd(7)} ${l.summary()}`),
      `  server-side latency (/metrics diskless_iscsi_command_seconds): ${serverSide.join('; ')}`,
      `  ${sampler.summary()}`,
      `  RSS over time (s:MiB): ${sampler.timeline(Math.max(10, Math.round(SECONDS / 12)))}`,
    ].join('\n') + '\n',
  );
  process.exitCode = errors.length > 0 ? 1 : 0;
}

await main();
