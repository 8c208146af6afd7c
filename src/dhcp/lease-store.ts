// Persisted leases. dnsmasq rewrites its whole lease file and fsyncs it on every change; here
// changes go to an append-only JSON-lines journal, compacted once at start-up. Group commit: the
// changes of an event-loop burst go out in one write on a file opened O_DSYNC (durable when the
// write returns, as write + fdatasync, in one thread-pool round trip), and every ACK of that burst
// waits for that write. Writes start at most every MIN_WRITE_INTERVAL_MS: under load the bursts
// coalesce into fewer, larger writes (each sync costs the process 100-150 µs of CPU here, and a
// fast disk would otherwise be asked for a thousand a second); when idle a change is written at
// once. LeaseStore is the seam a later SQLite store replaces.
import { close as closeFd, constants, open as openFd, write as writeFd } from 'node:fs';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lease, LeaseChange, LeaseState } from './leases.ts';

export interface LeaseStore {
  /** The leases recorded so far (as of opening). */
  load(): Promise<readonly Lease[]>;
  /** Records changes; resolves once they are durable. Offers are not recorded (they last 30 s). */
  record(changes: readonly LeaseChange[]): Promise<void>;
  close(): Promise<void>;
}

export interface JournalStats {
  /** Lines skipped at load: a torn last line after a crash, or hand edits. */
  readonly skippedLines: number;
  readonly writes: number;
  readonly syncs: number;
}

const JOURNAL = 'leases.jsonl';
const STATES: readonly LeaseState[] = ['offered', 'bound', 'declined', 'released'];

type JournalLine = { readonly op: 'put'; readonly lease: Lease } | { readonly op: 'delete'; readonly ip: string };

function parseLine(line: string): JournalLine | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Record<string, unknown>;
  if (r.op === 'delete' && typeof r.ip === 'string') return { op: 'delete', ip: r.ip };
  if (r.op !== 'put' || typeof r.ip !== 'string' || typeof r.mac !== 'string' || typeof r.expiresAtMs !== 'number') return null;
  const state = STATES.find((s) => s === r.state);
  if (state === undefined) return null;
  const hostname = typeof r.hostname === 'string' ? { hostname: r.hostname } : {};
  return { op: 'put', lease: { ip: r.ip, mac: r.mac, state, expiresAtMs: r.expiresAtMs, ...hostname } };
}

function formatLine(change: LeaseChange): string {
  return change.op === 'put' ? JSON.stringify({ op: 'put', ...change.lease }) : JSON.stringify({ op: 'delete', ip: change.ip });
}

/** What the journal keeps: everything but offers (they last 30 s; a restart simply forgets them). */
export function isPersisted(change: LeaseChange): boolean {
  return change.op === 'delete' || change.lease.state !== 'offered';
}

