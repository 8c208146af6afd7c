// Builders for client requests, as the captured clients send them. Test support only: imported
// by *.test.ts files and interop helpers.
import type { DhcpMessage } from './wire/packet.ts';
import type { DhcpOptionEntry } from './wire/options.ts';
import { ipBytes } from './wire/options.ts';
import { DhcpOption } from './wire/option-codes.ts';

export interface RequestSpec {
  readonly type: number;
  readonly mac?: string;
  readonly xid?: number;
  readonly flags?: number;
  readonly ciaddr?: string;
  readonly giaddr?: string;
  readonly requested?: string;
  readonly serverId?: string;
  readonly vendorClass?: string;
  readonly userClass?: string | Buffer;
  readonly arch?: number;
  readonly ipxeOptions?: boolean;
  readonly uuid?: string;
  readonly prl?: readonly number[];
  readonly maxMessageSize?: number;
  readonly extra?: readonly DhcpOptionEntry[];
}

export const PXE_BIOS_VENDOR = 'PXEClient:Arch:00000:UNDI:002001';
export const PXE_EFI64_VENDOR = 'PXEClient:Arch:00007:UNDI:003000';
/** iPXE's option 55 from the captured DISCOVER. */
export const IPXE_PRL = [1, 3, 6, 7, 12, 15, 17, 26, 43, 60, 66, 67, 119, 128, 129, 130, 131, 132, 133, 134, 135, 175, 203];

export function macBytes(mac: string): Buffer {
  return Buffer.concat([Buffer.from(mac.replace(/:/g, ''), 'hex'), Buffer.alloc(10)]);
}

export function buildRequest(spec: RequestSpec): DhcpMessage {
  const options: DhcpOptionEntry[] = [{ code: DhcpOption.MessageType, data: Buffer.from([spec.type]) }];
  const add = (code: number, data: Buffer | undefined): void => {
    if (data !== undefined) options.push({ code, data });
  };
  add(DhcpOption.MaxMessageSize, spec.maxMessageSize === undefined ? undefined : Buffer.from([spec.maxMessageSize >> 8, spec.maxMessageSize & 255]));
  add(DhcpOption.RequestedIpAddress, spec.requested === undefined ? undefined : ipBytes(spec.requested));
  add(DhcpOption.ServerIdentifier, spec.serverId === undefined ? undefined : ipBytes(spec.serverId));
  add(DhcpOption.ClientSystemArchitecture, spec.arch === undefined ? undefined : Buffer.from([spec.arch >> 8, spec.arch & 255]));
  add(DhcpOption.VendorClassIdentifier, spec.vendorClass === undefined ? undefined : Buffer.from(spec.vendorClass));
  add(DhcpOption.UserClass, spec.userClass === undefined ? undefined : Buffer.from(spec.userClass));
  add(DhcpOption.ParameterRequestList, spec.prl === undefined ? undefined : Buffer.from(spec.prl));
  add(DhcpOption.Ipxe, spec.ipxeOptions === true ? Buffer.from('eb03010000', 'hex') : undefined);
  add(DhcpOption.ClientMachineId, spec.uuid === undefined ? undefined : Buffer.concat([Buffer.from([0]), Buffer.from(spec.uuid, 'hex')]));
  options.push(...(spec.extra ?? []));
  return {
    op: 1, htype: 1, hlen: 6, hops: 0, xid: spec.xid ?? 0x1234, secs: 0, flags: spec.flags ?? 0,
    ciaddr: spec.ciaddr ?? '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: spec.giaddr ?? '0.0.0.0',
    chaddr: macBytes(spec.mac ?? '52:54:00:00:00:01'), sname: '', file: '', options,
  };
}
