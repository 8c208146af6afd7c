// The TFTP server: a read-only RFC 1350 server on one UDP port (69 unless told otherwise).
// Requests arrive here; each accepted read gets its own TransferSession with its own socket.
// A malformed datagram is logged and dropped: nothing a client sends can stop this loop.
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import { assertNever, DecodeError } from '../lib/errors.ts';
import { Histogram } from '../lib/histogram.ts';
import { bindUdp } from '../lib/udp.ts';
import type { FileSource, OpenResult, TftpFileProvider, TftpPeer } from './files.ts';
import { TftpError } from './files.ts';
import type { TransferConfig } from './transfer.ts';
import { DEFAULT_TRANSFER_CONFIG } from './transfer.ts';
import type { SessionEnd } from './transfer-session.ts';
import { TransferSession } from './transfer-session.ts';
import { openTransferSocket, type TransferSocket } from './transfer-socket.ts';
import type { ClientPacket, RequestPacket } from './wire.ts';
import { decodeClientPacket, encodeErrorPacket, ErrorCode } from './wire.ts';

export interface TftpEvent {
  readonly kind: 'tftp-start' | 'tftp-done' | 'tftp-error';
  readonly peer: TftpPeer;
  readonly path: string;
  /** File bytes the client acknowledged (0 for a refused request). */
  readonly bytes: number;
  /** Milliseconds since the request. */
  readonly ms: number;
  /** File size, when the file was opened. */
  readonly size?: number;
  /** tftp-done: the client only read the size (UEFI's probe) and aborted, as planned. */
  readonly probe?: boolean;
  /** tftp-error: the TFTP error code sent or received, when there was one. */
  readonly code?: number;
  readonly message?: string;
}

export interface TftpServerOptions {
  /** Address to bind; default 0.0.0.0. Transfer sockets bind the same address. */
  readonly address?: string;
  /** Default 69; 0 picks a free port (tests). */
  readonly port?: number;
  readonly provider: TftpFileProvider;
  readonly log: Logger;
  readonly onEvent?: (event: TftpEvent) => void;
  /** Transfers at once, each with a socket and a read-ahead buffer; default 512. */
  readonly maxTransfers?: number;
  readonly transfer?: Partial<TransferConfig>;
  /** 'native' (default) when the helper is built, else Node's dgram; 'node' always Node's (tests). */
  readonly transferSockets?: 'native' | 'node';
}

export interface TftpServerStats {
  readonly active: number;
  readonly started: number;
  readonly completed: number;
  readonly probes: number;
  readonly failed: number;
  readonly refused: number;
  readonly malformed: number;
  readonly bytes: number;
  /** Completed transfers (not size probes), read request to last ACK: diskless_tftp_transfer_seconds. */
  readonly transferSeconds: Histogram;
}

/**
 * Upper bounds of diskless_tftp_transfer_seconds: undionly.kpxe (~70 KiB) on a LAN takes tens of
 * milliseconds, ipxe.efi about a second with small blocks, a kernel or initrd over TFTP minutes.
 */
export const TRANSFER_SECONDS_BOUNDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] as const;

export interface TftpServer {
  readonly address: string;
  readonly port: number;
  /** A snapshot of the counters. */
  readonly stats: TftpServerStats;
  close(): Promise<void>;
}

type Counters = { -readonly [K in Exclude<keyof TftpServerStats, 'transferSeconds'>]: TftpServerStats[K] };

