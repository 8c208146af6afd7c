// Captures one machine's boot traffic on demand (issue 7) into a classic pcap file: the DHCP and
// TFTP datagrams from diskless's own view of its UDP sockets (exact per machine: DHCP by the
// MAC inside each message, TFTP by the machine's addresses; no privileges needed), and the
// iSCSI traffic through tcpdump on the portal's port and the machine's addresses (the portal
// reads its sockets into its own buffers, so only the kernel sees those bytes: tcpdump-feed.ts).
// The machine's addresses are learnt as it boots (its DHCP replies and boot events) or given.
// HTTP is left out: the same sockets carry the API and the console.
// UDP taps are on the sockets only while some capture runs.
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { DisklessError } from '../lib/errors.ts';
import type { BootEventLog } from '../events/boot-events.ts';
import { CAPTURE_LIMITS } from './capture-request.ts';
import { peekDhcp } from './dhcp-peek.ts';
import { toEthernet } from './link-layer.ts';
import { MachineCapture, type CaptureStatus } from './machine-capture.ts';
import { udpFrame, type Endpoint } from './packet-frames.ts';
import { plainAddress, watchUdpSockets, type WatchedUdpSocket } from './process-sockets.ts';
import type { Peer } from './socket-taps.ts';
import { TcpdumpFeed } from './tcpdump-feed.ts';

export interface CaptureRequest {
  readonly seconds?: number | undefined;
  readonly maxBytes?: number | undefined;
  /** Addresses to recognise the machine by from the start (a static or proxy-DHCP address). */
  readonly addresses?: readonly string[] | undefined;
}

export interface CaptureServiceOptions {
  /** Where the pcap files go (DATA_DIR/captures). */
  readonly dir: string;
  readonly events: BootEventLog;
  /** The server's DHCP ports (67, and 4011 in proxy mode); 67, 68 and 4011 are always DHCP. */
  readonly dhcpPorts: readonly number[];
  /** This server's address, for the frames of sockets bound to a wildcard. */
  readonly serverAddress: string;
  /** The portal, for tcpdump: its port and the interface to listen on ('any', 'lo', 'eth0'). */
  readonly iscsi: { readonly port: number; readonly interface: string };
  readonly log: Logger;
  /** tcpdump's path (default 'tcpdump' on the PATH); tests point it elsewhere. */
  readonly tcpdump?: string;
}

const BROADCAST = '255.255.255.255';
const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** The MAC of the interface holding `address`, else zeros (loopback has none either). */
function macOfAddress(address: string): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) if (info.address === address) return info.mac;
  }
  return '00:00:00:00:00:00';
}

const micros = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

/**
 * One running capture's iSCSI feed: tcpdump, the addresses its filter names, and the part of
 * time it speaks for (kernel timestamps, µs): when a new address restarts tcpdump, the old one
 * runs until the new one captures, and each keeps to its side of the cut-over, so no packet is
 * lost or written twice.
 */
interface IscsiFeed {
  readonly addresses: string;
  feed: Promise<TcpdumpFeed | null>;
  from: number;
  until: number;
}

export class CaptureService {
  readonly #captures = new Map<string, MachineCapture>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #feeds = new Map<string, IscsiFeed>();
  /** Captures whose stop waits for tcpdump's last packets. */
  readonly #stopping = new Set<MachineCapture>();
  readonly #udp = new Set<WatchedUdpSocket>();
  /** Taps in place while a capture runs, by socket. */
  readonly #taps = new Map<WatchedUdpSocket, () => void>();
  readonly #dhcpPorts: ReadonlySet<number>;
  readonly #serverMac: string;
  readonly #stops: Array<() => void> = [];

