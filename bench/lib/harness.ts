// What every benchmark here shares: the alternation of peers, medians, running a client with a
// time limit, finding a tool (or saying which Debian package has it), stopping servers, and a
// plain text table.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const CLOCK_TICKS = 100;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * The order of the peers in round `round`: rotated by one each round, so that warm-up and drift
 * hit every peer alike (with two peers this alternates which goes first).
 */
export function roundOrder<T>(peers: readonly T[], round: number): T[] {
  if (peers.length === 0) return [];
  const shift = round % peers.length;
  return [...peers.slice(shift), ...peers.slice(0, shift)];
}

/** Runs `measure` for every peer in every round (rotating the order) and collects the samples by peer. */
export async function alternate<P extends { readonly name: string }, S>(peers: readonly P[], rounds: number, measure: (peer: P, round: number) => Promise<S>): Promise<Map<string, S[]>> {
  const samples = new Map<string, S[]>(peers.map((p) => [p.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const peer of roundOrder(peers, round)) samples.get(peer.name)?.push(await measure(peer, round));
  }
  return samples;
}

/**
 * utime + stime of a process, in clock ticks (0 once it has gone); with `children`, also the
 * time of the children it has waited for (servers that fork a process per transfer).
 */
export function cpuTicks(pid: number, options: { children?: boolean } = {}): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const own = Number(fields[11]) + Number(fields[12]); // utime + stime
    return options.children === true ? own + Number(fields[13]) + Number(fields[14]) : own; // + cutime + cstime
  } catch {
    return 0;
  }
}

/**
 * Busy CPU time of the whole machine (user, nice, system, irq, softirq), in clock ticks. Minus
 * this process and its waited-for children (the clients), it counts a server whatever its
 * process model (threads, a process per transfer) together with the kernel's loopback work.
 */
export function systemBusyTicks(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [user, nice, system, , , irq, softirq] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0);
}

export interface ClientRun {
  readonly out: string;
  readonly seconds: number;
  readonly code: number | null;
}

/**
 * Runs a client to completion and returns its output (stdout and stderr together). It is
 * killed after `timeoutMs`; a non-zero exit is an error unless `allowFailure`.
 */
export function runClient(command: string, args: readonly string[], options: { timeoutMs: number; allowFailure?: boolean; env?: NodeJS.ProcessEnv }): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(options.env !== undefined ? { env: options.env } : {}) });
    let out = '';
    const keep = (d: Buffer): void => {
      out += d.toString();
      if (out.length > 1_000_000) out = out.slice(-500_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if ((code !== 0 || signal !== null) && options.allowFailure !== true) {
        reject(new Error(`${command} ${signal !== null ? `killed by ${signal}` : `exited ${code}`}: ${out.slice(-500)}`));
      } else {
        resolve({ out, seconds, code });
      }
    });
  });
}

/**
 * Finds an executable: `envVar` (a path) first, then PATH and the sbin folders, then `fallback`
 * (a path, e.g. a peer unpacked beside the bench). Prints what to
 * install and returns null when it is missing, so the caller can skip that peer.
 */
export function findTool(name: string, debianPackage: string, envVar?: string, fallback?: string): string | null {
  const override = envVar !== undefined ? process.env[envVar] : undefined;
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin'].filter((d) => d !== '');
  const candidates = override !== undefined && override !== '' ? [override] : [...dirs.map((d) => join(d, name)), ...(fallback === undefined ? [] : [resolve(fallback)])];
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // try the next one
    }
  }
  process.stdout.write(`skipping ${name}: not found${override !== undefined ? ` at ${envVar}=${override}` : ''}; install it with: apt-get install ${debianPackage}${envVar !== undefined ? ` (or point ${envVar} at the binary)` : ''}\n`);
  return null;
}

/** Polls `probe` every `intervalMs` until it returns true; throws after `timeoutMs`. */
export async function waitUntil(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 10_000, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A server started by a benchmark, with the tail of its output for error messages. */
export interface Server {
  readonly name: string;
  readonly child: ChildProcess;
  output(): string;
  exited(): boolean;
}

const live = new Set<ChildProcess>();

export function startServer(name: string, command: string, args: readonly string[], env?: NodeJS.ProcessEnv): Server {
  installSignalHandlers();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(env !== undefined ? { env } : {}) });
  live.add(child);
  let out = '';
  let gone = false;
  const keep = (d: Buffer): void => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('error', (err) => {
    out += `\n${err.message}`;
  });
  child.on('exit', () => {
    gone = true;
    live.delete(child);
  });
  return { name, child, output: () => out, exited: () => gone };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export async function stopServer(server: Server, graceMs = 5000): Promise<void> {
  if (server.exited() || server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

const cleanups: Array<() => void> = [];

/**
 * Registers a synchronous clean-up (deleting namespaces, files) that also runs on Ctrl-C or
 * SIGTERM, when the benchmark's own finally blocks would not. Returns a function that runs it
 * once and unregisters it.
 */
export function onCleanup(fn: () => void): () => void {
  installSignalHandlers();
  let done = false;
  const once = (): void => {
    if (done) return;
    done = true;
    try {
      fn();
    } catch (err) {
      process.stderr.write(`clean-up failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  };
  cleanups.push(once);
  return () => {
    const i = cleanups.indexOf(once);
    if (i >= 0) cleanups.splice(i, 1);
    once();
  };
}

function onSignal(signal: NodeJS.Signals): void {
  process.stderr.write(`\n${signal}: stopping servers and cleaning up\n`);
  for (const child of live) child.kill('SIGKILL');
  for (const fn of [...cleanups].reverse()) fn();
  process.exit(130);
}
let installed = false;
function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

/** A plain text table: the first column left-aligned, the others right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

export function ratio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return 'n/a';
  const r = a / b;
  return `${r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}x`;
}

export function fail(err: unknown): never {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
