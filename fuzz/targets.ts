// The fuzz targets: every decoder that reads bytes from the network or a file, each wrapped so
// that the errors it may throw by contract (DecodeError, DisklessError and its subclasses:
// ConfigError, StoreError, ImportError) are swallowed and anything else escapes as a crash.
// Each target names the source files whose block coverage guides it, a few dictionary tokens,
// and seeds built in code (fuzz/corpus/NAME/ adds captured ones).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DisklessError } from '../src/lib/errors.ts';
import { PduFramer } from '../src/iscsi/framer.ts';
import { decodeInitiatorPdu, encodeTargetPdu } from '../src/iscsi/pdu/index.ts';
import { decodeTargetPdu } from '../src/iscsi/pdu/target-decode.ts';
import { encodeInitiatorPdu } from '../src/iscsi/pdu/initiator-encode.ts';
import type { InitiatorPdu, TargetPdu } from '../src/iscsi/pdu/types.ts';
import { decodeTextKeys, encodeTextKeys } from '../src/iscsi/text-keys.ts';
import { createLogin, step as stepLogin, type LoginConfig, type LoginState } from '../src/iscsi/login.ts';
import { DEFAULT_TARGET_POLICY, createNegotiation, negotiateKeys, type NegotiatedParams } from '../src/iscsi/negotiation.ts';
import { Session, type PduSink } from '../src/iscsi/session.ts';
import { TargetDirectory } from '../src/iscsi/target-directory.ts';
import { MemoryDevice } from '../src/storage/memory-device.ts';
import { BlockLogicalUnit } from '../src/scsi/logical-unit.ts';
import { LunTable } from '../src/scsi/target-device.ts';
import { ScsiStatus, type ScsiResponse } from '../src/scsi/types.ts';
import { decodeDhcpMessage, encodeDhcpMessage } from '../src/dhcp/wire/packet.ts';
import { describeDhcpMessage } from '../src/dhcp/wire/describe.ts';
import { classifyPxeClient } from '../src/dhcp/pxe.ts';
import { respond, type ResponderContext } from '../src/dhcp/responder.ts';
import { LeaseTable } from '../src/dhcp/leases.ts';
import type { BootDecision, BootPolicy, PxeClient } from '../src/boot/types.ts';
import { decodeClientPacket, decodeServerPacket } from '../src/tftp/wire.ts';
import { negotiateOptions } from '../src/tftp/options.ts';
import { normaliseRequestPath } from '../src/tftp/files.ts';
import { CAPTURED } from '../src/tftp/captured-vectors.ts';
import { loadConfigFile } from '../src/config/load.ts';
import { API_ROUTES, parseBody } from '../src/http/api-schemas.ts';
import { parseIetd } from '../src/import/ietd.ts';
import { parseDnsmasq } from '../src/import/dnsmasq.ts';
import { parseTgtTargets } from '../src/import/tgt-targets.ts';
import { parsePxelinux } from '../src/import/pxelinux.ts';

export interface FuzzTarget {
  readonly name: string;
  readonly description: string;
  /** Substrings of script URLs whose blocks count as coverage. */
  readonly cover: readonly string[];
  /** Tokens the mutator inserts or overwrites with. */
  readonly dictionary: readonly string[];
  readonly maxLength: number;
  /** Seeds built in code; fuzz/corpus/NAME/ adds captured ones. */
  seeds(): Buffer[];
  /** One input. Throws only for a bug; async targets resolve once all work is done. */
  run(input: Buffer): void | Promise<void>;
}

const ROOT = path.resolve(import.meta.dirname, '..');

/** Runs `fn`, swallowing the errors the code under test may throw by contract. */
function expected(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (err instanceof DisklessError) return;
    throw err;
  }
}

const u32 = (b: Buffer, at: number): number => (b.length >= at + 4 ? b.readUInt32BE(at) : 0);

// --- iSCSI -------------------------------------------------------------------------------------

