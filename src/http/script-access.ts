// Who may fetch a boot script that carries a machine's iSCSI CHAP secret (http.scriptSecretsTo).
// iPXE must get the secret in its script, it has no other way to learn it; but /boot.ipxe?mac=M
// is reachable by anyone who knows M, and MAC addresses are no secret on a LAN (every ARP
// packet shows them). With 'lease-holder', when this server's DHCP has bound an address to M,
// the script with the secret goes only to a request from that address. Pure.
import { isIPv4 } from 'node:net';

export type ScriptSecretsTo = 'lease-holder' | 'anyone';

export type ScriptAccess =
  | {
      readonly allowed: true;
      /**
       * anyone: the policy; no-secret: the script carries no secret; no-lease: this server has not
       * bound an address to the MAC (DHCP off or proxy, another DHCP server, the lease ended), so
       * there is no address to hold the request to; lease-holder: the request came from the
       * leased address; same-host: the request came from this host itself.
       */
      readonly why: 'anyone' | 'no-secret' | 'no-lease' | 'lease-holder' | 'same-host';
    }
  | { readonly allowed: false; readonly leaseAddress: string; readonly client: string };

export interface ScriptAccessInput {
  readonly policy: ScriptSecretsTo;
  /** Whether the rendered script holds a CHAP secret (one-way or mutual). */
  readonly carriesSecret: boolean;
  /** The address this server's DHCP has bound to the MAC now, or null. */
  readonly leaseAddress: string | null;
  /** The request's peer and our end of its connection, as the socket reports them. */
  readonly remoteAddress: string | undefined;
  readonly localAddress: string | undefined;
}

/** An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d; compare it as a.b.c.d. */
export function plainAddress(address: string | undefined): string {
  const a = address ?? '';
  return a.toLowerCase().startsWith('::ffff:') && isIPv4(a.slice(7)) ? a.slice(7) : a;
}

function isLoopback(address: string): boolean {
  return address === '::1' || (isIPv4(address) && address.startsWith('127.'));
}

export function scriptAccess(input: ScriptAccessInput): ScriptAccess {
  if (input.policy === 'anyone') return { allowed: true, why: 'anyone' };
  if (!input.carriesSecret) return { allowed: true, why: 'no-secret' };
  if (input.leaseAddress === null) return { allowed: true, why: 'no-lease' };
  const client = plainAddress(input.remoteAddress);
  if (client === plainAddress(input.leaseAddress)) return { allowed: true, why: 'lease-holder' };
  // This host itself: loopback, or a connection from one of our addresses to itself (the kernel
  // gives a local connection the address it was made to as its source). Whoever runs commands
  // here is past what this check guards against: a machine on the network asking for another
  // machine's secret. A TCP peer cannot pose as one of our addresses: the handshake's answer
  // would never reach it.
  if (client !== '' && (isLoopback(client) || client === plainAddress(input.localAddress))) return { allowed: true, why: 'same-host' };
  return { allowed: false, leaseAddress: plainAddress(input.leaseAddress), client };
}
