// The parts of an iPXE error code, as data. iPXE (src/include/errno.h) packs every failure into
// 32 bits: bits 30-24 a POSIX-like error (iPXE's own numbering, not Linux's), bits 23-13 the
// source file (src/include/ipxe/errfile.h, arch/x86/include/bits/errfile.h), bits 12-8 a
// per-file disambiguator, bits 7-0 the platform's closest status (a PXENV_STATUS in BIOS
// builds, an EFI_STATUS in UEFI builds). Bit 31 is unused: codes are returned negated.

export interface PosixError {
  readonly name: string;
  /** What iPXE's strerror() prints. */
  readonly text: string;
  /** The PXENV_STATUS a BIOS build puts in bits 7-0 for this error (errno.h). */
  readonly pxeStatus: number;
}

/** iPXE's POSIX error numbers (errno.h, "posixerrors"): value → name, text, default PXE status. */
export const POSIX_ERRORS: Readonly<Record<number, PosixError>> = {
  0x01: { name: 'E2BIG', text: 'Argument list too long', pxeStatus: 0x02 },
  0x02: { name: 'EACCES', text: 'Permission denied', pxeStatus: 0x3c },
  0x03: { name: 'EADDRINUSE', text: 'Address already in use', pxeStatus: 0x19 },
  0x04: { name: 'EADDRNOTAVAIL', text: 'Address not available', pxeStatus: 0x19 },
  0x05: { name: 'EAFNOSUPPORT', text: 'Address family not supported', pxeStatus: 0x03 },
  0x06: { name: 'EAGAIN', text: 'Resource temporarily unavailable', pxeStatus: 0x01 },
  0x07: { name: 'EALREADY', text: 'Connection already in progress', pxeStatus: 0x19 },
  0x08: { name: 'EBADF', text: 'Bad file descriptor', pxeStatus: 0x1a },
  0x09: { name: 'EBADMSG', text: 'Bad message', pxeStatus: 0x01 },
  0x0a: { name: 'EBUSY', text: 'Device or resource busy', pxeStatus: 0x06 },
  0x0b: { name: 'ECANCELED', text: 'Operation canceled', pxeStatus: 0xa0 },
  0x0c: { name: 'ECHILD', text: 'No child processes', pxeStatus: 0x3b },
  0x0d: { name: 'ECONNABORTED', text: 'Connection aborted', pxeStatus: 0x39 },
  0x0e: { name: 'ECONNREFUSED', text: 'Connection refused', pxeStatus: 0x38 },
  0x0f: { name: 'ECONNRESET', text: 'Connection reset', pxeStatus: 0x39 },
  0x10: { name: 'EDEADLK', text: 'Resource deadlock avoided', pxeStatus: 0x01 },
  0x11: { name: 'EDESTADDRREQ', text: 'Destination address required', pxeStatus: 0x02 },
  0x12: { name: 'EDOM', text: 'Domain error', pxeStatus: 0x01 },
  0x13: { name: 'EDQUOT', text: 'Disk quota exceeded', pxeStatus: 0x01 },
  0x14: { name: 'EEXIST', text: 'File exists', pxeStatus: 0x01 },
  0x15: { name: 'EFAULT', text: 'Bad address', pxeStatus: 0x20 },
  0x16: { name: 'EFBIG', text: 'File too large', pxeStatus: 0x20 },
  0x17: { name: 'EHOSTUNREACH', text: 'Host is unreachable', pxeStatus: 0x11 },
  0x18: { name: 'EIDRM', text: 'Identifier removed', pxeStatus: 0x01 },
  0x19: { name: 'EILSEQ', text: 'Illegal byte sequence', pxeStatus: 0x01 },
  0x1a: { name: 'EINPROGRESS', text: 'Operation in progress', pxeStatus: 0x01 },
  0x1b: { name: 'EINTR', text: 'Interrupted function call', pxeStatus: 0x01 },
  0x1c: { name: 'EINVAL', text: 'Invalid argument', pxeStatus: 0x02 },
  0x1d: { name: 'EIO', text: 'Input/output error', pxeStatus: 0x39 },
  0x1e: { name: 'EISCONN', text: 'Socket is connected', pxeStatus: 0x19 },
  0x1f: { name: 'EISDIR', text: 'Is a directory', pxeStatus: 0x01 },
  0x20: { name: 'ELOOP', text: 'Too many levels of symbolic links', pxeStatus: 0x01 },
  0x21: { name: 'EMFILE', text: 'Too many open files', pxeStatus: 0x06 },
  0x22: { name: 'EMLINK', text: 'Too many links', pxeStatus: 0x01 },
  0x23: { name: 'EMSGSIZE', text: 'Message too long', pxeStatus: 0x02 },
  0x24: { name: 'EMULTIHOP', text: 'Multihop attempted', pxeStatus: 0x01 },
  0x25: { name: 'ENAMETOOLONG', text: 'Filename too long', pxeStatus: 0x01 },
  0x26: { name: 'ENETDOWN', text: 'Network is down', pxeStatus: 0x11 },
  0x27: { name: 'ENETRESET', text: 'Connection aborted by network', pxeStatus: 0x01 },
  0x28: { name: 'ENETUNREACH', text: 'Network unreachable', pxeStatus: 0x11 },
  0x29: { name: 'ENFILE', text: 'Too many open files in system', pxeStatus: 0x06 },
  0x2a: { name: 'ENOBUFS', text: 'No buffer space available', pxeStatus: 0x06 },
  0x2b: { name: 'ENODATA', text: 'No data available', pxeStatus: 0x01 },
  0x2c: { name: 'ENODEV', text: 'No such device', pxeStatus: 0x3b },
  0x2d: { name: 'ENOENT', text: 'No such file or directory', pxeStatus: 0x3b },
  0x2e: { name: 'ENOEXEC', text: 'Exec format error', pxeStatus: 0x01 },
  0x2f: { name: 'ENOLCK', text: 'No locks available', pxeStatus: 0x01 },
  0x30: { name: 'ENOLINK', text: 'Link has been severed', pxeStatus: 0x01 },
  0x31: { name: 'ENOMEM', text: 'Not enough space', pxeStatus: 0x06 },
  0x32: { name: 'ENOMSG', text: 'No message of the desired type', pxeStatus: 0x01 },
  0x33: { name: 'ENOPROTOOPT', text: 'Protocol not available', pxeStatus: 0x03 },
  0x34: { name: 'ENOSPC', text: 'No space left on device', pxeStatus: 0x06 },
  0x35: { name: 'ENOSR', text: 'No stream resources', pxeStatus: 0x06 },
  0x36: { name: 'ENOSTR', text: 'Not a stream', pxeStatus: 0x01 },
  0x37: { name: 'ENOSYS', text: 'Function not implemented', pxeStatus: 0x03 },
  0x38: { name: 'ENOTCONN', text: 'The socket is not connected', pxeStatus: 0x01 },
  0x39: { name: 'ENOTDIR', text: 'Not a directory', pxeStatus: 0x01 },
  0x3a: { name: 'ENOTEMPTY', text: 'Directory not empty', pxeStatus: 0x01 },
  0x3b: { name: 'ENOTSOCK', text: 'Not a socket', pxeStatus: 0x01 },
  0x3c: { name: 'ENOTSUP', text: 'Operation not supported', pxeStatus: 0x03 },
  0x3d: { name: 'ENOTTY', text: 'Inappropriate I/O control operation', pxeStatus: 0x01 },
  0x3e: { name: 'ENXIO', text: 'No such device or address', pxeStatus: 0x3b },
  0x3f: { name: 'EOPNOTSUPP', text: 'Operation not supported on socket', pxeStatus: 0x03 },
  0x40: { name: 'EOVERFLOW', text: 'Value too large to be stored in data type', pxeStatus: 0x01 },
  0x41: { name: 'EPERM', text: 'Operation not permitted', pxeStatus: 0x3c },
  0x42: { name: 'EPIPE', text: 'Broken pipe', pxeStatus: 0x01 },
  0x43: { name: 'EPROTO', text: 'Protocol error', pxeStatus: 0x01 },
  0x44: { name: 'EPROTONOSUPPORT', text: 'Protocol not supported', pxeStatus: 0x03 },
  0x45: { name: 'EPROTOTYPE', text: 'Protocol wrong type for socket', pxeStatus: 0x01 },
  0x46: { name: 'ERANGE', text: 'Result too large', pxeStatus: 0x01 },
  0x47: { name: 'EROFS', text: 'Read-only file system', pxeStatus: 0x01 },
  0x48: { name: 'ESPIPE', text: 'Invalid seek', pxeStatus: 0x01 },
  0x49: { name: 'ESRCH', text: 'No such process', pxeStatus: 0x3b },
  0x4a: { name: 'ESTALE', text: 'Stale file handle', pxeStatus: 0x01 },
  0x4b: { name: 'ETIME', text: 'Timer expired', pxeStatus: 0x01 },
  0x4c: { name: 'ETIMEDOUT', text: 'Connection timed out', pxeStatus: 0x35 },
  0x4d: { name: 'ETXTBSY', text: 'Text file busy', pxeStatus: 0x01 },
  0x4e: { name: 'EWOULDBLOCK', text: 'Operation would block', pxeStatus: 0x1b },
  0x4f: { name: 'EXDEV', text: 'Improper link', pxeStatus: 0x01 },
  // EPLATFORM: the firmware's own status, passed through; bits 7-0 are all there is to it.
  0x7f: { name: 'EPLATFORM', text: 'Platform-generated error', pxeStatus: 0x01 },
};

