// Persisted leases. dnsmasq rewrites its whole lease file and fsyncs it on every change; here
// changes go to an append-only JSON-lines journal, one write + fdatasync per event-loop burst
// (group commit: every ACK of that burst waits for the same sync), compacted once at start-up.
// LeaseStore is the seam a later SQLite store replaces.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
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

function isPersisted(change: LeaseChange): boolean {
  return change.op === 'delete' || change.lease.state !== 'offered';
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class JournalLeaseStore implements LeaseStore {
  readonly #leases: readonly Lease[];
  readonly #handle: FileHandle;
  #pending: string[] = [];
  #waiters: Waiter[] = [];
  #scheduled = false;
  #writing = false;
  #writes = 0;
  #syncs = 0;
  readonly #skipped: number;

  private constructor(handle: FileHandle, leases: readonly Lease[], skipped: number) {
    this.#handle = handle;
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
    return new JournalLeaseStore(await open(path, 'a'), leases, skipped);
  }

  load(): Promise<readonly Lease[]> {
    return Promise.resolve(this.#leases);
  }

  record(changes: readonly LeaseChange[]): Promise<void> {
    const lines = changes.filter(isPersisted).map(formatLine);
    if (lines.length === 0) return Promise.resolve();
    this.#pending.push(...lines);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#schedule();
    });
  }

  stats(): JournalStats {
    return { skippedLines: this.#skipped, writes: this.#writes, syncs: this.#syncs };
  }

  async close(): Promise<void> {
    while (this.#pending.length > 0 || this.#writing || this.#scheduled) await new Promise((r) => setImmediate(r));
    await this.#handle.close();
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing) return;
    this.#scheduled = true;
    // Let the rest of this event-loop turn queue its changes into the same write.
    setImmediate(() => void this.#flush());
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    this.#writing = true;
    const lines = this.#pending;
    const waiters = this.#waiters;
    this.#pending = [];
    this.#waiters = [];
    try {
      await this.#handle.write(`${lines.join('\n')}\n`);
      this.#writes += 1;
      await this.#handle.datasync();
      this.#syncs += 1;
      for (const w of waiters) w.resolve();
    } catch (err) {
      for (const w of waiters) w.reject(err);
    } finally {
      this.#writing = false;
      if (this.#pending.length > 0) this.#schedule();
    }
  }
}