/** One group commit: every record() of a burst gets the same promise, settled once. */
interface Batch {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

function newBatch(): Batch {
  let resolve: () => void = () => undefined;
  let reject: (err: unknown) => void = () => undefined;
  const promise = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

const DONE = Promise.resolve();

/**
 * The least time between the starts of two journal writes; added to an ACK's wait only under
 * load. The ACKs of one write leave together: at 28,000 exchanges/s, 5 ms made bursts of 140+
 * ACKs, and 6-7% of them overflowed the receive buffer of a client simulating thousands of
 * machines on one socket (a relay's would be the same); 2 ms cut those losses by 4-5x at the
 * same CPU per exchange (docs/PERFORMANCE.md, DHCP).
 */
export const MIN_WRITE_INTERVAL_MS = 2;

/** Append, create, and O_DSYNC: each write is on disk (data and the size that reaches it) when it returns. */
const JOURNAL_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_DSYNC;

function openJournal(path: string): Promise<number> {
  return new Promise((resolve, reject) => openFd(path, JOURNAL_FLAGS, 0o666, (err, fd) => (err ? reject(err) : resolve(fd))));
}

/** Writes all of `bytes` (a regular file takes it in one write; short writes are carried on). */
function writeAll(fd: number, bytes: Buffer, done: (err: Error | null) => void): void {
  writeFd(fd, bytes, 0, bytes.length, null, (err, written) => {
    if (err) done(err);
    else if (written < bytes.length) writeAll(fd, bytes.subarray(written), done);
    else done(null);
  });
}

export class JournalLeaseStore implements LeaseStore {
  readonly #leases: readonly Lease[];
  readonly #fd: number;
  #pending: string[] = [];
  #batch: Batch | null = null;
  #scheduled = false;
  #writing = false;
  #writes = 0;
  #syncs = 0;
  readonly #skipped: number;

  #lastWriteMs = Number.NEGATIVE_INFINITY;
  readonly #flushNow = (): void => this.#flush();

  private constructor(fd: number, leases: readonly Lease[], skipped: number) {
    this.#fd = fd;
    this.#leases = leases;
    this.#skipped = skipped;
  }

  /**
   * Opens (creating) the journal in `dir`, replays it, drops quarantines that have ended and
   * rewrites it compacted (write a temporary file, sync, rename) before appending.
   */
  static async open(dir: string, nowMs: number = Date.now()): Promise<JournalLeaseStore> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, JOURNAL);
    const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    const byIp = new Map<string, Lease>();
    let skipped = 0;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const entry = parseLine(line);
      if (entry === null) skipped += 1;
      else if (entry.op === 'put') byIp.set(entry.lease.ip, entry.lease);
      else byIp.delete(entry.ip);
    }
    const leases = [...byIp.values()].filter((l) => l.state !== 'offered' && !(l.state === 'declined' && l.expiresAtMs <= nowMs));
    const tmp = `${path}.tmp`;
    const out = await open(tmp, 'w');
    try {
      await out.write(leases.map((l) => `${formatLine({ op: 'put', lease: l })}\n`).join(''));
      await out.datasync();
    } finally {
      await out.close();
    }
    await rename(tmp, path);
    const dirHandle = await open(dir, 'r');
    try {
      await dirHandle.sync(); // make the rename itself durable
    } finally {
      await dirHandle.close();
    }
    return new JournalLeaseStore(await openJournal(path), leases, skipped);
  }

  load(): Promise<readonly Lease[]> {
    return Promise.resolve(this.#leases);
  }

  /**
   * Every call until the next write shares one promise (callers may compare them to group the
   * replies that wait for the same write).
   */
  record(changes: readonly LeaseChange[]): Promise<void> {
    let added = 0;
    for (const change of changes) {
      if (!isPersisted(change)) continue;
      this.#pending.push(formatLine(change));
      added += 1;
    }
    if (added === 0) return DONE;
    this.#batch ??= newBatch();
    this.#schedule();
    return this.#batch.promise;
  }

  stats(): JournalStats {
    return { skippedLines: this.#skipped, writes: this.#writes, syncs: this.#syncs };
  }

  async close(): Promise<void> {
    while (this.#pending.length > 0 || this.#writing || this.#scheduled) await new Promise((r) => setImmediate(r));
    await new Promise<void>((resolve, reject) => closeFd(this.#fd, (err) => (err ? reject(err) : resolve())));
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing) return;
    this.#scheduled = true;
    // At once (after the rest of this event-loop turn has queued its changes into the same
    // write), unless the last write started less than MIN_WRITE_INTERVAL_MS ago.
    const waitMs = this.#lastWriteMs + MIN_WRITE_INTERVAL_MS - performance.now();
    if (waitMs <= 0) setImmediate(this.#flushNow);
    else setTimeout(this.#flushNow, waitMs);
  }

  #flush(): void {
    this.#scheduled = false;
    this.#writing = true;
    this.#lastWriteMs = performance.now();
    const bytes = Buffer.from(`${this.#pending.join('\n')}\n`);
    const batch = this.#batch;
    this.#pending = [];
    this.#batch = null;
    writeAll(this.#fd, bytes, (err) => {
      this.#writing = false;
      if (err) {
        batch?.reject(err);
      } else {
        // O_DSYNC: the write was the sync.
        this.#writes += 1;
        this.#syncs += 1;
        batch?.resolve();
      }
      if (this.#pending.length > 0) this.#schedule();
    });
  }
}