/** PXE specification status codes (bits 7-0 in BIOS builds), the ones iPXE maps errors to. */
export const PXE_STATUS: Readonly<Record<number, string>> = {
  0x01: 'PXENV_STATUS_FAILURE',
  0x02: 'PXENV_STATUS_BAD_FUNC',
  0x03: 'PXENV_STATUS_UNSUPPORTED',
  0x06: 'PXENV_STATUS_OUT_OF_RESOURCES',
  0x11: 'PXENV_STATUS_ARP_TIMEOUT',
  0x19: 'PXENV_STATUS_UDP_OPEN',
  0x1a: 'PXENV_STATUS_TFTP_CLOSED',
  0x1b: 'PXENV_STATUS_TFTP_OPEN',
  0x20: 'PXENV_STATUS_MCOPY_PROBLEM',
  0x35: 'PXENV_STATUS_TFTP_READ_TIMEOUT',
  0x38: 'PXENV_STATUS_TFTP_CANNOT_OPEN_CONNECTION',
  0x39: 'PXENV_STATUS_TFTP_CANNOT_READ_FROM_CONNECTION',
  0x3b: 'PXENV_STATUS_TFTP_FILE_NOT_FOUND',
  0x3c: 'PXENV_STATUS_TFTP_ACCESS_VIOLATION',
  0xa0: 'PXENV_STATUS_BINL_CANCELED_BY_KEYSTROKE',
};