const ISCSI_DICTIONARY = [
  'InitiatorName=', 'TargetName=', 'SessionType=Discovery', 'SessionType=Normal', 'AuthMethod=CHAP', 'AuthMethod=None', 'CHAP_A=5', 'CHAP_I=', 'CHAP_C=0x',
  'CHAP_N=', 'CHAP_R=0x', 'HeaderDigest=CRC32C', 'DataDigest=CRC32C,None', 'MaxRecvDataSegmentLength=', 'MaxBurstLength=', 'FirstBurstLength=',
  'InitialR2T=No', 'ImmediateData=Yes', 'MaxOutstandingR2T=', 'MaxConnections=', 'ErrorRecoveryLevel=', 'SendTargets=All', 'X-com.example=', 'Reject',
  'NotUnderstood', 'Irrelevant', '0x', '0b', '=', '\0', 'iqn.2026-11.org.diskless.fuzz:t', '4294967295', '16777215', '262144',
];

function pdu(p: InitiatorPdu): Buffer {
  return encodeInitiatorPdu(p);
}

const ISID = Buffer.from([0x80, 0, 0, 0, 0, 1]);
const TARGET = 'iqn.2026-11.org.diskless.fuzz:t';
const cdb16 = (...bytes: number[]): Buffer => {
  const b = Buffer.alloc(16);
  Buffer.from(bytes).copy(b);
  return b;
};

/** A login, SCSI commands with data, Data-Out, text, TMF, NOP, logout: one session's stream. */
function iscsiSeedPdus(): Buffer[] {
  const login = (csg: number, nsg: number, transit: boolean, keys: Array<[string, string]>): Buffer =>
    pdu({ kind: 'login-request', transit, continue: false, csg, nsg, versionMax: 0, versionMin: 0, isid: ISID, tsih: 0, initiatorTaskTag: 1, cid: 0, cmdSn: 1, expStatSn: 0, data: encodeTextKeys(keys) });
  // CmdSN 1 for every command: the session under test expects its first command at 1.
  const command = (itt: number, cdb: Buffer, write: boolean, length: number, data = Buffer.alloc(0), final = true, cmdSn = 1): Buffer =>
    pdu({ kind: 'scsi-command', immediate: false, final, read: !write && length > 0, write, taskAttribute: 1, lun: 0n, initiatorTaskTag: itt, expectedDataTransferLength: length, cmdSn, expStatSn: 1, cdb, ahs: Buffer.alloc(0), data });
  return [
    login(0, 1, true, [['InitiatorName', 'iqn.2026-11.org.diskless.fuzz:i'], ['TargetName', TARGET], ['SessionType', 'Normal'], ['AuthMethod', 'None']]),
    login(0, 1, false, [['InitiatorName', 'iqn.2026-11.org.diskless.fuzz:i'], ['TargetName', TARGET], ['AuthMethod', 'CHAP']]),
    login(0, 1, false, [['CHAP_A', '5']]),
    login(0, 1, true, [['CHAP_N', 'user'], ['CHAP_R', `0x${'ab'.repeat(16)}`], ['CHAP_I', '7'], ['CHAP_C', `0x${'cd'.repeat(16)}`]]),
    login(1, 3, true, [['HeaderDigest', 'CRC32C,None'], ['DataDigest', 'None'], ['MaxRecvDataSegmentLength', '262144'], ['InitialR2T', 'No'], ['ImmediateData', 'Yes'], ['FirstBurstLength', '65536'], ['MaxBurstLength', '262144']]),
    login(1, 3, true, [['InitiatorName', 'iqn.2026-11.org.diskless.fuzz:i'], ['SessionType', 'Discovery']]),
    command(2, cdb16(0x12, 0, 0, 0, 96, 0), false, 96),
    command(3, cdb16(0x25), false, 8),
    command(4, cdb16(0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0), false, 4096),
    command(5, cdb16(0x2a, 0, 0, 0, 0, 8, 0, 0, 2, 0), true, 1024, Buffer.alloc(512, 0x11), false),
    pdu({ kind: 'data-out', final: true, lun: 0n, initiatorTaskTag: 5, targetTransferTag: 0xffffffff, expStatSn: 1, dataSn: 0, bufferOffset: 512, data: Buffer.alloc(512, 0x22) }),
    command(6, cdb16(0x8a, 0x08, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 1), true, 512, Buffer.alloc(512, 0x33)),
    command(7, cdb16(0x35), false, 0),
    command(8, cdb16(0xa0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0), false, 4096),
    pdu({ kind: 'text-request', immediate: true, final: true, continue: false, lun: 0n, initiatorTaskTag: 9, targetTransferTag: 0xffffffff, cmdSn: 9, expStatSn: 1, data: encodeTextKeys([['SendTargets', 'All']]) }),
    pdu({ kind: 'task-management-request', immediate: true, function: 1, lun: 0n, initiatorTaskTag: 10, referencedTaskTag: 5, cmdSn: 10, expStatSn: 1, refCmdSn: 5, expDataSn: 0 }),
    pdu({ kind: 'nop-out', immediate: true, lun: 0n, initiatorTaskTag: 11, targetTransferTag: 0xffffffff, cmdSn: 11, expStatSn: 1, data: Buffer.from('ping') }),
    pdu({ kind: 'snack-request', type: 0, lun: 0n, initiatorTaskTag: 4, targetTransferTag: 0xffffffff, expStatSn: 1, begRun: 0, runLength: 0 }),
    pdu({ kind: 'logout-request', immediate: true, reasonCode: 0, initiatorTaskTag: 12, cid: 0, cmdSn: 12, expStatSn: 1 }),
  ];
}

