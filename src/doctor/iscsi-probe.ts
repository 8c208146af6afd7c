// What the doctor learns by logging in like the machine: SendTargets discovery, then per disk a
// login with the machine's initiator IQN and CHAP, READ CAPACITY(16) and a read of the first
// blocks (LBA 0, and the GPT behind it). I/O at the edge; the answers are plain values.
import type { Credentials } from '../boot/boot-entry.ts';
import { describeLayout, gptEntryBlocks, parseGptEntries, parseGptHeader, parseMbr, type DiskLayout } from './disk-layout.ts';
import { ProbeConnection, ProbeConnectionError } from './probe-connection.ts';
import { parseCapacity16, read10Cdb, READ_CAPACITY_16_LENGTH, readCapacity16Cdb, type Capacity, type Sense } from './probe-scsi.ts';
import { ProbeError, ProbeSession, type LoginResult, type ProbeFailure } from './probe-session.ts';

export interface Portal {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
}

export type ProbeStageFailure =
  | { readonly stage: 'connect'; readonly code: string; readonly message: string }
  | ProbeFailure
  | { readonly stage: 'command'; readonly command: string; readonly status: number; readonly sense: Sense | null; readonly message: string };

export type DiskProbe = ({ readonly ok: true; readonly login: LoginResult; readonly capacity: Capacity; readonly layout: DiskLayout } | ({ readonly ok: false } & ProbeStageFailure));

export type DiscoveryProbe = { readonly ok: true; readonly targets: readonly string[] } | ({ readonly ok: false } & ProbeStageFailure);

export interface DiskProbeRequest {
  readonly initiatorIqn: string;
  readonly target: string;
  readonly lun: number;
  readonly chap?: Credentials | undefined;
  readonly mutualChap?: Credentials | undefined;
}

/** Enough for LBA 0 and the GPT header at LBA 1, in any block size. */
const FIRST_BLOCKS = 2;
/** READ(10) transfer length cap for the GPT entries (128 entries of 128 bytes fit in 32 blocks of 512). */
const MAX_ENTRY_BLOCKS = 64;

class CommandFailed extends Error {
  constructor(readonly failure: Extract<ProbeStageFailure, { stage: 'command' }>) {
    super(failure.message);
  }
}

function asFailure(err: unknown): ProbeStageFailure {
  if (err instanceof CommandFailed) return err.failure;
  if (err instanceof ProbeError) return err.failure;
  if (err instanceof ProbeConnectionError) return { stage: 'protocol', message: err.message };
  throw err;
}

async function withSession<T extends { ok: true }>(portal: Portal, run: (session: ProbeSession) => Promise<T>): Promise<T | ({ ok: false } & ProbeStageFailure)> {
  let conn: ProbeConnection;
  try {
    conn = await ProbeConnection.open(portal.host, portal.port, portal.timeoutMs);
  } catch (err) {
    if (err instanceof ProbeConnectionError) return { ok: false, stage: 'connect', code: err.code, message: err.message };
    throw err;
  }
  const session = new ProbeSession(conn, portal.timeoutMs);
  try {
    const result = await run(session);
    await session.logout();
    return result;
  } catch (err) {
    conn.close();
    return { ok: false, ...asFailure(err) };
  }
}

async function readOrFail(session: ProbeSession, lun: number, command: string, cdb: Buffer, length: number): Promise<Buffer> {
  const result = await session.read(lun, cdb, length);
  if (result.status !== 0) throw new CommandFailed({ stage: 'command', command, status: result.status, sense: result.sense, message: `${command} ended with SCSI status 0x${result.status.toString(16).padStart(2, '0')}` });
  return result.data;
}

export function probeDiscovery(portal: Portal, initiatorIqn: string, auth: Credentials | undefined): Promise<DiscoveryProbe> {
  return withSession(portal, async (session) => {
    await session.login({ initiatorIqn, target: null, chap: auth });
    return { ok: true as const, targets: await session.sendTargets() };
  });
}

export function probeDisk(portal: Portal, request: DiskProbeRequest): Promise<DiskProbe> {
  return withSession(portal, async (session) => {
    const login = await session.login({ initiatorIqn: request.initiatorIqn, target: request.target, chap: request.chap, mutualChap: request.mutualChap });
    const capacityData = await readOrFail(session, request.lun, 'READ CAPACITY(16)', readCapacity16Cdb(), READ_CAPACITY_16_LENGTH);
    const capacity = parseCapacity16(capacityData);
    if (capacity === null) throw new ProbeError({ stage: 'protocol', message: 'READ CAPACITY(16) returned no usable capacity' });
    const first = Math.min(FIRST_BLOCKS, capacity.blocks);
    const start = await readOrFail(session, request.lun, 'READ(10)', read10Cdb(0, first), first * capacity.blockSize);
    const mbr = parseMbr(start.subarray(0, capacity.blockSize));
    const location = mbr.protectiveGpt ? parseGptHeader(start.subarray(capacity.blockSize, 2 * capacity.blockSize)) : null;
    let gpt = null;
    if (location !== null) {
      const blocks = Math.min(gptEntryBlocks(location, capacity.blockSize), MAX_ENTRY_BLOCKS, Math.max(0, capacity.blocks - location.entriesLba));
      const entries = blocks === 0 ? Buffer.alloc(0) : await readOrFail(session, request.lun, 'READ(10)', read10Cdb(location.entriesLba, blocks), blocks * capacity.blockSize);
      gpt = parseGptEntries(entries, location);
    }
    return { ok: true as const, login, capacity, layout: describeLayout(mbr, gpt) };
  });
}
