// Every step of every machine's boot, with time and outcome (issue 4's timeline): DHCP, TFTP,
// the script fetch, iSCSI login and logout, the first read of LBA 0, and the warnings the server
// raises from that traffic (src/doctor/live-warnings.ts). Kept in memory per MAC
// (a bounded ring, pixiecore's machineEvent) and streamed live to subscribers.

export type BootEventKind =
  | 'dhcp-discover'
  | 'dhcp-offer'
  | 'dhcp-request'
  | 'dhcp-ack'
  | 'dhcp-nak'
  | 'dhcp-other'
  | 'tftp'
  | 'script'
  | 'iscsi-login'
  | 'iscsi-login-failed'
  | 'iscsi-first-read'
  | 'iscsi-logout'
  /** A discard-on-reboot disk went back to its image as the machine started booting. */
  | 'disk-reset'
  /**
   * Something in the live traffic that stops or endangers a boot (src/doctor/warning-rules.ts):
   * detail.code names the rule, outcome is the text, detail.fix what to do.
   */
  | 'warning';

export interface BootEvent {
  /** Milliseconds since the epoch. */
  readonly at: number;
  /** Lower-case colon MAC, or null when the step could not be tied to a machine yet. */
  readonly mac: string | null;
  readonly ip: string | null;
  readonly kind: BootEventKind;
  /** 'ok', or what went wrong in words. */
  readonly outcome: string;
  readonly detail: Readonly<Record<string, string | number | boolean | null>>;
}

export type BootEventInput = Omit<BootEvent, 'at' | 'mac'> & { readonly at?: number; readonly mac?: string | null };

export class BootEventLog {
  readonly #byMac = new Map<string, BootEvent[]>();
  readonly #unattributed: BootEvent[] = [];
  /** Which machine holds an address, learnt from events that carry both (DHCP, script). */
  readonly #macByIp = new Map<string, string>();
  readonly #listeners = new Set<(event: BootEvent) => void>();

  constructor(private readonly perMachine = 200) {}

  record(input: BootEventInput): BootEvent {
    const mac = input.mac ?? (input.ip !== null ? (this.#macByIp.get(input.ip) ?? null) : null);
    if (mac !== null && input.ip !== null) this.#macByIp.set(input.ip, mac);
    const event: BootEvent = { ...input, at: input.at ?? Date.now(), mac };
    const ring = mac === null ? this.#unattributed : this.#ring(mac);
    ring.push(event);
    if (ring.length > this.perMachine) ring.splice(0, ring.length - this.perMachine);
    for (const listener of this.#listeners) listener(event);
    return event;
  }

  #ring(mac: string): BootEvent[] {
    let ring = this.#byMac.get(mac);
    if (ring === undefined) {
      ring = [];
      this.#byMac.set(mac, ring);
    }
    return ring;
  }

  /** Whether this MAC has any event (it has booted from this server before). */
  knows(mac: string): boolean {
    return this.#byMac.has(mac);
  }

  macForIp(ip: string): string | null {
    return this.#macByIp.get(ip) ?? null;
  }

  /** The addresses this machine was last seen at (each address belongs to its latest holder). */
  addressesOf(mac: string): string[] {
    return [...this.#macByIp].filter(([, holder]) => holder === mac).map(([ip]) => ip);
  }

  /** Events of one machine (or all), oldest first, optionally only after `since`. */
  list(filter: { mac?: string; since?: number } = {}): BootEvent[] {
    const rings = filter.mac !== undefined ? [this.#byMac.get(filter.mac) ?? []] : [...this.#byMac.values(), this.#unattributed];
    const since = filter.since ?? -Infinity;
    return rings
      .flat()
      .filter((e) => e.at > since)
      .sort((a, b) => a.at - b.at);
  }

  /** Puts back events kept from an earlier run (oldest first), without telling subscribers. */
  restore(past: readonly BootEvent[]): void {
    for (const event of past) {
      const ring = event.mac === null ? this.#unattributed : this.#ring(event.mac);
      ring.push(event);
      if (ring.length > this.perMachine) ring.splice(0, ring.length - this.perMachine);
    }
  }

  subscribe(listener: (event: BootEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