/** A session's commands in CmdSN order: reads, a write with unsolicited Data-Out, more. */
function iscsiSeedSession(): Buffer {
  const cmd = (itt: number, cmdSn: number, cdb: Buffer, write: boolean, length: number, data = Buffer.alloc(0), final = true): Buffer =>
    pdu({ kind: 'scsi-command', immediate: false, final, read: !write && length > 0, write, taskAttribute: 1, lun: 0n, initiatorTaskTag: itt, expectedDataTransferLength: length, cmdSn, expStatSn: 1, cdb, ahs: Buffer.alloc(0), data });
  return Buffer.concat([
    cmd(1, 1, cdb16(0x12, 0, 0, 0, 96, 0), false, 96),
    cmd(2, 2, cdb16(0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32), false, 32),
    cmd(3, 3, cdb16(0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0), false, 4096),
    cmd(4, 4, cdb16(0x2a, 0, 0, 0, 0, 8, 0, 0, 2, 0), true, 1024, Buffer.alloc(512, 0x11), false),
    pdu({ kind: 'data-out', final: true, lun: 0n, initiatorTaskTag: 4, targetTransferTag: 0xffffffff, expStatSn: 1, dataSn: 0, bufferOffset: 512, data: Buffer.alloc(512, 0x22) }),
    cmd(5, 5, cdb16(0x8a, 0x08, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 1), true, 512, Buffer.alloc(512, 0x33)),
    cmd(6, 6, cdb16(0x35), false, 0),
    cmd(7, 7, cdb16(0xa0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0), false, 4096),
    pdu({ kind: 'text-request', immediate: true, final: true, continue: false, lun: 0n, initiatorTaskTag: 8, targetTransferTag: 0xffffffff, cmdSn: 8, expStatSn: 1, data: encodeTextKeys([['SendTargets', '']]) }),
    pdu({ kind: 'task-management-request', immediate: true, function: 1, lun: 0n, initiatorTaskTag: 9, referencedTaskTag: 4, cmdSn: 8, expStatSn: 1, refCmdSn: 4, expDataSn: 0 }),
    pdu({ kind: 'nop-out', immediate: true, lun: 0n, initiatorTaskTag: 10, targetTransferTag: 0xffffffff, cmdSn: 8, expStatSn: 1, data: Buffer.from('ping') }),
    pdu({ kind: 'logout-request', immediate: true, reasonCode: 0, initiatorTaskTag: 11, cid: 0, cmdSn: 8, expStatSn: 1 }),
  ]);
}

/** Captured streams (fuzz/capture-iscsi.ts: libiscsi and qemu against diskless, no digests). */
function capturedIscsi(): Buffer[] {
  const dir = path.join(ROOT, 'fuzz/corpus/captured-iscsi');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).sort().map((f) => fs.readFileSync(path.join(dir, f)));
}

/** Byte 0 is the digest flags; the rest is a byte stream of PDUs. */
function iscsiSeeds(): Buffer[] {
  const pdus = iscsiSeedPdus();
  return [...pdus.map((p) => Buffer.concat([Buffer.from([0]), p])), Buffer.concat([Buffer.from([0]), iscsiSeedSession()]), ...capturedIscsi()];
}