export async function startTftpServer(options: TftpServerOptions): Promise<TftpServer> {
  const address = options.address ?? '0.0.0.0';
  const family = isIPv6(address) ? 'udp6' : 'udp4';
  const config: TransferConfig = Object.freeze({ ...DEFAULT_TRANSFER_CONFIG, ...options.transfer });
  const maxTransfers = options.maxTransfers ?? 512;
  const log = options.log.child({ proto: 'tftp' });
  const counters: Counters = { active: 0, started: 0, completed: 0, probes: 0, failed: 0, refused: 0, malformed: 0, bytes: 0 };
  const transferSeconds = new Histogram(TRANSFER_SECONDS_BOUNDS);
  /** Live transfers by peer "address|port", 'opening' while the provider works. */
  const sessions = new Map<string, TransferSession | 'opening'>();
  let closing = false;

  const socket = createSocket({ type: family });
  socket.on('error', (err) => log.error({ err }, 'listening socket error'));
  await bindUdp(socket, address, options.port ?? 69);
  const boundPort = socket.address().port;

  const emit = (event: TftpEvent): void => {
    try {
      options.onEvent?.(event);
    } catch (err) {
      log.error({ err }, 'onEvent handler threw');
    }
  };

  const refuse = (peer: TftpPeer, path: string, startedMs: number, error: TftpError): void => {
    counters.refused++;
    if (!closing) socket.send(encodeErrorPacket(error.code, error.message), peer.port, peer.address);
    emit({ kind: 'tftp-error', peer, path, bytes: 0, ms: performance.now() - startedMs, code: error.code, message: error.message });
  };

  const finishSession = (key: string, peer: TftpPeer, path: string, size: number, startedMs: number, end: SessionEnd, plog: Logger): void => {
    sessions.delete(key);
    counters.active--;
    const ms = performance.now() - startedMs;
    const bytes = end.stats.bytes;
    counters.bytes += bytes;
    switch (end.kind) {
      case 'done':
        if (end.outcome === 'size-probe') {
          counters.probes++;
          plog.debug({ size }, 'size probe: client read tsize and aborted');
          emit({ kind: 'tftp-done', peer, path, bytes, ms, size, probe: true });
        } else {
          counters.completed++;
          transferSeconds.observe(ms / 1000);
          const mibPerS = ms > 0 ? bytes / 1048576 / (ms / 1000) : 0;
          plog.info({ bytes, ms: Math.round(ms), mibPerS: Number(mibPerS.toFixed(1)), resent: end.stats.blocksResent, blockSize: end.stats.blockSize, windowSize: end.stats.windowSize }, 'transfer complete');
          emit({ kind: 'tftp-done', peer, path, bytes, ms, size });
        }
        break;
      case 'failed':
      case 'aborted': {
        counters.failed++;
        const code = end.kind === 'failed' ? end.code : null;
        const reason = end.kind === 'failed' ? end.reason : 'aborted';
        plog.warn({ reason, code, message: end.message, bytes }, 'transfer failed');
        emit({ kind: 'tftp-error', peer, path, bytes, ms, size, message: end.message, ...(code === null ? {} : { code }) });
        break;
      }
      default:
        assertNever(end);
    }
  };

  const startSession = async (key: string, peer: TftpPeer, request: RequestPacket, source: FileSource, startedMs: number, plog: Logger): Promise<void> => {
    let session: TransferSession | null = null;
    let tid: TransferSocket;
    try {
      tid = await openTransferSocket(family, address, plog, (bytes, from, port) => session?.onMessage(bytes, from, port), options.transferSockets !== 'node');
    } catch (err) {
      sessions.delete(key);
      counters.active--;
      source.close();
      plog.error({ err }, 'cannot bind a transfer socket');
      refuse(peer, request.filename, startedMs, new TftpError(ErrorCode.NotDefined, 'Server error'));
      return;
    }
    if (closing) {
      sessions.delete(key);
      counters.active--;
      source.close();
      tid.close();
      return;
    }
    session = new TransferSession({
      socket: tid,
      peer,
      source,
      config,
      log: plog,
      onEnd: (end) => finishSession(key, peer, request.filename, source.size, startedMs, end, plog),
    });
    sessions.set(key, session);
    counters.started++;
    emit({ kind: 'tftp-start', peer, path: request.filename, bytes: 0, ms: performance.now() - startedMs, size: source.size });
    session.start(request.options);
  };

  const onReadRequest = async (request: RequestPacket, peer: TftpPeer): Promise<void> => {
    const startedMs = performance.now();
    const key = `${peer.address}|${peer.port}`;
    const plog = log.child({ peer: `${peer.address}:${peer.port}`, path: request.filename });
    if (sessions.has(key)) {
      // The client repeated its RRQ before our answer arrived: the live transfer retransmits.
      plog.debug('duplicate request ignored');
      return;
    }
    // Boot files are binary; netascii would rewrite line ends (RFC 1350) and tsize would lie.
    if (request.mode.toLowerCase() !== 'octet') {
      plog.info({ mode: request.mode }, 'refused: only octet mode');
      refuse(peer, request.filename, startedMs, new TftpError(ErrorCode.IllegalOperation, 'Only octet mode is supported'));
      return;
    }
    if (sessions.size >= maxTransfers) {
      plog.warn({ maxTransfers }, 'refused: too many transfers');
      refuse(peer, request.filename, startedMs, new TftpError(ErrorCode.NotDefined, 'Server busy, try again'));
      return;
    }
    sessions.set(key, 'opening');
    counters.active++;
    let opened: OpenResult;
    try {
      opened = await options.provider.open(request.filename, peer);
    } catch (err) {
      plog.error({ err }, 'file provider threw');
      opened = new TftpError(ErrorCode.NotDefined, 'Server error');
    }
    if (opened instanceof TftpError || closing) {
      sessions.delete(key);
      counters.active--;
      if (opened instanceof TftpError) {
        plog.info({ code: opened.code, message: opened.message }, 'request refused');
        refuse(peer, request.filename, startedMs, opened);
      } else {
        opened.close();
      }
      return;
    }
    await startSession(key, peer, request, opened, startedMs, plog);
  };

  socket.on('message', (msg, rinfo) => {
    if (closing) return;
    const peer: TftpPeer = { address: rinfo.address, port: rinfo.port };
    let packet: ClientPacket;
    try {
      packet = decodeClientPacket(msg);
    } catch (err) {
      counters.malformed++;
      if (!(err instanceof DecodeError)) {
        log.error({ err, hex: msg.toString('hex') }, 'decoder bug: not a DecodeError'); // fuzzing says never
        return;
      }
      log.debug({ peer: `${peer.address}:${peer.port}`, code: err.code, err: err.message }, 'malformed request dropped');
      log.trace({ hex: msg.toString('hex') }, 'malformed request');
      return;
    }
    switch (packet.kind) {
      case 'rrq':
        onReadRequest(packet, peer).catch((err: unknown) => log.error({ err }, 'read request failed'));
        break;
      case 'wrq':
        // This server only reads (the boot files are not the clients' to change).
        log.info({ peer: `${peer.address}:${peer.port}`, path: packet.filename }, 'write request refused');
        refuse(peer, packet.filename, performance.now(), new TftpError(ErrorCode.AccessViolation, 'Server is read-only'));
        break;
      case 'data':
      case 'ack':
      case 'error':
        // Late packets of a finished transfer, or a confused client: nothing to answer.
        log.debug({ peer: `${peer.address}:${peer.port}`, kind: packet.kind }, 'stray packet on the request port');
        break;
      default:
        assertNever(packet);
    }
  });

  log.info({ address, port: boundPort }, 'TFTP server listening');

  return {
    address,
    port: boundPort,
    get stats(): TftpServerStats {
      return { ...counters, transferSeconds: transferSeconds.clone() };
    },
    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      for (const session of sessions.values()) {
        if (session !== 'opening') session.abort(ErrorCode.NotDefined, 'Server shutting down', 'server closed');
      }
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      // Sessions close their sockets on the next turn of the loop.
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
  };
}
