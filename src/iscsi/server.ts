// The iSCSI portal: accepts TCP connections, owns the session table (TSIH allocation and
// session reinstatement, RFC 7143 section 6.3.5) and answers "which sessions are live".
import { createServer, type Server, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { Connection, type ConnectionHost, type IscsiEvent } from './connection.ts';
import { createCommandLatency, type CommandLatency, type Session } from './session.ts';
import type { LoginConfig, LoginResult } from './login.ts';
import { LoginStatus } from './login-status.ts';
import type { Portal } from './send-targets.ts';
import type { TargetDirectory } from './target-directory.ts';
import type { Credentials } from './target-directory.ts';
import { sameIscsiName } from './target-directory.ts';
import { DEFAULT_TARGET_POLICY } from './negotiation.ts';
import { DEFAULT_DATA_IN_BUDGET_BYTES } from './data-in-budget.ts';

export interface IscsiServerOptions {
  readonly targets: TargetDirectory;
  readonly portalGroupTag: number;
  readonly discoveryAuth: Credentials | null;
  readonly nopIntervalMs: number;
  readonly nopTimeoutMs: number;
  readonly maxConnections: number;
  /**
   * Read data one connection may hold (from storage read to kernel) before its further commands
   * that produce Data-In wait: config `iscsi.dataInBudgetBytes`; DEFAULT_DATA_IN_BUDGET_BYTES when absent.
   */
  readonly dataInBudgetBytes?: number;
  /** Addresses to list in SendTargets besides the one the initiator connected to. */
  readonly advertise: readonly string[];
  /** The listen address: a wildcard means every interface address is a portal. */
  readonly listen: string;
  readonly log: Logger;
  readonly onEvent?: (event: IscsiEvent) => void;
}

export interface SessionSummary {
  readonly target: string | null;
  readonly type: 'Normal' | 'Discovery';
  readonly initiator: string;
  readonly isid: string;
  readonly tsih: number;
  readonly cid: number;
  readonly peer: string;
  readonly state: 'active' | 'login';
  readonly connectedAt: string;
  readonly headerDigest: boolean;
  readonly dataDigest: boolean;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly commands: number;
}

export interface TargetTotals {
  bytesRead: number;
  bytesWritten: number;
  commands: number;
  /** Live sessions (0 in the totals of ended sessions). */
  sessions: number;
  /** Command latency by operation class (diskless_iscsi_command_seconds). */
  readonly commandSeconds: CommandLatency;
}

export class IscsiServer implements ConnectionHost {
  readonly targets: TargetDirectory;
  readonly loginConfig: LoginConfig;
  readonly queueDepth = 128;
  readonly dataInBudgetBytes: number;
  readonly nopIntervalMs: number;
  readonly nopTimeoutMs: number;
  readonly loginTimeoutMs = 15000;
  readonly #connections = new Set<Connection>();
  readonly #closedTotals = new Map<string, TargetTotals>();
  #nextTsih = 1;
  #server: Server | null = null;
  #port = 0;

  constructor(private readonly opts: IscsiServerOptions) {
    this.targets = opts.targets;
    this.nopIntervalMs = opts.nopIntervalMs;
    this.nopTimeoutMs = opts.nopTimeoutMs;
    this.dataInBudgetBytes = opts.dataInBudgetBytes ?? DEFAULT_DATA_IN_BUDGET_BYTES;
    this.loginConfig = {
      portalGroupTag: opts.portalGroupTag,
      discoveryAuth: opts.discoveryAuth,
      policy: DEFAULT_TARGET_POLICY,
      lookupTarget: (name) => {
        const target = this.targets.get(name);
        if (target === null) return null;
        return {
          name: target.name,
          ...(target.alias !== null ? { alias: target.alias } : {}),
          chap: target.chap,
          mutualChap: target.mutualChap,
          allowedInitiators: target.allowedInitiators === null ? null : [...target.allowedInitiators],
        };
      },
    };
  }

  get port(): number {
    return this.#port;
  }

  async listen(port: number, host: string): Promise<number> {
    // pauseOnConnect: nothing is read before the connection adopts the socket (socket-receive.ts).
    const server = createServer({ noDelay: true, pauseOnConnect: true }, (socket) => this.#accept(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.opts.log.error({ err }, 'iSCSI listener error'));
    const address = server.address();
    this.#port = typeof address === 'object' && address !== null ? address.port : port;
    return this.#port;
  }

  async close(): Promise<void> {
    for (const connection of this.#connections) connection.close('server shutting down');
    const server = this.#server;
    if (server === null) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    if (this.#connections.size >= this.opts.maxConnections) {
      this.opts.log.warn({ peer: socket.remoteAddress }, 'connection refused: too many connections');
      socket.destroy();
      return;
    }
    const log = this.opts.log.child({ proto: 'iscsi', peer: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}` });
    const connection = new Connection(socket, this, log);
    this.#connections.add(connection);
  }

  portals(localAddress: string): readonly Portal[] {
    const tag = this.opts.portalGroupTag;
    const port = this.#port;
    const local = normalizeAddress(localAddress);
    const others: string[] = [...this.opts.advertise];
    if (this.opts.listen === '0.0.0.0' || this.opts.listen === '::') {
      for (const list of Object.values(networkInterfaces())) {
        for (const info of list ?? []) if (!info.internal && info.family === 'IPv4') others.push(info.address);
      }
    }
    // The address this initiator reached us at goes last: libiscsi keeps the last TargetAddress
    // of a target, and that one is known to work for this initiator.
    const addresses = [...new Set([...others.filter((a) => a !== local), local])];
    return addresses.map((address) => ({ address, port, portalGroupTag: tag }));
  }

  admitSession(connection: Connection, result: LoginResult, cid: number): { tsih: number } | { status: { statusClass: number; statusDetail: number } } {
    if (result.tsih !== 0) {
      // A non-zero TSIH adds a connection to (or reinstates a connection of) an existing session.
      const existing = [...this.#connections].find((c) => c !== connection && c.session?.info.tsih === result.tsih);
      if (existing === undefined) return { status: LoginStatus.SessionDoesNotExist };
      if (existing.session?.info.cid !== cid) return { status: LoginStatus.TooManyConnections };
      existing.close('connection reinstated by a new login with the same CID');
      return { tsih: result.tsih };
    }
    // Session reinstatement: same initiator name, ISID and target with TSIH 0 replaces the old
    // session (RFC 7143 section 6.3.5); its tasks are dropped.
    const isid = result.isid.toString('hex');
    for (const other of this.#connections) {
      const info = other.session?.info;
      if (other === connection || info === undefined) continue;
      if (info.initiatorName === result.initiatorName && info.isid.toString('hex') === isid && info.targetName === (result.targetName ?? null)) {
        this.opts.log.info({ initiator: info.initiatorName, tsih: info.tsih }, 'session reinstated');
        other.close('session reinstated');
      }
    }
    const tsih = this.#allocateTsih();
    return { tsih };
  }

  #allocateTsih(): number {
    // TSIH 0 is reserved (RFC 7143 section 11.12.6); skip values still in use after wrapping.
    const inUse = new Set([...this.#connections].map((c) => c.session?.info.tsih));
    for (;;) {
      const tsih = this.#nextTsih;
      this.#nextTsih = tsih >= 0xffff ? 1 : tsih + 1;
      if (!inUse.has(tsih)) return tsih;
    }
  }

  onEvent(event: IscsiEvent): void {
    this.opts.onEvent?.(event);
  }

  forgetConnection(connection: Connection): void {
    this.#connections.delete(connection);
    const session = connection.session;
    if (session?.info.targetName != null) addSession(this.#totalsOf(this.#closedTotals, session.info.targetName), session);
  }

  /** Bytes, commands and latencies per target since start: sessions that ended plus live ones. */
  targetTotals(): Map<string, TargetTotals> {
    const out = new Map<string, TargetTotals>();
    for (const [name, t] of this.#closedTotals) {
      // Copies: the live sessions are added below, and the ended ones' totals must not grow.
      const { read, write, other } = t.commandSeconds;
      out.set(name, { ...t, sessions: 0, commandSeconds: { read: read.clone(), write: write.clone(), other: other.clone() } });
    }
    for (const connection of this.#connections) {
      const session = connection.session;
      if (session?.info.targetName == null) continue;
      const totals = this.#totalsOf(out, session.info.targetName);
      addSession(totals, session);
      totals.sessions += 1;
    }
    return out;
  }

  #totalsOf(map: Map<string, TargetTotals>, target: string): TargetTotals {
    let totals = map.get(target);
    if (totals === undefined) {
      totals = { bytesRead: 0, bytesWritten: 0, commands: 0, sessions: 0, commandSeconds: createCommandLatency() };
      map.set(target, totals);
    }
    return totals;
  }

  /** Ends every session logged in to this target (it was removed, or its LUNs changed). */
  dropSessions(targetName: string, reason: string): void {
    // Names compared as the login compares them (RFC 3722), so every session the login let in is found.
    for (const connection of this.#connections) {
      const loggedIn = connection.session?.info.targetName;
      if (loggedIn !== undefined && loggedIn !== null && sameIscsiName(loggedIn, targetName)) connection.close(reason);
    }
  }

  sessions(): SessionSummary[] {
    const out: SessionSummary[] = [];
    for (const connection of this.#connections) {
      const session = connection.session;
      out.push({
        target: session?.info.targetName ?? null,
        type: session?.info.type ?? 'Normal',
        initiator: session?.info.initiatorName ?? '',
        isid: session?.info.isid.toString('hex') ?? '',
        tsih: session?.info.tsih ?? 0,
        cid: session?.info.cid ?? 0,
        peer: connection.peer,
        state: session === null ? 'login' : 'active',
        connectedAt: connection.connectedAt.toISOString(),
        headerDigest: session?.info.params.headerDigest ?? false,
        dataDigest: session?.info.params.dataDigest ?? false,
        bytesRead: session?.counters.bytesRead ?? 0,
        bytesWritten: session?.counters.bytesWritten ?? 0,
        commands: session?.counters.commands ?? 0,
      });
    }
    return out;
  }
}

function addSession(totals: TargetTotals, session: Session): void {
  totals.bytesRead += session.counters.bytesRead;
  totals.bytesWritten += session.counters.bytesWritten;
  totals.commands += session.counters.commands;
  totals.commandSeconds.read.add(session.latency.read);
  totals.commandSeconds.write.add(session.latency.write);
  totals.commandSeconds.other.add(session.latency.other);
}

function normalizeAddress(address: string): string {
  // IPv4 clients on a dual-stack socket show up as ::ffff:a.b.c.d.
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