function frames(input: Buffer, each: (header: Buffer, ahs: Buffer, data: Buffer) => void, options: { placeData?: (header: Buffer, length: number) => Buffer | null } = {}): PduFramer {
  const flags = input[0] ?? 0;
  const framer = new PduFramer({ headerDigest: (flags & 1) !== 0, dataDigest: (flags & 2) !== 0, maxDataSegmentLength: 1024 * 1024 });
  if (options.placeData !== undefined) {
    const place = options.placeData;
    framer.placeData = (header, _ahs, length) => place(header, length);
  }
  expected(() => framer.push(input.subarray(1), (frame) => each(frame.header, frame.ahs, frame.data)));
  return framer;
}

const iscsiPdu: FuzzTarget = {
  name: 'iscsi-pdu',
  description: 'framer.ts + every PDU decoder (initiator and target side) + text keys, with re-encoding',
  cover: ['/src/iscsi/framer.ts', '/src/iscsi/pdu/', '/src/iscsi/text-keys.ts', '/src/lib/'],
  dictionary: ISCSI_DICTIONARY,
  maxLength: 4096,
  seeds: iscsiSeeds,
  run(input) {
    frames(input, (header, ahs, data) => {
      expected(() => {
        const decoded = decodeInitiatorPdu(header, ahs, data);
        if (decoded.kind === 'login-request' || decoded.kind === 'text-request') expected(() => decodeTextKeys(decoded.data));
        // What decodes must encode again.
        encodeInitiatorPdu(decoded);
      });
      // The doctor's probe initiator decodes what a (possibly hostile) target sends.
      expected(() => {
        const decoded: TargetPdu = decodeTargetPdu(header, ahs, data);
        encodeTargetPdu(decoded);
      });
    });
  },
};

const loginConfig: LoginConfig = {
  portalGroupTag: 1,
  discoveryAuth: null,
  policy: DEFAULT_TARGET_POLICY,
  lookupTarget: (name) => {
    const lower = name.toLowerCase();
    if (lower === TARGET) return { name: TARGET, chap: null, mutualChap: null, allowedInitiators: null };
    if (lower === `${TARGET}-chap`) return { name: `${TARGET}-chap`, alias: 'chap', chap: { user: 'user', secret: 'secret-secret' }, mutualChap: { user: 't', secret: 'target-secret' }, allowedInitiators: ['iqn.2026-11.org.diskless.fuzz:i'] };
    return null;
  },
};
const fixedRandom = (n: number): Buffer => Buffer.alloc(n, 0x5a);

const iscsiLogin: FuzzTarget = {
  name: 'iscsi-login',
  description: 'login.ts, login-security.ts, chap.ts, negotiation.ts: the login state machine on decoded Login Requests, then text negotiation',
  cover: ['/src/iscsi/login', '/src/iscsi/chap.ts', '/src/iscsi/negotiation.ts', '/src/iscsi/text-keys.ts'],
  dictionary: [...ISCSI_DICTIONARY, `${TARGET}-chap`],
  maxLength: 4096,
  seeds: iscsiSeeds,
  run(input) {
    let state: LoginState = createLogin(loginConfig, fixedRandom);
    let negotiation = createNegotiation();
    frames(input, (header, ahs, data) => {
      let decoded: InitiatorPdu;
      try {
        decoded = decodeInitiatorPdu(header, ahs, data);
      } catch (err) {
        if (err instanceof DisklessError) return;
        throw err;
      }
      let keys: Array<[string, string]>;
      try {
        keys = decodeTextKeys('data' in decoded ? decoded.data : Buffer.alloc(0));
      } catch (err) {
        if (err instanceof DisklessError) return;
        throw err;
      }
      if (decoded.kind === 'login-request') {
        // step() never throws for anything an initiator can send (login.ts).
        const result = stepLogin(state, { ...decoded, keys });
        state = result.state;
        if (result.result !== undefined) negotiation = createNegotiation();
      } else if (decoded.kind === 'text-request') {
        const r = negotiateKeys(keys, negotiation, DEFAULT_TARGET_POLICY, 'Normal', { phase: 'full-feature' });
        negotiation = r.state;
      }
    });
  },
};

