// Prometheus text exposition (version 0.0.4) of what the services count: iSCSI sessions and
// traffic per target, DHCP messages, TFTP transfers, boot events.

export interface MetricsSource {
  readonly iscsiTargets: () => ReadonlyMap<string, { bytesRead: number; bytesWritten: number; commands: number; sessions: number }>;
  readonly dhcp?: () => { received: number; malformed: number; replies: number; ignored: number; errors: number; byType: Record<string, number> };
  readonly tftp?: () => { active: number; started: number; completed: number; failed: number; refused: number; malformed: number; bytes: number };
}

type Sample = readonly [labels: Record<string, string>, value: number];

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function family(name: string, type: 'gauge' | 'counter', help: string, samples: readonly Sample[]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [labels, value] of samples) {
    const text = Object.entries(labels)
      .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
      .join(',');
    lines.push(`${name}${text !== '' ? `{${text}}` : ''} ${value}`);
  }
  return lines.join('\n');
}

export function renderMetrics(source: MetricsSource): string {
  const targets = [...source.iscsiTargets()];
  const per = (pick: (t: { bytesRead: number; bytesWritten: number; commands: number; sessions: number }) => number): Sample[] =>
    targets.map(([target, t]) => [{ target }, pick(t)] as const);
  const parts = [
    family('diskless_iscsi_sessions', 'gauge', 'Live iSCSI sessions per target.', per((t) => t.sessions)),
    family('diskless_iscsi_read_bytes_total', 'counter', 'Bytes initiators read, per target.', per((t) => t.bytesRead)),
    family('diskless_iscsi_written_bytes_total', 'counter', 'Bytes initiators wrote, per target.', per((t) => t.bytesWritten)),
    family('diskless_iscsi_commands_total', 'counter', 'SCSI commands, per target.', per((t) => t.commands)),
  ];
  const dhcp = source.dhcp?.();
  if (dhcp !== undefined) {
    parts.push(
      family('diskless_dhcp_received_total', 'counter', 'DHCP datagrams received.', [[{}, dhcp.received]]),
      family('diskless_dhcp_malformed_total', 'counter', 'DHCP datagrams that did not decode.', [[{}, dhcp.malformed]]),
      family('diskless_dhcp_replies_total', 'counter', 'DHCP replies sent.', [[{}, dhcp.replies]]),
      family('diskless_dhcp_ignored_total', 'counter', 'DHCP requests not answered.', [[{}, dhcp.ignored]]),
      family('diskless_dhcp_messages_total', 'counter', 'DHCP requests by message type.', Object.entries(dhcp.byType).map(([type, n]) => [{ type }, n] as const)),
    );
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
  }
  return parts.join('\n') + '\n';
}
