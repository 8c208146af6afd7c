// iSCSI traffic for the packet captures comes from tcpdump: the portal reads its sockets
// straight into its own buffers (iscsi/socket-receive.ts), so diskless has no view of its own
// of what arrives there. tcpdump writes pcap to a pipe (-w -, -U, --immediate-mode) with a BPF
// filter for the portal's port and the machine's addresses; each record is handed on as it
// arrives. It needs CAP_NET_RAW (root, as diskless usually runs for ports 67, 69 and 3260);
// when it is missing or not allowed, the capture says so and goes on without iSCSI.
import { spawn, type ChildProcess } from 'node:child_process';
import { PcapStreamReader, type PcapStreamRecord } from './pcap-stream.ts';

export interface TcpdumpFeedOptions {
  readonly interface: string;
  /** A BPF filter, e.g. "tcp port 3260 and (host 10.0.0.5)". */
  readonly filter: string;
  readonly onRecord: (linkType: number, record: PcapStreamRecord) => void;
  /** tcpdump could not run, or stopped by itself: the reason in words. */
  readonly onProblem: (message: string) => void;
  /** Default 'tcpdump' on the PATH. */
  readonly command?: string;
  /** How long to wait for "listening on" (default 5 s). */
  readonly startTimeoutMs?: number;
}

const STOP_GRACE_MS = 2000;

export class TcpdumpFeed {
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #stopping = false;

  private constructor(child: ChildProcess, exited: Promise<void>) {
    this.#child = child;
    this.#exited = exited;
  }

  /** Starts tcpdump and resolves once it captures, or with null when it cannot (onProblem says why). */
  static start(options: TcpdumpFeedOptions): Promise<TcpdumpFeed | null> {
    const child = spawn(options.command ?? 'tcpdump', ['-i', options.interface, '-U', '-n', '--immediate-mode', '-s', '0', '-w', '-', options.filter], { stdio: ['ignore', 'pipe', 'pipe'] });
    const reader = new PcapStreamReader();
    let stderr = '';
    let listening = false;
    let feed: TcpdumpFeed | null = null;
    return new Promise((resolve) => {
      const settle = (value: TcpdumpFeed | null): void => {
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        options.onProblem(`tcpdump did not start capturing within ${options.startTimeoutMs ?? 5000} ms`);
        child.kill('SIGKILL');
        settle(null);
      }, options.startTimeoutMs ?? 5000);
      child.stdout?.on('data', (chunk: Buffer) => {
        let records: PcapStreamRecord[];
        try {
          records = reader.push(chunk);
        } catch (err) {
          options.onProblem(`tcpdump's output: ${(err as Error).message}`);
          child.kill('SIGKILL');
          return;
        }
        for (const record of records) options.onRecord(reader.linkType ?? 0, record);
      });
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (text: string) => {
        stderr = (stderr + text).slice(-4000);
        if (!listening && /listening on/.test(stderr)) {
          listening = true;
          settle(feed);
        }
      });
      const exited = new Promise<void>((done) => {
        child.once('error', (err: NodeJS.ErrnoException) => {
          options.onProblem(err.code === 'ENOENT' ? 'tcpdump is not installed (apt-get install tcpdump)' : `tcpdump: ${err.message}`);
          settle(null);
          done();
        });
        // 'close', not 'exit': the last packets may still be in the pipe when tcpdump exits.
        child.once('close', (code, signal) => {
          if (feed === null || !feed.#stopping) {
            const last = stderr.trim().split('\n').filter((l) => !/listening on/.test(l)).pop() ?? '';
            options.onProblem(`tcpdump stopped (${signal ?? `exit ${code ?? '?'}`})${last !== '' ? `: ${last}` : ''}`);
          }
          settle(null);
          done();
        });
      });
      feed = new TcpdumpFeed(child, exited);
    });
  }

  /** Stops tcpdump and waits until it has written its last packets. */
  async stop(): Promise<void> {
    if (this.#stopping) return this.#exited;
    this.#stopping = true;
    this.#child.kill('SIGINT');
    const forced = setTimeout(() => this.#child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.#exited;
    clearTimeout(forced);
  }
}
