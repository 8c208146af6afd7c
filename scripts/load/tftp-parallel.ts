// Load: 200 TFTP transfers at once from the real server process on loopback, as a room of PXE
// ROMs fetching their boot program: a raw client per transfer (blksize 1432 as iPXE asks, or
// 512 plain RFC 1350, or windowsize 8 as UEFI does), each download checked by SHA-256. Reports
// per-transfer time p50/p99, aggregate throughput, errors, and the server's memory and CPU.
//   node --import tsx scripts/load/tftp-parallel.ts [--transfers 200] [--kib 1024] [--rounds 3]
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { encodeClientPacket } from '../../src/tftp/wire-client.ts';
import { decodeServerPacket } from '../../src/tftp/wire.ts';
import { spawnServer } from '../../test/helpers/server-child.ts';
import { histogramPercentiles, Latencies, option, ProcessSampler } from './common.ts';

const TRANSFERS = option('transfers', 200);
const KIB = option('kib', 1024);
const ROUNDS = option('rounds', 3);

interface Style {
  readonly name: string;
  readonly options: ReadonlyArray<{ name: string; value: string }>;
  readonly blockSize: number;
  readonly window: number;
}
const STYLES: readonly Style[] = [
  { name: 'ipxe', options: [{ name: 'blksize', value: '1432' }, { name: 'tsize', value: '0' }], blockSize: 1432, window: 1 },
  { name: 'rfc1350', options: [], blockSize: 512, window: 1 },
  { name: 'uefi', options: [{ name: 'blksize', value: '1468' }, { name: 'windowsize', value: '8' }], blockSize: 1468, window: 8 },
];

/** One download; resolves with its SHA-256, rejects on an ERROR or a 5 s silence (after 3 retries). */
function download(port: number, file: string, style: Style): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const hash = createHash('sha256');
    let expected = 1;
    let blockSize = style.options.length === 0 ? 512 : style.blockSize;
    let window = 1;
    let peer: { port: number; address: string } | null = null;
    let lastAck: Buffer = Buffer.alloc(0);
    let timer: NodeJS.Timeout | undefined;
    let retries = 0;
    const finish = (err: Error | null): void => {
      clearTimeout(timer);
      // Close once the final ACK has left: the server counts the transfer done on it.
      if (err === null && peer !== null) socket.send(lastAck, peer.port, peer.address, () => socket.close());
      else socket.close();
      if (err !== null) reject(err);
      else resolve(hash.digest('hex'));
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (++retries > 3) return finish(new Error(`timeout at block ${expected}`));
        if (peer !== null && lastAck.length > 0) socket.send(lastAck, peer.port, peer.address);
        else socket.send(encodeClientPacket({ kind: 'rrq', filename: file, mode: 'octet', options: [...style.options] }), port, '127.0.0.1');
        arm();
      }, 1500);
    };
    const ack = (block: number): void => {
      lastAck = encodeClientPacket({ kind: 'ack', block: block & 0xffff });
      if (peer !== null) socket.send(lastAck, peer.port, peer.address);
    };
    socket.on('message', (msg, from) => {
      peer ??= { port: from.port, address: from.address };
      retries = 0;
      const packet = decodeServerPacket(msg);
      if (packet.kind === 'error') return finish(new Error(`ERROR ${packet.code} ${packet.message}`));
      if (packet.kind === 'oack') {
        for (const o of packet.options) {
          if (o.name.toLowerCase() === 'blksize') blockSize = Number(o.value);
          if (o.name.toLowerCase() === 'windowsize') window = Number(o.value);
        }
        ack(0);
        return arm();
      }
      if (packet.kind !== 'data') return;
      if (packet.block !== (expected & 0xffff)) {
        // A gap or a duplicate: ask again from what we have.
        ack(expected - 1);
        return arm();
      }
      hash.update(packet.data);
      const last = packet.data.length < blockSize;
      if (last) {
        lastAck = encodeClientPacket({ kind: 'ack', block: expected & 0xffff });
        return finish(null);
      }
      if (expected % window === 0) ack(expected);
      expected++;
      arm();
    });
    socket.send(encodeClientPacket({ kind: 'rrq', filename: file, mode: 'octet', options: [...style.options] }), port, '127.0.0.1');
    arm();
  });
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync('/var/tmp/diskless-load-tftp-');
  const root = path.join(dir, 'boot');
  fs.mkdirSync(root);
  const content = randomBytes(KIB * 1024);
  fs.writeFileSync(path.join(root, 'boot.efi'), content);
  const sha = createHash('sha256').update(content).digest('hex');
  const server = await spawnServer({ dataDir: dir, listen: '127.0.0.1', logLevel: 'warn', iscsi: { port: 0 }, http: { port: 0 }, tftp: { enabled: true, port: 0, root } });
  const port = server.tftpPort ?? 0;
  const sampler = new ProcessSampler(server.pid);
  const times = new Latencies();
  const errors: string[] = [];
  let bytes = 0;
  const started = performance.now();
  for (let round = 0; round < ROUNDS; round++) {
    await Promise.all(
      Array.from({ length: TRANSFERS }, async (_, i) => {
        const style = STYLES[i % STYLES.length] ?? STYLES[0];
        if (style === undefined) return;
        const t0 = performance.now();
        try {
          const got = await download(port, 'boot.efi', style);
          if (got !== sha) errors.push(`${style.name}: wrong content`);
          else bytes += content.length;
          times.add(performance.now() - t0);
        } catch (err) {
          errors.push(`${style.name}: ${(err as Error).message}`);
        }
      }),
    );
  }
  const elapsed = (performance.now() - started) / 1000;
  sampler.stop();
  const metrics = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
  const counter = (outcome: string): string => new RegExp(`^diskless_tftp_transfers_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? '?';
  const serverTimes = [...histogramPercentiles(metrics, 'diskless_tftp_transfer_seconds')].map(([, h]) => `n=${h.count} p50 ${h.p50} p99 ${h.p99}`).join('');
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(
    [
      `tftp-parallel: ${ROUNDS} rounds of ${TRANSFERS} transfers at once of a ${KIB} KiB file (ipxe blksize 1432 / rfc1350 512 / uefi 1468+windowsize 8)`,
      `  ${times.count} transfers in ${elapsed.toFixed(1)} s, ${(bytes / elapsed / 1024 / 1024).toFixed(1)} MiB/s aggregate, errors: ${errors.length}${errors.length > 0 ? ` (${[...new Set(errors)].slice(0, 3).join('; ')})` : ''}`,
      `  per-transfer time (client): ${times.summary()}`,
      `  server: ${counter('completed')} completed, ${counter('failed')} failed, ${counter('refused')} refused; transfer time ${serverTimes}`,
      `  ${sampler.summary()}`,
    ].join('\n') + '\n',
  );
  process.exitCode = errors.length > 0 ? 1 : 0;
}

await main();
