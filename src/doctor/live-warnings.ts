// The warnings the server raises by itself from live traffic (issue 7). Feeds the pure watch
// (warning-watch.ts) with every boot event, what the SCSI observer sees, and a tick a second; each warning it returns becomes a log line (pino warn), a boot event of kind
// 'warning' on the machine's timeline (so the console shows it live, and the store keeps it),
// and an entry in the recent list GET /api/warnings answers with.
import type { Logger } from 'pino';
import type { BootEventLog } from '../events/boot-events.ts';
import type { ScsiObservation } from './scsi-observer.ts';
import { WarningWatch, text, type WatchOptions } from './warning-watch.ts';
import type { LiveWarning, Observation, WarningContext } from './warning-types.ts';
import { MUTUAL_CHAP_HANGUP } from '../iscsi/connection.ts';

export interface LiveWarningsOptions {
  readonly events: BootEventLog;
  readonly context: WarningContext;
  readonly log: Logger;
  /** The SCSI observer (main.ts's ObservedTargetDirectory); absent: no LUN, LBA 0 or write rules. */
  readonly scsi?: { subscribe(listener: (observation: ScsiObservation) => void): () => void };
  readonly watch?: WatchOptions;
  /** How many recent warnings GET /api/warnings can return (default 500). */
  readonly keep?: number;
  readonly tickMs?: number;
}

export interface WarningFilter {
  readonly mac?: string;
  /** Only warnings after this time (ms since the epoch). */
  readonly since?: number;
}

export class LiveWarnings {
  readonly #watch: WarningWatch;
  readonly #recent: LiveWarning[] = [];
  readonly #stops: Array<() => void> = [];
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly opts: LiveWarningsOptions) {
    this.#watch = new WarningWatch(opts.watch);
    this.#stops.push(
      opts.events.subscribe((event) => {
        // The portal's words for an initiator that hung up on our mutual CHAP answer
        // (iscsi/connection.ts): a hang-up, not a refusal of ours.
        if (event.kind === 'iscsi-login-failed' && event.ip !== null && event.outcome.startsWith(MUTUAL_CHAP_HANGUP)) {
          this.observe({ kind: 'login-hangup', at: event.at, ip: event.ip, initiator: text(event.detail.initiator), target: text(event.detail.target) });
          return;
        }
        this.observe({ kind: 'boot-event', event });
      }),
    );
    if (opts.scsi !== undefined) this.#stops.push(opts.scsi.subscribe((observation) => this.observe(observation)));
    this.#timer = setInterval(() => this.observe({ kind: 'tick', at: Date.now() }), opts.tickMs ?? 1000);
    this.#timer.unref();
  }

  observe(observation: Observation): void {
    let warnings: LiveWarning[];
    try {
      warnings = this.#watch.feed(observation, this.opts.context);
    } catch (err) {
      // A rule's bug must never take a protocol server's callback down with it.
      this.opts.log.error({ err, observation: observation.kind }, 'a warning rule failed');
      return;
    }
    for (const warning of warnings) this.#raise(warning);
  }

  #raise(warning: LiveWarning): void {
    const { text, ...fields } = warning;
    this.opts.log.warn(fields, text);
    this.#recent.push(warning);
    const keep = this.opts.keep ?? 500;
    if (this.#recent.length > keep) this.#recent.splice(0, this.#recent.length - keep);
    this.opts.events.record({
      at: warning.at,
      mac: warning.mac,
      ip: warning.ip,
      kind: 'warning',
      outcome: text,
      detail: { code: warning.code, fix: warning.fix, ipxeError: warning.ipxeError, initiator: warning.initiator, target: warning.target, lun: warning.lun },
    });
  }

  /** Recent warnings, oldest first. */
  list(filter: WarningFilter = {}): LiveWarning[] {
    return this.#recent.filter((w) => (filter.mac === undefined || w.mac === filter.mac) && (filter.since === undefined || w.at > filter.since));
  }

  close(): void {
    clearInterval(this.#timer);
    for (const stop of this.#stops.splice(0)) stop();
  }
}