  constructor(private readonly opts: CaptureServiceOptions) {
    this.#dhcpPorts = new Set([67, 68, 4011, ...opts.dhcpPorts]);
    this.#serverMac = macOfAddress(opts.serverAddress);
    this.#stops.push(
      watchUdpSockets((socket) => {
        this.#udp.add(socket);
        socket.onClose(() => {
          this.#udp.delete(socket);
          this.#untap(socket);
        });
        if (this.#running().length > 0) this.#tap(socket);
      }),
    );
    // A machine's address as the boot timeline learns it (DHCP ACK, script fetch).
    this.#stops.push(
      opts.events.subscribe((event) => {
        if (event.mac !== null && event.ip !== null) this.#learn(event.mac, event.ip);
      }),
    );
  }

  async start(mac: string, request: CaptureRequest = {}): Promise<CaptureStatus> {
    const seconds = request.seconds ?? CAPTURE_LIMITS.defaultSeconds;
    const maxBytes = request.maxBytes ?? CAPTURE_LIMITS.defaultBytes;
    if (!(seconds >= 1 && seconds <= CAPTURE_LIMITS.maxSeconds)) throw new DisklessError('CAPTURE_BAD_SECONDS', `seconds must be 1-${CAPTURE_LIMITS.maxSeconds}`);
    if (!(maxBytes >= 4096 && maxBytes <= CAPTURE_LIMITS.maxBytes)) throw new DisklessError('CAPTURE_BAD_SIZE', `maxBytes must be 4096-${CAPTURE_LIMITS.maxBytes}`);
    await this.stop(mac, 'replaced');
    const running = this.#running().length;
    if (running >= CAPTURE_LIMITS.maxRunning) throw new DisklessError('CAPTURE_TOO_MANY', `${running} captures are running; stop one first (at most ${CAPTURE_LIMITS.maxRunning} at once)`);
    const capture = new MachineCapture(mac, join(this.opts.dir, `${mac.replace(/:/g, '')}.pcap`), { seconds, maxBytes }, Date.now());
    for (const address of [...(request.addresses ?? []), ...this.opts.events.addressesOf(mac)]) capture.addresses.add(address);
    this.#captures.set(mac, capture);
    const timer = setTimeout(() => void this.stop(mac, 'time limit'), seconds * 1000);
    timer.unref();
    this.#timers.set(mac, timer);
    for (const socket of this.#udp) this.#tap(socket);
    await this.#followIscsi(capture);
    this.opts.log.info({ mac, seconds, maxBytes, addresses: [...capture.addresses] }, 'packet capture started');
    return this.#status(capture);
  }

  /** Stops a running capture (its file stays for download). Null when there is none. */
  async stop(mac: string, reason = 'stopped'): Promise<CaptureStatus | null> {
    const capture = this.#captures.get(mac);
    if (capture === undefined) return null;
    if (capture.running && !this.#stopping.has(capture)) {
      this.#stopping.add(capture);
      clearTimeout(this.#timers.get(mac));
      this.#timers.delete(mac);
      // tcpdump first: its last packets are still in the pipe.
      const feed = this.#feeds.get(mac);
      this.#feeds.delete(mac);
      await (await feed?.feed)?.stop();
      capture.stop(reason, Date.now());
      this.#stopping.delete(capture);
      this.opts.log.info({ mac, reason, packets: capture.status('').packets, bytes: capture.length }, 'packet capture stopped');
    }
    if (this.#running().length === 0) for (const socket of [...this.#taps.keys()]) this.#untap(socket);
    return this.#status(capture);
  }

  status(mac: string): CaptureStatus | null {
    const capture = this.#captures.get(mac);
    return capture === undefined ? null : this.#status(capture);
  }

  list(): CaptureStatus[] {
    return [...this.#captures.values()].map((c) => this.#status(c));
  }

  /** The machine's last capture file and how much of it is whole records. */
  file(mac: string): { path: string; length: number; status: CaptureStatus } | null {
    const capture = this.#captures.get(mac);
    return capture === undefined ? null : { path: capture.path, length: capture.length, status: this.#status(capture) };
  }

  async close(): Promise<void> {
    for (const stop of this.#stops.splice(0)) stop();
    await Promise.all([...this.#captures.keys()].map((mac) => this.stop(mac, 'server shutting down')));
  }

  #status(capture: MachineCapture): CaptureStatus {
    return capture.status(`/api/machines/${capture.mac}/capture`);
  }

  #running(): MachineCapture[] {
    return [...this.#captures.values()].filter((c) => c.running);
  }

  #learn(mac: string, address: string): void {
    const capture = this.#captures.get(mac);
    if (capture === undefined || !capture.running || capture.addresses.has(address)) return;
    capture.addresses.add(address);
    void this.#followIscsi(capture);
  }

  /**
   * (Re)starts tcpdump for the capture's addresses (a BPF filter is fixed, and a machine learns
   * its address by DHCP as it boots).
   */
  async #followIscsi(capture: MachineCapture): Promise<void> {
    const addresses = [...capture.addresses].sort();
    const key = addresses.join(' ');
    const current = this.#feeds.get(capture.mac);
    if (addresses.length === 0 || current?.addresses === key) return;
    const next: IscsiFeed = { addresses: key, feed: Promise.resolve(null), from: current === undefined ? 0 : Infinity, until: Infinity };
    next.feed = TcpdumpFeed.start({
      interface: this.opts.iscsi.interface,
      filter: `tcp port ${this.opts.iscsi.port} and (${addresses.map((a) => `host ${a}`).join(' or ')})`,
      ...(this.opts.tcpdump !== undefined ? { command: this.opts.tcpdump } : {}),
      onRecord: (linkType, record) => {
        if (record.atMicros < next.from || record.atMicros >= next.until) return;
        const frame = toEthernet(linkType, record.data, { machineMac: capture.mac, serverMac: this.#serverMac });
        if (frame !== null) this.#write(capture, record.atMicros, frame);
      },
      onProblem: (message) => {
        if (!capture.running) return;
        const note = `iSCSI not captured: ${message}`;
        if (!capture.notes.includes(note)) capture.notes.push(note);
        this.opts.log.warn({ mac: capture.mac }, note);
      },
    });
    this.#feeds.set(capture.mac, next);
    const started = await next.feed;
    if (started !== null) {
      const note = `iSCSI through tcpdump on ${this.opts.iscsi.interface} (${key})`;
      capture.notes.splice(0, capture.notes.length, ...capture.notes.filter((n) => !n.startsWith('iSCSI through tcpdump')), note);
    }
    if (current !== undefined && started !== null) {
      const cut = Date.now() * 1000;
      next.from = cut;
      current.until = cut;
      await (await current.feed)?.stop();
    } else if (current !== undefined && capture.running && this.#feeds.get(capture.mac) === next) {
      this.#feeds.set(capture.mac, current); // tcpdump failed: keep following the addresses it had
    }
    if (!capture.running) {
      // Stopped while tcpdump started: stop() saw only one of the two.
      await started?.stop();
      await (await current?.feed)?.stop();
    }
  }

  #write(capture: MachineCapture, atMicros: number, frame: Buffer): void {
    if (!capture.write(atMicros, [frame]) && capture.full) void this.stop(capture.mac, 'size limit');
  }

  #tap(socket: WatchedUdpSocket): void {
    if (this.#taps.has(socket)) return;
    this.#taps.set(
      socket,
      socket.tap({
        incoming: (bytes, from) => this.#datagram(socket, bytes, from, true),
        outgoing: (bytes, to) => {
          if (to !== null) this.#datagram(socket, bytes, to, false);
        },
      }),
    );
  }

  #untap(socket: WatchedUdpSocket): void {
    this.#taps.get(socket)?.();
    this.#taps.delete(socket);
  }

  /** One datagram the server received from `peer` (incoming) or sent to it. */
  #datagram(socket: WatchedUdpSocket, bytes: Buffer, peer: Peer, incoming: boolean): void {
    let local: Peer;
    try {
      const bound = socket.address();
      local = { address: plainAddress(bound.address), port: bound.port };
    } catch {
      return; // not bound yet: nothing was sent or received
    }
    const peerIp = plainAddress(peer.address);
    const dhcp = this.#dhcpPorts.has(local.port) || this.#dhcpPorts.has(peer.port) ? peekDhcp(bytes) : null;
    let captures: MachineCapture[];
    if (dhcp !== null) {
      const capture = this.#captures.get(dhcp.mac);
      if (capture === undefined || !capture.running) return;
      for (const address of [dhcp.ciaddr, dhcp.op === 2 ? dhcp.yiaddr : '0.0.0.0']) if (address !== '0.0.0.0') this.#learn(capture.mac, address);
      captures = [capture];
    } else {
      captures = this.#running().filter((c) => c.addresses.has(peerIp));
    }
    if (captures.length === 0) return;
    // A wildcard-bound socket: a client's broadcast went to 255.255.255.255, a reply came from us.
    const serverIp = WILDCARDS.has(local.address) ? (incoming && dhcp !== null && peerIp === '0.0.0.0' ? BROADCAST : this.opts.serverAddress) : local.address;
    const at = micros();
    for (const capture of captures) {
      const machine: Endpoint = { mac: capture.mac, ip: peerIp, port: peer.port };
      const server: Endpoint = { mac: incoming && serverIp === BROADCAST ? BROADCAST_MAC : this.#serverMac, ip: serverIp, port: local.port };
      const toMachine: Endpoint = peerIp === BROADCAST ? { ...machine, mac: BROADCAST_MAC } : machine;
      this.#write(capture, at, incoming ? udpFrame(machine, server, bytes) : udpFrame(server, toMachine, bytes));
    }
  }
}
