// Prometheus text exposition (version 0.0.4) of what the services count: iSCSI sessions,
// traffic and command latency per target, DHCP messages and reply latency, TFTP transfers and
// their durations, boot events.
import type { Histogram } from '../lib/histogram.ts';

export interface IscsiTargetMetrics {
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly commands: number;
  readonly sessions: number;
  /** Command latency by operation class (iscsi/server.ts targetTotals). */
  readonly commandSeconds?: { readonly read: Histogram; readonly write: Histogram; readonly other: Histogram };
}

export interface MetricsSource {
  readonly iscsiTargets: () => ReadonlyMap<string, IscsiTargetMetrics>;
  readonly dhcp?: () => {
    received: number;
    malformed: number;
    replies: number;
    ignored: number;
    /** DISCOVERs dropped by admission control (absent from older callers). */
    shed?: number;
    errors: number;
    byType: Record<string, number>;
    /** Request to reply sent, by reply message type. */
    replySeconds?: Readonly<Record<string, Histogram>>;
  };
  readonly tftp?: () => {
    active: number;
    started: number;
    completed: number;
    failed: number;
    refused: number;
    malformed: number;
    bytes: number;
    /** Read request to the last acknowledgement, completed transfers. */
    transferSeconds?: Histogram;
  };
}

type Labels = Readonly<Record<string, string>>;
type Sample = readonly [labels: Labels, value: number];

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value: Go's float syntax, so +Inf and -Inf rather than JavaScript's Infinity. */
function formatValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return Number.isNaN(value) ? 'NaN' : String(value);
}

function labelText(labels: Labels): string {
  const text = Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',');
  return text !== '' ? `{${text}}` : '';
}

function family(name: string, type: 'gauge' | 'counter', help: string, samples: readonly Sample[]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [labels, value] of samples) lines.push(`${name}${labelText(labels)} ${formatValue(value)}`);
  return lines.join('\n');
}

/** A histogram family: cumulative `_bucket` series with `le` (ending at +Inf), `_sum`, `_count`. */
function histogramFamily(name: string, help: string, series: ReadonlyArray<readonly [labels: Labels, histogram: Histogram]>): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
  for (const [labels, histogram] of series) {
    const cumulative = histogram.cumulative();
    cumulative.forEach((count, i) => {
      const bound = histogram.bounds[i];
      lines.push(`${name}_bucket${labelText({ ...labels, le: bound === undefined ? '+Inf' : formatValue(bound) })} ${formatValue(count)}`);
    });
    lines.push(`${name}_sum${labelText(labels)} ${formatValue(histogram.sum)}`);
    lines.push(`${name}_count${labelText(labels)} ${formatValue(histogram.count)}`);
  }
  return lines.join('\n');
}

export function renderMetrics(source: MetricsSource): string {
  const targets = [...source.iscsiTargets()];
  const per = (pick: (t: IscsiTargetMetrics) => number): Sample[] => targets.map(([target, t]) => [{ target }, pick(t)] as const);
  const latency: Array<readonly [Labels, Histogram]> = [];
  for (const [target, t] of targets) {
    const c = t.commandSeconds;
    if (c !== undefined) latency.push([{ target, op: 'read' }, c.read], [{ target, op: 'write' }, c.write], [{ target, op: 'other' }, c.other]);
  }
  const parts = [
    family('diskless_iscsi_sessions', 'gauge', 'Live iSCSI sessions per target.', per((t) => t.sessions)),
    family('diskless_iscsi_read_bytes_total', 'counter', 'Bytes initiators read, per target.', per((t) => t.bytesRead)),
    family('diskless_iscsi_written_bytes_total', 'counter', 'Bytes initiators wrote, per target.', per((t) => t.bytesWritten)),
    family('diskless_iscsi_commands_total', 'counter', 'SCSI commands, per target.', per((t) => t.commands)),
    histogramFamily(
      'diskless_iscsi_command_seconds',
      'SCSI command latency per target and operation (read, write, other), from admission to the last response PDU queued for sending.',
      latency,
    ),
  ];
  const dhcp = source.dhcp?.();
  if (dhcp !== undefined) {
    parts.push(
      family('diskless_dhcp_received_total', 'counter', 'DHCP datagrams received.', [[{}, dhcp.received]]),
      family('diskless_dhcp_malformed_total', 'counter', 'DHCP datagrams that did not decode.', [[{}, dhcp.malformed]]),
      family('diskless_dhcp_replies_total', 'counter', 'DHCP replies sent.', [[{}, dhcp.replies]]),
      family('diskless_dhcp_ignored_total', 'counter', 'DHCP requests not answered.', [[{}, dhcp.ignored]]),
      family('diskless_dhcp_shed_total', 'counter', 'DHCPDISCOVERs dropped unread while the server was behind (clients retry).', [[{}, dhcp.shed ?? 0]]),
      family('diskless_dhcp_messages_total', 'counter', 'DHCP requests by message type.', Object.entries(dhcp.byType).map(([type, n]) => [{ type }, n] as const)),
    );
    if (dhcp.replySeconds !== undefined) {
      const series = Object.entries(dhcp.replySeconds).map(([reply, h]) => [{ reply }, h] as const);
      parts.push(histogramFamily('diskless_dhcp_reply_seconds', 'DHCP request received to reply sent (an ACK waits for its lease on disk), by reply type.', series));
    }
  }
  const tftp = source.tftp?.();
  if (tftp !== undefined) {
    parts.push(
      family('diskless_tftp_transfers_active', 'gauge', 'TFTP transfers in progress.', [[{}, tftp.active]]),
      family('diskless_tftp_transfers_total', 'counter', 'TFTP transfers by outcome.', [
        [{ outcome: 'completed' }, tftp.completed],
        [{ outcome: 'failed' }, tftp.failed],
        [{ outcome: 'refused' }, tftp.refused],
      ]),
      family('diskless_tftp_sent_bytes_total', 'counter', 'File bytes acknowledged by TFTP clients.', [[{}, tftp.bytes]]),
    );
    if (tftp.transferSeconds !== undefined) {
      parts.push(histogramFamily('diskless_tftp_transfer_seconds', 'Completed TFTP transfers, from the read request to the last acknowledgement.', [[{}, tftp.transferSeconds]]));
    }
  }
  return parts.join('\n') + '\n';
}
