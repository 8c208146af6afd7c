// TFTP packets captured from real firmware, as UDP payload hex. Source: QEMU 7.2 user-mode
// networking (its built-in TFTP server answered) with `-object filter-dump` writing a pcap:
//   iPXE:  qemu-system-x86_64 -boot n -device e1000 (Debian ipxe-qemu 1.0.0+git-20190125 ROM)
//   OVMF:  qemu-system-x86_64 -machine q35 with OVMF_CODE_4M.fd (Debian ovmf 2022.11),
//          -device virtio-net-pci,romfile= so that EDK2's own PXE stack ran
// The file was 1024 bytes. The OVMF capture shows the UEFI size probe: an RRQ with tsize,
// the OACK, then ERROR 8 "User aborted the transfer", then the real RRQ from the next port.

export const CAPTURED = {
  /** iPXE's RRQ: blksize 1432 (its MTU-derived choice) and tsize 0. */
  ipxeRrq: '00016b2e62696e006f6374657400626c6b73697a650031343332007473697a65003000',
  ipxeAck0: '00040000',
  ipxeAck1: '00040001',
  /** EDK2 Mtftp4 GetInfo: tsize first, then blksize 1468 and windowsize 4 (RFC 7440). */
  ovmfProbeRrq: '00016b2e62696e006f63746574007473697a65003000626c6b73697a6500313436380077696e646f7773697a65003400',
  ovmfProbeAbort: '00050008557365722061626f7274656420746865207472616e7366657200',
  ovmfRrq: '00016b2e62696e006f6374657400626c6b73697a6500313436380077696e646f7773697a65003400',
  ovmfAck0: '00040000',
  /** QEMU's (slirp's) OACK to the probe: it answers blksize 1428 and ignores windowsize. */
  slirpOack: '00067473697a65003130323400626c6b73697a65003134323800',
} as const;