/**
 * EFI_STATUS error codes (UEFI 2.x Appendix D). iPXE's UEFI builds keep the low 7 bits of the
 * status and move its top (error) bit to bit 7, so EFI_NOT_FOUND (14) arrives as 0x8e.
 */
export const EFI_STATUS: Readonly<Record<number, string>> = {
  1: 'EFI_LOAD_ERROR',
  2: 'EFI_INVALID_PARAMETER',
  3: 'EFI_UNSUPPORTED',
  4: 'EFI_BAD_BUFFER_SIZE',
  5: 'EFI_BUFFER_TOO_SMALL',
  6: 'EFI_NOT_READY',
  7: 'EFI_DEVICE_ERROR',
  8: 'EFI_WRITE_PROTECTED',
  9: 'EFI_OUT_OF_RESOURCES',
  10: 'EFI_VOLUME_CORRUPTED',
  11: 'EFI_VOLUME_FULL',
  12: 'EFI_NO_MEDIA',
  13: 'EFI_MEDIA_CHANGED',
  14: 'EFI_NOT_FOUND',
  15: 'EFI_ACCESS_DENIED',
  16: 'EFI_NO_RESPONSE',
  17: 'EFI_NO_MAPPING',
  18: 'EFI_TIMEOUT',
  19: 'EFI_NOT_STARTED',
  20: 'EFI_ALREADY_STARTED',
  21: 'EFI_ABORTED',
  22: 'EFI_ICMP_ERROR',
  23: 'EFI_TFTP_ERROR',
  24: 'EFI_PROTOCOL_ERROR',
  25: 'EFI_INCOMPATIBLE_VERSION',
  26: 'EFI_SECURITY_VIOLATION',
  27: 'EFI_CRC_ERROR',
  28: 'EFI_END_OF_MEDIA',
  31: 'EFI_END_OF_FILE',
  32: 'EFI_INVALID_LANGUAGE',
  33: 'EFI_COMPROMISED_DATA',
};