function sessionParams(): NegotiatedParams {
  const request = { transit: true, continue: false, csg: 1, nsg: 3, versionMax: 0, versionMin: 0, isid: ISID, tsih: 0, cid: 0 };
  const r = stepLogin(createLogin(loginConfig, fixedRandom), {
    ...request,
    keys: [['InitiatorName', 'iqn.2026-11.org.diskless.fuzz:i'], ['TargetName', TARGET], ['SessionType', 'Normal'], ['InitialR2T', 'No'], ['ImmediateData', 'Yes'], ['MaxRecvDataSegmentLength', '262144'], ['FirstBurstLength', '65536'], ['MaxBurstLength', '262144']],
  });
  if (r.result === undefined) throw new Error(`fuzz setup: login failed ${JSON.stringify(r.response)}`);
  return r.result.params;
}
let cachedParams: ReturnType<typeof sessionParams> | null = null;

/** Any SCSI response with an internal target failure (sense 4/44h) is a bug, like a throw. */
function checkResponse(response: ScsiResponse, what: string): void {
  if (response.status === ScsiStatus.CheckCondition && response.sense !== null && ((response.sense[2] ?? 0) & 0x0f) === 0x04 && response.sense[12] === 0x44) {
    throw new Error(`INTERNAL TARGET FAILURE for ${what}`);
  }
}

function lunTable(): LunTable {
  return new LunTable([
    [0, new BlockLogicalUnit(new MemoryDevice({ sizeBytes: 64 * 512 }), { maxTransferBytes: 64 * 1024, maxWriteSameBytes: 256 * 1024 })],
    [1, new BlockLogicalUnit(new MemoryDevice({ sizeBytes: 16 * 512, readOnly: true }))],
  ]);
}

const iscsiSession: FuzzTarget = {
  name: 'iscsi-session',
  description: 'session.ts + write-collector.ts + the SCSI device behind them: a full-feature session fed decoded PDUs',
  cover: ['/src/iscsi/session.ts', '/src/iscsi/write-collector.ts', '/src/iscsi/send-targets.ts', '/src/scsi/'],
  dictionary: ISCSI_DICTIONARY,
  maxLength: 8192,
  seeds: iscsiSeeds,
  async run(input) {
    cachedParams ??= sessionParams();
    const device = lunTable();
    let closed = false;
    const sink: PduSink = {
      send: () => undefined,
      finish: () => {
        closed = true;
      },
      abort: () => {
        closed = true;
      },
    };
    const session = new Session({
      tsih: 1, isid: ISID, cid: 0, type: (input[0] ?? 0) & 4 ? 'Discovery' : 'Normal', initiatorName: 'iqn.2026-11.org.diskless.fuzz:i', targetName: TARGET,
      params: cachedParams, device, targets: new TargetDirectory(), portals: () => [{ address: '127.0.0.1', port: 3260, portalGroupTag: 1 }], sink,
      log: { warn: () => undefined, debug: () => undefined }, statSn: 1, cmdSn: 1, queueDepth: 16,
    });
    frames(
      input,
      (header, ahs, data) => {
        if (closed) return;
        let decoded: InitiatorPdu;
        try {
          decoded = decodeInitiatorPdu(header, ahs, data);
        } catch (err) {
          if (err instanceof DisklessError) return session.reject(0x09, header);
          throw err;
        }
        session.handle(decoded, header);
      },
      { placeData: (header, length) => session.placeData(header, length) },
    );
    // Let device completions (nextTick / setImmediate) run, then close as a dropped connection does.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    session.close();
  },
};

const scsiCdb: FuzzTarget = {
  name: 'scsi-cdb',
  description: 'the SCSI device server: cdb-table.ts decoders and every command executor on memory devices',
  cover: ['/src/scsi/'],
  dictionary: ['\x00\x00\x00\x00', '\xff\xff\xff\xff', '\x00\x00\x00\x40', '\x10', '\x0c', '\x12', '\x28', '\x2a', '\x88', '\x8a', '\x9e', '\xa3', '\x41', '\x93', '\x42', '\x5e', '\x5f', '\x89'],
  maxLength: 2048,
  seeds: () => {
    const opcodes = [0x00, 0x03, 0x12, 0x1a, 0x25, 0x28, 0x2a, 0x2f, 0x35, 0x41, 0x42, 0x55, 0x5a, 0x5e, 0x5f, 0x88, 0x89, 0x8a, 0x8b, 0x8f, 0x91, 0x93, 0x9e, 0xa0, 0xa3, 0x34, 0x90];
    return opcodes.map((op) => Buffer.concat([Buffer.from([0]), cdb16(op, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1), Buffer.alloc(512, 0x42)]));
  },
  async run(input) {
    const table = lunTable();
    const lun = (input[0] ?? 0) % 3;
    const cdb = Buffer.from(input.subarray(1, 17));
    const rest = input.subarray(17);
    const dataOut = rest.length > 0 ? Buffer.from(rest) : null;
    await new Promise<void>((resolve, reject) => {
      let calls = 0;
      const timer = setTimeout(() => reject(new Error(`no completion in 2 s for CDB ${cdb.toString('hex')}`)), 2000);
      try {
        table.execute(lun, { cdb, dataOut, expectedDataInLength: u32(input, 1) % 65536 }, (response) => {
          calls++;
          clearTimeout(timer);
          if (calls > 1) return reject(new Error(`done called twice for ${cdb.toString('hex')}`));
          try {
            checkResponse(response, cdb.toString('hex'));
          } catch (err) {
            return reject(err);
          }
          setImmediate(resolve);
        });
      } catch (err) {
        clearTimeout(timer);
        reject(err);
      }
    });
  },
};

