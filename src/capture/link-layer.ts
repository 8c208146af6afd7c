// tcpdump's frames as Ethernet frames, so one capture file has one link type: Ethernet as is,
// Linux "cooked" captures (`-i any`: LINKTYPE_LINUX_SLL and SLL2) with an Ethernet header made
// from their protocol and direction. A loopback packet seen twice on `any` (sent, then
// received) is kept once. Also which interface to capture on. Pure but for the interface list.
import { networkInterfaces } from 'node:os';
import { macBytes } from './packet-frames.ts';

export const LinkType = { ETHERNET: 1, LINUX_SLL: 113, LINUX_SLL2: 276 } as const;

const PACKET_OUTGOING = 4;
const ARPHRD_LOOPBACK = 772;

export interface FrameSides {
  /** The machine's MAC, for the side the cooked header does not name. */
  readonly machineMac: string;
  readonly serverMac: string;
}

function ethernet(dst: Buffer, src: Buffer, protocol: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(14);
  dst.copy(header, 0);
  src.copy(header, 6);
  header.writeUInt16BE(protocol, 12);
  return Buffer.concat([header, payload]);
}

/** The frame as Ethernet, or null when it is dropped (a loopback duplicate, an unknown link type). */
export function toEthernet(linkType: number, data: Buffer, sides: FrameSides): Buffer | null {
  if (linkType === LinkType.ETHERNET) return data;
  let packetType: number;
  let hardware: number;
  let protocol: number;
  let payload: Buffer;
  if (linkType === LinkType.LINUX_SLL && data.length >= 16) {
    packetType = data.readUInt16BE(0);
    hardware = data.readUInt16BE(2);
    protocol = data.readUInt16BE(14);
    payload = data.subarray(16);
  } else if (linkType === LinkType.LINUX_SLL2 && data.length >= 20) {
    protocol = data.readUInt16BE(0);
    hardware = data.readUInt16BE(8);
    packetType = data[10] ?? 0;
    payload = data.subarray(20);
  } else {
    return null;
  }
  if (hardware === ARPHRD_LOOPBACK && packetType === PACKET_OUTGOING) return null;
  const machine = macBytes(sides.machineMac);
  const server = macBytes(sides.serverMac);
  return packetType === PACKET_OUTGOING ? ethernet(machine, server, protocol, payload) : ethernet(server, machine, protocol, payload);
}

/** The interface holding `address`, or 'any' for a wildcard or an address no interface has. */
export function interfaceOf(address: string): string {
  if (address === '0.0.0.0' || address === '::' || address === '') return 'any';
  for (const [name, list] of Object.entries(networkInterfaces())) {
    if ((list ?? []).some((info) => info.address === address)) return name;
  }
  return 'any';
}
