// The boot timeline survives a restart: every event tied to a machine is also appended to the
// store (batched per event-loop burst by the store), and the recent ones are read back at
// start. The live log keeps the words of each outcome; the store keeps ok/failed/info plus
// those words in detail.outcome, so the console shows the same text after a restart.
import type { Logger } from 'pino';
import type { BootEventLog as StoreEvents, BootOutcome } from '../store/repositories/events.ts';
import type { BootEvent, BootEventKind, BootEventLog } from './boot-events.ts';

const KINDS: ReadonlySet<string> = new Set<BootEventKind>([
  'dhcp-discover',
  'dhcp-offer',
  'dhcp-request',
  'dhcp-ack',
  'dhcp-nak',
  'dhcp-other',
  'tftp',
  'script',
  'iscsi-login',
  'iscsi-login-failed',
  'iscsi-first-read',
  'iscsi-logout',
  'disk-reset',
  'warning',
]);

function storedOutcome(event: BootEvent): BootOutcome {
  if (event.outcome === 'ok' || event.outcome === 'served') return 'ok';
  if (event.kind === 'iscsi-login-failed' || event.kind === 'dhcp-nak' || event.kind === 'script' || event.kind === 'tftp') return 'failed';
  return 'info';
}

type Detail = BootEvent['detail'];

function plainDetail(detail: Readonly<Record<string, unknown>>): Detail {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [key, value] of Object.entries(detail)) {
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = value;
  }
  return out;
}

/** Reads back up to `limit` recent events into the live log, then mirrors new ones to the store. */
export async function persistBootEvents(live: BootEventLog, stored: StoreEvents, log: Logger, options: { sinceMs: number; limit: number }): Promise<() => void> {
  const past = await stored.list({ sinceMs: options.sinceMs, limit: options.limit });
  live.restore(
    past
      .filter((e) => KINDS.has(e.kind))
      .map((e) => {
        const { outcome, ip, ...rest } = e.detail;
        return {
          at: e.atMs,
          mac: e.mac,
          ip: typeof ip === 'string' ? ip : null,
          kind: e.kind as BootEventKind,
          outcome: typeof outcome === 'string' ? outcome : e.outcome,
          detail: plainDetail(rest),
        };
      }),
  );
  let warned = false;
  return live.subscribe((event) => {
    if (event.mac === null) return;
    stored.appendTrusted({ mac: event.mac, atMs: event.at, kind: event.kind, outcome: storedOutcome(event), detail: { ...event.detail, ip: event.ip, outcome: event.outcome } }).catch((err: unknown) => {
      // The live timeline goes on; say it once rather than once per event.
      if (!warned) log.warn({ err }, 'boot events are not being saved to the store');
      warned = true;
    });
  });
}