// --- DHCP, TFTP -------------------------------------------------------------------------------

function dhcpSeeds(): Buffer[] {
  const dir = path.join(ROOT, 'test/vectors/dhcp');
  const out: Buffer[] = [];
  for (const file of fs.readdirSync(dir)) {
    if (file.endsWith('.hex')) {
      const hex = fs.readFileSync(path.join(dir, file), 'utf8').split('\n').filter((l) => !l.startsWith('#')).join('').replace(/\s+/g, '');
      out.push(Buffer.from(hex, 'hex'));
    }
    if (file.endsWith('.pcap')) out.push(...udpPayloadsFromPcap(fs.readFileSync(path.join(dir, file))));
  }
  return out.map((b) => Buffer.concat([Buffer.from([0]), b]));
}

/** UDP payloads of a classic pcap (Ethernet, IPv4), for seeds. */
export function udpPayloadsFromPcap(pcap: Buffer): Buffer[] {
  const out: Buffer[] = [];
  if (pcap.length < 24) return out;
  const little = pcap.readUInt32LE(0) === 0xa1b2c3d4;
  const u32at = (at: number): number => (little ? pcap.readUInt32LE(at) : pcap.readUInt32BE(at));
  for (let at = 24; at + 16 <= pcap.length; ) {
    const captured = u32at(at + 8);
    const frame = pcap.subarray(at + 16, at + 16 + captured);
    at += 16 + captured;
    if (frame.length < 42 || frame.readUInt16BE(12) !== 0x0800) continue;
    const ihl = ((frame[14] ?? 0) & 0x0f) * 4;
    if (frame[23] !== 17) continue;
    out.push(Buffer.from(frame.subarray(14 + ihl + 8)));
  }
  return out;
}

const fuzzPolicy: BootPolicy = {
  decide(client: PxeClient, server: string): BootDecision | null {
    if (client.firmware === 'ipxe') return { bootFile: `http://${server}/boot.ipxe`, nextServer: server, rootPath: `iscsi:${server}::3260:0:${TARGET}`, ipxe: { keepSan: true } };
    if (client.firmware === 'pxe') return { bootFile: client.platform === 'bios' ? 'undionly.kpxe' : 'ipxe.efi', nextServer: server, vendorClass: 'PXEClient' };
    return null;
  },
};

const dhcp: FuzzTarget = {
  name: 'dhcp',
  description: 'packet.ts, options.ts, describe.ts, pxe.ts and the responder (full and proxy mode, both ports)',
  cover: ['/src/dhcp/'],
  dictionary: ['\x63\x82\x53\x63', '\x35\x01\x01', '\x35\x01\x03', '\x3c\x09PXEClient', '\x4d\x04iPXE', '\x5d\x02\x00\x07', '\x61\x11\x00', '\x37\x04\x01\x03\x06\x0f', '\x34\x01\x03', '\x32\x04\x0a\x00\x00\x64', '\xaf\x03\x08\x01\x01', '\xff', '\x00'],
  maxLength: 1500,
  seeds: dhcpSeeds,
  run(input) {
    const leases = new LeaseTable();
    const flags = input[0] ?? 0;
    expected(() => {
      const message = decodeDhcpMessage(input.subarray(1));
      classifyPxeClient(message);
      describeDhcpMessage(message);
      encodeDhcpMessage(message);
      const ctx: ResponderContext = {
        mode: flags & 1 ? 'proxy' : 'full', serverAddress: '10.0.0.1',
        subnets: [{ network: '10.0.0.0', prefixLength: 24, routers: ['10.0.0.1'], leaseTimeSeconds: 3600, pool: { first: '10.0.0.100', last: '10.0.0.110' } }],
        leases, policy: fuzzPolicy, nowMs: 1_000_000, arrival: { port: flags & 2 ? 'pxe' : 'dhcp', address: '10.0.0.50', sourcePort: 68 }, ports: { server: 67, client: 68 },
      };
      const response = respond(message, ctx);
      leases.apply(response.leaseChanges);
      if (response.kind === 'reply') decodeDhcpMessage(response.bytes);
    });
  },
};

