// With DHCP off, diskless prints what to paste into the DHCP server the network already has.
// Each snippet does what diskless's own DHCP would: PXE ROMs get iPXE over TFTP (BIOS or UEFI
// by option 93), iPXE gets its script over HTTP, so the chainload cannot loop.
import { hostForUrl } from './inventory.ts';

export interface SnippetInput {
  /** This server's address on the clients' network. */
  readonly server: string;
  readonly httpPort: number;
}

export function renderDhcpSnippets(input: SnippetInput): string {
  const script = `http://${hostForUrl(input.server)}:${input.httpPort}/boot.ipxe`;
  const s = input.server;
  return [
    'dnsmasq (dnsmasq.conf):',
    '  dhcp-userclass=set:ipxe,iPXE',
    '  dhcp-match=set:efi64,option:client-arch,7',
    '  dhcp-match=set:efi64,option:client-arch,9',
    `  dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi,,${s}`,
    `  dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe,,${s}`,
    `  dhcp-boot=tag:ipxe,${script}`,
    '  dhcp-option=tag:ipxe,encap:175,176,1b   # iPXE: no ProxyDHCP wait',
    '',
    'ISC dhcpd (dhcpd.conf):',
    '  option client-arch code 93 = unsigned integer 16;',
    `  next-server ${s};`,
    '  if exists user-class and option user-class = "iPXE" {',
    `    filename "${script}";`,
    '  } elsif option client-arch = 7 or option client-arch = 9 {',
    '    filename "ipxe.efi";',
    '  } else {',
    '    filename "undionly.kpxe";',
    '  }',
    '',
    'Kea (kea-dhcp4.conf, inside "Dhcp4"):',
    '  "client-classes": [',
    `    { "name": "ipxe", "test": "substring(option[77].hex,0,4) == 'iPXE'", "boot-file-name": "${script}" },`,
    `    { "name": "efi64", "test": "not member('ipxe') and (option[93].hex == 0x0007 or option[93].hex == 0x0009)", "next-server": "${s}", "boot-file-name": "ipxe.efi" },`,
    `    { "name": "bios", "test": "not member('ipxe') and option[93].hex == 0x0000", "next-server": "${s}", "boot-file-name": "undionly.kpxe" }`,
    '  ]',
    '',
    'A home router that only has "TFTP server" and "boot file" fields:',
    `  TFTP server / next-server: ${s}    boot file: undionly.kpxe`,
    `  (iPXE then asks again as "iPXE"; if the router cannot tell it apart, run diskless with --dhcp proxy instead)`,
    '',
  ].join('\n');
}