/** errfile.h categories: bits 15-13 of the file identifier. */
export const FILE_CATEGORIES: Readonly<Record<number, string>> = {
  0x1: 'core',
  0x2: 'driver',
  0x3: 'net',
  0x4: 'image',
  0x7: 'other',
};

/** Bit 23 (ERRFILE_ARCH): the file is architecture-specific (the x86 table below). */
export const ARCH_FLAG = 0x00800000;

type FileTable = Readonly<Record<number, string>>;

/** Generic source files by category, then by index (bits 23-16), from errfile.h. */
export const FILES: Readonly<Record<string, FileTable>> = {
  core: {
    0x00: 'asprintf', 0x01: 'downloader', 0x02: 'exec', 0x03: 'hw', 0x04: 'iobuf', 0x05: 'job', 0x06: 'linebuf',
    0x07: 'monojob', 0x08: 'nvo', 0x09: 'open', 0x0a: 'posix_io', 0x0b: 'resolv', 0x0c: 'settings', 0x0d: 'vsprintf',
    0x0e: 'xfer', 0x0f: 'bitmap', 0x10: 'base64', 0x11: 'base16', 0x12: 'blockdev', 0x13: 'acpi', 0x14: 'null_sanboot',
    0x15: 'edd', 0x16: 'parseopt', 0x17: 'test', 0x18: 'xferbuf', 0x19: 'pending', 0x1a: 'null_reboot', 0x1b: 'pinger',
    0x1c: 'fbcon', 0x1d: 'ansicol', 0x1e: 'ansicoldef',
  },
  driver: {
    0x00: 'eisa', 0x01: 'isa', 0x02: 'isapnp', 0x03: 'mca', 0x04: 'pci', 0x05: 'linux', 0x06: 'pcivpd', 0x07: 'usb',
    0x10: 'nvs', 0x11: 'spi', 0x12: 'i2c_bit', 0x13: 'spi_bit', 0x14: 'nvsvpd',
    0x21: 'bnx2', 0x2a: 'rtl8139', 0x2c: 'tg3', 0x3a: 'forcedeth', 0x3e: 'pcnet32', 0x3f: 'r8169', 0x47: 'ipoib',
    0x48: 'e1000_main', 0x49: 'e1000e_main', 0x4f: 'sky2', 0x58: 'igb_main', 0x59: 'snpnet', 0x5a: 'snponly',
    0x5c: 'virtio_net', 0x61: 'vmxnet3', 0x62: 'mii', 0x63: 'realtek', 0x65: 'intel', 0x67: 'intelx', 0x68: 'snp',
    0x69: 'netfront', 0x6a: 'nii', 0x6b: 'netvsc', 0x70: 'scsi', 0x74: 'ata', 0x75: 'srp',
  },
  net: {
    0x00: 'aoe', 0x01: 'arp', 0x02: 'dhcpopts', 0x03: 'ethernet', 0x04: 'icmpv6', 0x05: 'ipv4', 0x06: 'ipv6', 0x07: 'ndp',
    0x08: 'netdevice', 0x09: 'nullnet', 0x0a: 'tcp', 0x0b: 'ftp', 0x0c: 'httpcore', 0x0d: 'iscsi', 0x0e: 'tcpip',
    0x0f: 'udp', 0x10: 'dhcp', 0x11: 'dns', 0x12: 'tftp', 0x13: 'infiniband', 0x14: 'netdev_settings', 0x15: 'dhcppkt',
    0x16: 'slam', 0x19: 'icmpv4', 0x1f: 'net80211', 0x25: 'eapol', 0x2a: 'eth_slow', 0x2b: 'fc', 0x2d: 'fcp', 0x2e: 'fcoe',
    0x30: 'vlan', 0x31: 'oncrpc', 0x32: 'portmap', 0x33: 'nfs', 0x34: 'nfs_open', 0x35: 'mount', 0x37: 'neighbour',
    0x38: 'socket', 0x39: 'icmp', 0x3a: 'ping', 0x3b: 'dhcpv6', 0x3c: 'nfs_uri', 0x3d: 'rndis',
  },
  image: { 0x00: 'image', 0x01: 'elf', 0x02: 'script', 0x03: 'segment', 0x04: 'efi_image', 0x05: 'embedded', 0x06: 'pnm', 0x07: 'png' },
  other: {
    0x00: 'asn1', 0x01: 'chap', 0x02: 'aoeboot', 0x03: 'autoboot', 0x04: 'dhcpmgmt', 0x05: 'imgmgmt', 0x06: 'pxe_tftp',
    0x07: 'pxe_udp', 0x09: 'cipher', 0x0a: 'image_cmd', 0x0c: 'ibft', 0x0d: 'tls', 0x0e: 'ifmgmt', 0x0f: 'iscsiboot',
    0x10: 'efi_pci', 0x11: 'efi_snp', 0x12: 'smbios', 0x13: 'smbios_settings', 0x14: 'efi_smbios', 0x15: 'pxemenu',
    0x16: 'x509', 0x17: 'login_ui', 0x1c: 'config_cmd', 0x1d: 'ifmgmt_cmd', 0x20: 'sanboot_cmd', 0x22: 'prompt',
    0x23: 'nvo_cmd', 0x2a: 'cms', 0x2b: 'imgtrust', 0x2c: 'menu_ui', 0x2d: 'menu_cmd', 0x2e: 'validator', 0x2f: 'ocsp',
    0x30: 'nslookup', 0x31: 'efi_snp_hii', 0x34: 'efi_console', 0x36: 'efi_download', 0x37: 'efi_driver',
    0x38: 'efi_file', 0x39: 'efi_init', 0x3a: 'efi_timer', 0x3b: 'efi_umalloc', 0x3e: 'efi_reboot', 0x40: 'param_cmd',
    0x45: 'efi_utils', 0x46: 'efi_wrap',
  },
};