const tftp: FuzzTarget = {
  name: 'tftp',
  description: 'wire.ts (client and server packets), options.ts negotiation, files.ts path normalisation',
  cover: ['/src/tftp/wire.ts', '/src/tftp/options.ts', '/src/tftp/files.ts'],
  dictionary: ['\x00\x01', '\x00\x02', '\x00\x04', '\x00\x05', '\x00\x06', 'octet\0', 'netascii\0', 'blksize\0', 'tsize\0', 'windowsize\0', 'timeout\0', '65464\0', '0\0', '../', '..\\', '/'],
  maxLength: 1024,
  seeds: () => Object.values(CAPTURED).map((hex) => Buffer.from(hex, 'hex')),
  run(input) {
    expected(() => {
      const packet = decodeClientPacket(input);
      if (packet.kind === 'rrq' || packet.kind === 'wrq') {
        negotiateOptions(packet.options, input.length * 1000, { maxBlockSize: 65464, maxWindowSize: 64, maxWindowBytes: 4 * 1024 * 1024 });
        normaliseRequestPath(packet.filename);
      }
    });
    expected(() => void decodeServerPacket(input));
  },
};

// --- files and bodies -------------------------------------------------------------------------

let scratch: string | null = null;
function scratchFile(name: string): string {
  scratch ??= fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'diskless-fuzz-'));
  return path.join(scratch, name);
}
export function removeScratch(): void {
  if (scratch !== null) fs.rmSync(scratch, { recursive: true, force: true });
  scratch = null;
}

function yamlSeeds(): Buffer[] {
  const out: Buffer[] = [];
  for (const file of ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).map((f) => `docs/${f}`)]) {
    if (!file.endsWith('.md')) continue;
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    for (const m of text.matchAll(/```ya?ml\n([\s\S]*?)```/g)) out.push(Buffer.from(m[1] ?? ''));
  }
  out.push(Buffer.from('listen: 127.0.0.1\niscsi:\n  port: 3260\ntargets:\n  - iqn: iqn.2026-11.org.diskless:disk1\n    chap: { user: u, secret: s3cret-s3cret }\n    luns:\n      - { lun: 0, path: /var/lib/diskless/disk1.img }\nmachines:\n  - mac: 52:54:00:12:34:56\n    name: pc1\n    boot: { kind: sanboot, disks: [{ target: iqn.2026-11.org.diskless:disk1 }] }\ndhcp: { mode: proxy }\n'));
  return out;
}

const configYaml: FuzzTarget = {
  name: 'config-yaml',
  description: 'config/load.ts: YAML parsing (the yaml package) and the zod schema, through loadConfigFile',
  cover: ['/src/config/', '/node_modules/yaml/', '/node_modules/zod/'],
  dictionary: ['targets:\n', '  - iqn: ', 'luns:', 'machines:', 'boot: ', 'kind: sanboot', 'kind: menu', '&a ', '*a', '<<: ', '!!binary ', '!!str ', '? ', '{', '}', '[', ']', '- ', ': ', '\n  ', '"', "'", '|\n', '%YAML 1.2\n', '---\n', '...\n', '0x', '1e400', '.nan'],
  maxLength: 4096,
  seeds: yamlSeeds,
  run(input) {
    const file = scratchFile('config.yaml');
    fs.writeFileSync(file, input);
    // The yaml package reports odd input (unknown tags, ambiguous aliases) as process warnings:
    // thousands of lines of noise here, harmless.
    const emitWarning = process.emitWarning;
    process.emitWarning = (() => undefined) as typeof process.emitWarning;
    try {
      expected(() => void loadConfigFile(file));
    } finally {
      process.emitWarning = emitWarning;
    }
  },
};

