// Two network namespaces joined by a veth pair, created by the benchmark and deleted at the end
// (also after a failure or Ctrl-C). Nothing here touches the host's own interfaces.
import { execFileSync } from 'node:child_process';
import { onCleanup } from './harness.ts';

export interface NamespacePair {
  readonly serverNs: string;
  readonly clientNs: string;
  readonly serverIf: string;
  readonly clientIf: string;
  /** Runs a command inside a namespace: `['ip', 'netns', 'exec', ns, ...command]`. */
  exec(ns: string, command: readonly string[]): [string, string[]];
  destroy(): void;
}

export interface NamespacePlan {
  readonly serverNs: string;
  readonly clientNs: string;
  readonly serverIf: string;
  readonly clientIf: string;
  /** CIDR, e.g. 10.252.0.1/16. */
  readonly serverAddress: string;
  readonly clientAddress: string;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function deleteNamespace(ns: string): void {
  try {
    ip('netns', 'del', ns);
  } catch {
    // not there
  }
}

export function createNamespacePair(plan: NamespacePlan): NamespacePair {
  // Left over from an interrupted run: start clean.
  deleteNamespace(plan.serverNs);
  deleteNamespace(plan.clientNs);
  const destroy = onCleanup(() => {
    deleteNamespace(plan.serverNs); // takes its end of the veth pair, and so the pair, with it
    deleteNamespace(plan.clientNs);
  });
  try {
    ip('netns', 'add', plan.serverNs);
    ip('netns', 'add', plan.clientNs);
    ip('link', 'add', plan.serverIf, 'netns', plan.serverNs, 'type', 'veth', 'peer', 'name', plan.clientIf, 'netns', plan.clientNs);
    for (const [ns, dev, address] of [
      [plan.serverNs, plan.serverIf, plan.serverAddress],
      [plan.clientNs, plan.clientIf, plan.clientAddress],
    ] as const) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'addr', 'add', address, 'dev', dev);
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
  } catch (err) {
    destroy();
    throw err;
  }
  return {
    serverNs: plan.serverNs,
    clientNs: plan.clientNs,
    serverIf: plan.serverIf,
    clientIf: plan.clientIf,
    exec: (ns, command) => ['ip', ['netns', 'exec', ns, ...command]],
    destroy,
  };
}

/** True when something in `ns` listens on UDP `port` (ss from iproute2). */
export function udpListening(ns: string, port: number): boolean {
  try {
    const out = execFileSync('ip', ['netns', 'exec', ns, 'ss', '-Hlun', `sport = :${port}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out.trim() !== '';
  } catch {
    return false;
  }
}

/**
 * UDP datagrams the kernel dropped in `ns` because a socket's receive buffer was full
 * (/proc/net/snmp Udp RcvbufErrors, counted per namespace since it was made).
 */
export function udpReceiveBufferDrops(ns: string): number {
  const snmp = execFileSync('ip', ['netns', 'exec', ns, 'cat', '/proc/net/snmp'], { encoding: 'utf8' });
  const udp = snmp.split('\n').filter((line) => line.startsWith('Udp: '));
  const names = (udp[0] ?? '').split(/\s+/);
  const values = (udp[1] ?? '').split(/\s+/);
  const at = names.indexOf('RcvbufErrors');
  if (at < 0) throw new Error(`no Udp RcvbufErrors in ${ns}'s /proc/net/snmp`);
  return Number(values[at]);
}
