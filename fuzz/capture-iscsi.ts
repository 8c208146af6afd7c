// Records real initiators' iSCSI streams as fuzz seeds: a diskless test server behind a TCP
// proxy that keeps both directions of every connection, driven by libiscsi's tools and qemu
// (no digests, so a stream frames the same way all through). Each direction of each connection
// becomes fuzz/corpus/captured-iscsi/NAME-{c,t}N.bin, prefixed with the digest-flags byte (0)
// that the iscsi-* targets expect. Needs libiscsi-bin and qemu-utils.
//   node --import tsx fuzz/capture-iscsi.ts
import fs from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import path from 'node:path';
import { startTestServer, TEST_IQN } from '../test/helpers/server.ts';
import { run } from '../test/helpers/tools.ts';

const OUT = path.join(import.meta.dirname, 'corpus', 'captured-iscsi');

async function main(): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  const chap = { user: 'cap-user', secret: 'cap-secret-123' };
  const mutual = { user: 'cap-target', secret: 'cap-target-456' };
  const server = await startTestServer({ diskBytes: 4 * 1024 * 1024, target: { chap, mutualChap: mutual } });
  const open = await startTestServer({ diskBytes: 4 * 1024 * 1024 });
  let label = '';
  let n = 0;
  const streams: Array<{ name: string; chunks: Buffer[] }> = [];
  const proxyFor = (port: number): Promise<number> =>
    new Promise((resolve) => {
      const proxy = createServer((client: Socket) => {
        const id = n++;
        const toTarget = { name: `${label}-c${id}`, chunks: [] as Buffer[] };
        const toInitiator = { name: `${label}-t${id}`, chunks: [] as Buffer[] };
        streams.push(toTarget, toInitiator);
        const upstream = connect(port, '127.0.0.1');
        client.on('data', (d: Buffer) => {
          toTarget.chunks.push(Buffer.from(d));
          upstream.write(d);
        });
        upstream.on('data', (d: Buffer) => {
          toInitiator.chunks.push(Buffer.from(d));
          client.write(d);
        });
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.on('error', () => undefined);
        upstream.on('error', () => undefined);
      });
      proxy.listen(0, '127.0.0.1', () => {
        const address = proxy.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
        proxy.unref();
      });
    });
  const chapPort = await proxyFor(server.iscsiPort);
  const openPort = await proxyFor(open.iscsiPort);
  const digests = '?header_digest=none';
  const runs: Array<[string, string, string[]]> = [
    ['iscsi-ls', 'iscsi-ls', ['-s', `iscsi://127.0.0.1:${openPort}${digests}`]],
    ['iscsi-inq', 'iscsi-inq', [`iscsi://127.0.0.1:${openPort}/${TEST_IQN}/0${digests}`]],
    ['iscsi-inq-vpd', 'iscsi-inq', ['-e', '1', '-c', '0x83', `iscsi://127.0.0.1:${openPort}/${TEST_IQN}/0${digests}`]],
    ['iscsi-readcapacity16', 'iscsi-readcapacity16', [`iscsi://127.0.0.1:${openPort}/${TEST_IQN}/0${digests}`]],
    ['iscsi-inq-chap', 'iscsi-inq', [`iscsi://${chap.user}%${chap.secret}@127.0.0.1:${chapPort}/${TEST_IQN}/0${digests}&target_user=${mutual.user}&target_password=${mutual.secret}`]],
    ['qemu-io-rw', 'qemu-io', ['-f', 'raw', '-c', 'write -P 0xa5 0 65536', '-c', 'read -P 0xa5 0 65536', '-c', 'write -z 65536 4096', '-c', 'discard 131072 4096', '-c', 'flush', `iscsi://127.0.0.1:${openPort}/${TEST_IQN}/0`]],
    ['qemu-img-info', 'qemu-img', ['info', `iscsi://127.0.0.1:${openPort}/${TEST_IQN}/0`]],
  ];
  for (const [name, command, args] of runs) {
    label = name;
    // Asynchronously: the proxy and the server run on this event loop.
    const r = await run(command, args, { timeoutMs: 30000 });
    if (r.code !== 0) process.stderr.write(`${name}: exit ${r.code}: ${r.stderr.slice(0, 300)}\n`);
    await new Promise((r) => setTimeout(r, 200));
  }
  let files = 0;
  for (const s of streams) {
    const bytes = Buffer.concat(s.chunks);
    if (bytes.length === 0) continue;
    // qemu takes libiscsi's default digest preference (None first), so its streams have none either.
  // Cap at 64 KiB: the fuzzers cut longer inputs anyway.
    fs.writeFileSync(path.join(OUT, `${s.name}.bin`), Buffer.concat([Buffer.from([0]), bytes.subarray(0, 65536)]));
    files++;
  }
  process.stdout.write(`${files} streams written to ${OUT}\n`);
  await server.stop();
  await open.stop();
}

await main();