const BODIES = API_ROUTES.filter((r) => r.body !== undefined);

const apiBody: FuzzTarget = {
  name: 'api-body',
  description: 'the zod schemas of every API route body (api-schemas.ts parseBody), on JSON parsed from the input',
  cover: ['/src/http/api-schemas.ts', '/src/store/', '/src/config/schema.ts', '/node_modules/zod/'],
  dictionary: ['{"', '":', '"mac":"52:54:00:12:34:56"', '"name":"pc1"', '"disks":["d1"]', '"boot":{"kind":"sanboot","disks":[{"target":"iqn.2026-11.org.x:y"}]}', '"chap":{"user":"u","secret":"s"}', '"sizeBytes":1048576', '"iqn":"iqn.2026-11.org.x:y"', '"luns":[]', 'null', 'true', '[', ']', '{}', '1e308', '-1', '"__proto__"', '"constructor"'],
  maxLength: 2048,
  seeds: () =>
    [
      { mac: '52:54:00:12:34:56', name: 'pc1', boot: { kind: 'shell' } },
      { mac: '52:54:00:12:34:56', name: 'pc1', disks: ['d1'] },
      { mac: '52:54:00:12:34:56', name: 'pc1', image: 'win', version: 2, mode: 'discard-on-reboot' },
      { name: 'd1', sizeBytes: 1048576 },
      { name: 'd1', image: 'win' },
      { name: 'd1', path: '/var/tmp/x.img', readOnly: true },
      { sizeBytes: 2097152 },
      { iqn: 'iqn.2026-11.org.x:y', chap: { user: 'u', secret: 's3cret-s3cret' }, allowedInitiators: ['iqn.2026-11.org.x:i'], luns: [{ lun: 0, disk: 'd1' }] },
      { disk: 'd1', readOnly: false },
      { name: 'img', path: '/var/tmp/base.img', source: 'x' },
    ].map((b, i) => Buffer.concat([Buffer.from([i]), Buffer.from(JSON.stringify(b))])),
  run(input) {
    let value: unknown;
    try {
      value = JSON.parse(input.subarray(1).toString('utf8'));
    } catch {
      return; // not JSON: fastify answers 400 before any schema runs
    }
    const route = BODIES[(input[0] ?? 0) % BODIES.length];
    if (route?.body === undefined) return;
    const schema = route.body;
    expected(() => void parseBody(schema, value, 'body'));
  },
};

function importSeeds(): Buffer[] {
  const dir = path.join(ROOT, 'test/vectors/import');
  return fs.readdirSync(dir).map((f, i) => Buffer.concat([Buffer.from([i]), fs.readFileSync(path.join(dir, f))]));
}

const importParsers: FuzzTarget = {
  name: 'import',
  description: 'the importers of ietd.conf, dnsmasq, tgt targets.conf and pxelinux.cfg (src/import)',
  cover: ['/src/import/'],
  dictionary: ['Target ', 'Lun 0 Path=', 'IncomingUser ', 'dhcp-host=', 'dhcp-boot=', 'dhcp-option=', 'tag:', 'set:', '<target ', '</target>', 'backing-store ', 'incominguser ', 'LABEL ', 'KERNEL ', 'APPEND ', 'DEFAULT ', 'sanboot ', 'iscsi:', '"', '\n', '#'],
  maxLength: 4096,
  seeds: importSeeds,
  run(input) {
    const text = input.subarray(1).toString('utf8');
    switch ((input[0] ?? 0) % 4) {
      case 0:
        return expected(() => void parseIetd(text, 'ietd.conf'));
      case 1:
        return expected(() => void parseDnsmasq(text, 'dnsmasq.conf'));
      case 2:
        return expected(() => void parseTgtTargets(text, 'targets.conf'));
      default:
        return expected(() => void parsePxelinux(text, 'default'));
    }
  },
};

export const TARGETS: readonly FuzzTarget[] = [iscsiPdu, iscsiLogin, iscsiSession, scsiCdb, dhcp, tftp, configYaml, apiBody, importParsers];

export function findTarget(name: string): FuzzTarget {
  const target = TARGETS.find((t) => t.name === name);
  if (target === undefined) throw new Error(`no fuzz target ${name}; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
  return target;
}