/** x86 architecture-specific files (arch/x86/include/bits/errfile.h), by category. */
export const X86_FILES: Readonly<Record<string, FileTable>> = {
  core: { 0x00: 'memtop_umalloc', 0x01: 'memmap', 0x02: 'pnpbios', 0x03: 'bios_smbios', 0x04: 'biosint', 0x05: 'int13', 0x06: 'pxeparent', 0x07: 'runtime', 0x0d: 'int13con' },
  image: { 0x00: 'bootsector', 0x01: 'bzimage', 0x02: 'eltorito', 0x03: 'multiboot', 0x04: 'nbi', 0x05: 'pxe_image', 0x06: 'elfboot', 0x07: 'comboot', 0x08: 'com32', 0x0c: 'initrd', 0x0d: 'pxe_call' },
  net: { 0x00: 'undi', 0x01: 'undiload', 0x02: 'undinet', 0x03: 'undionly', 0x04: 'undirom' },
  driver: { 0x00: 'timer_rdtsc', 0x01: 'timer_bios', 0x02: 'hvm', 0x03: 'hyperv' },
  other: { 0x00: 'cpuid_cmd', 0x01: 'cpuid_settings' },
};

/** What a source file does, in words, for the files boot failures come from. */
export const FILE_AREAS: Readonly<Record<string, string>> = {
  iscsi: 'the iSCSI login or session',
  scsi: 'a SCSI command to the disk',
  tcp: 'a TCP connection',
  httpcore: 'an HTTP download',
  tftp: 'a TFTP download',
  dhcp: 'DHCP',
  dns: 'a DNS lookup',
  ifmgmt: 'bringing the network interface up',
  open: 'opening a URI',
  int13: "BIOS disk emulation (INT 13h) of a SAN disk",
  bootsector: 'running the boot sector of a disk',
  image: 'loading an image (script, kernel or program)',
  script: 'running an iPXE script',
  sanboot_cmd: 'the sanboot/sanhook command',
  null_sanboot: 'SAN boot, which this iPXE build lacks',
  blockdev: 'reading a block device',
  efi_image: 'starting an EFI program',
  chap: 'CHAP authentication',
  ibft: 'describing the iSCSI disk to the OS (iBFT)',
  iscsiboot: 'iSCSI boot',
  imgmgmt: 'fetching an image',
  image_cmd: 'an image command (chain, kernel, imgfetch)',
};
