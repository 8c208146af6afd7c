// The iPXE errors users of network boot meet, as data: what failed, the usual causes (from the
// seeds' troubleshooting stories, diskless's own end-to-end harness and iPXE's source), and what
// to check in diskless terms. A rule matches on bits 31-8 (the error and the site in iPXE's
// source), so the BIOS and the UEFI build of the same failure, which differ only in the
// platform byte, get the same explanation; 'exact' rules also pin the platform byte.
import { errorSite } from './ipxe-error-code.ts';

export interface IpxeErrorRule {
  /** The code as seen (iPXE prints all eight hex digits). */
  readonly code: number;
  readonly match: 'site' | 'exact';
  /** Where in iPXE, for codes whose source file diskless's errfile table cannot name. */
  readonly module?: string;
  readonly whatFailed: string;
  readonly causes: readonly string[];
  readonly check: readonly string[];
  /** Where this explanation comes from. */
  readonly source: string;
}

export const IPXE_ERROR_RULES: readonly IpxeErrorRule[] = [
  {
    code: 0x2c0d603b,
    match: 'site',
    whatFailed: 'The iSCSI target refused the login because it has no target by the name iPXE asked for (login status "not found" or "removed").',
    causes: [
      'The target IQN in the sanboot/sanhook root path is misspelt, or names a target that does not exist (disk0 instead of disk1).',
      'The target was removed or renamed, and the machine still points at the old name.',
    ],
    check: [
      '`diskless target list` shows the exact IQNs this server exports; `diskless doctor MACHINE` names the closest one.',
      'Point the machine at the right target: `diskless machine set MACHINE --disk IQN[@LUN]`.',
    ],
    source: 'seed "That darn iBFT iSCSI Windows installation error"; iPXE iscsi.c (login status 0x0203/0x0204)',
  },
  {
    code: 0x1d704039,
    match: 'site',
    whatFailed: 'A SCSI command to the LUN failed (CHECK CONDITION): iPXE logged in, but could not read the capacity or the first blocks of the disk.',
    causes: [
      'The LUN is not a disk: with tgtd, LUN 0 is the controller and disks start at LUN 1, so `sanboot iscsi:SERVER::::IQN` (LUN 0 by default) fails. diskless always makes LUN 0 a disk.',
      'The root path names a LUN the target does not have (diskless answers LOGICAL UNIT NOT SUPPORTED).',
      'The disk file behind the LUN cannot be read (moved, truncated, no permission).',
    ],
    check: [
      '`diskless target show IQN` lists its LUNs: the number before the IQN in iscsi:SERVER::PORT:LUN:IQN must be one of them.',
      '`diskless doctor MACHINE` logs in and reads LBA 0 of every disk the machine boots from.',
    ],
    source: 'seed "That darn iBFT iSCSI Windows installation error" (tgtd LUN 0); iPXE scsi.c',
  },
  {
    code: 0x410d613c,
    match: 'site',
    whatFailed: 'CHAP authentication failed: the target did not accept the username and secret iPXE presented (login status 0x0201).',
    causes: [
      'The CHAP secret or username given to iPXE differs from the target\'s (open-iscsi reports the same refusal as "non-retryable iSCSI login failure").',
      'The machine boots from disks on several targets with different CHAP credentials: iPXE holds one set, the first target\'s, and the others refuse it.',
      'The target\'s secret changed after the machine fetched its script: it logs in with the old one until it boots again.',
    ],
    check: [
      '`diskless doctor MACHINE` logs in with exactly the credentials the machine is given and names the target that refuses them.',
      'Give every target one machine boots from the same CHAP credentials, or keep its disks on one target (`diskless machine add --disk` does).',
    ],
    source: 'seed "Network Boot - iSCSI" (OpenELEC, CHAP); iPXE iscsi.c EPERM_INITIATOR_AUTHENTICATION',
  },
  {
    code: 0x410d623c,
    match: 'site',
    whatFailed: 'The target does not admit this initiator: its list of allowed initiator IQNs lacks the one iPXE logs in with (login status 0x0202).',
    causes: [
      'The machine was renamed, or its initiator IQN changed (`machine set --initiator`), and the target still lists the old IQN.',
      'The target was made for another machine.',
    ],
    check: ['`diskless target show IQN` lists who may log in; `diskless machine show MACHINE` shows the IQN the machine uses.'],
    source: 'iPXE iscsi.c EPERM_INITIATOR_AUTHORISATION',
  },
  {
    code: 0x020d623c,
    match: 'site',
    whatFailed: 'Mutual CHAP failed: the target answered iPXE\'s challenge, but not with the secret iPXE expects (reverse-password).',
    causes: ['The target\'s mutual CHAP secret differs from the reverse-password iPXE is given (for example after changing only one of them).'],
    check: ['Set the same mutual CHAP credentials on every target the machine uses; `diskless doctor MACHINE` checks the target\'s answer.'],
    source: 'iPXE iscsi.c EACCES_INCORRECT_TARGET_PASSWORD',
  },
  {
    code: 0x020d613c,
    match: 'site',
    whatFailed: 'Mutual CHAP failed: the target identified itself with another username than the reverse-username iPXE expects.',
    causes: ['The target\'s mutual CHAP username differs from the reverse-username iPXE is given.'],
    check: ['Set the same mutual CHAP credentials on every target the machine uses.'],
    source: 'iPXE iscsi.c EACCES_INCORRECT_TARGET_USERNAME',
  },
  {
    code: 0x0f0d6039,
    match: 'site',
    whatFailed: 'The iSCSI target closed the connection.',
    causes: [
      'diskless ends the sessions of a target when its LUNs, CHAP or allowed initiators change (a disk resized or repointed); iPXE then has to log in again.',
      'The server was restarted or stopped.',
    ],
    check: ['`diskless events --mac MACHINE` shows the logout and its reason.'],
    source: 'iPXE iscsi.c (a graceful close is ECONNRESET)',
  },
  {
    code: 0x0f0a6039,
    match: 'site',
    whatFailed: 'A TCP connection was reset: nothing accepted it at that address and port.',
    causes: [
      'The port in the URL or root path is not the one diskless listens on (--http-port, --iscsi-port).',
      'diskless is not running, or a firewall rejects the connection.',
    ],
    check: ['`diskless doctor MACHINE` checks the script\'s URLs and logs in to the portal the root path names.'],
    source: 'iPXE tcp.c',
  },
  {
    code: 0x4c0a6035,
    match: 'site',
    whatFailed: 'A TCP connection timed out: the address in the URL or root path did not answer.',
    causes: [
      'The address diskless advertises is not reachable from the machine (set --advertise to the address on the machines\' network).',
      'A firewall drops the packets, or the machine is on another network without a route.',
    ],
    check: ['The address in the boot script is the one from --advertise (or the one the machine used to fetch the script).'],
    source: 'iPXE tcp.c',
  },
  {
    code: 0x4c106035,
    match: 'site',
    whatFailed: 'DHCP timed out: no DHCP server answered iPXE.',
    causes: [
      'diskless\'s DHCP is off and the network has no DHCP server set up for network boot.',
      'The machine is not registered and unknownMachines is "ignore", so diskless stays silent.',
      'diskless listens on another interface (--interface).',
    ],
    check: ['`diskless events --mac MACHINE` shows whether the DISCOVER reached diskless; `diskless doctor MACHINE` shows what diskless would answer.'],
    source: 'iPXE dhcp.c',
  },
  {
    code: 0x040ee119,
    match: 'site',
    whatFailed: 'No configuration methods succeeded: iPXE could not configure the network interface (every DHCP attempt failed).',
    causes: ['The same as 0x4c106035: no DHCP answer reached iPXE.'],
    check: ['`diskless events --mac MACHINE` shows whether the DISCOVER reached diskless.'],
    source: 'iPXE ifmgmt.c',
  },
  {
    code: 0x2d12603b,
    match: 'site',
    whatFailed: 'A TFTP download failed: the server answered "File not found".',
    causes: [
      'The boot file (undionly.kpxe, ipxe.efi) is missing: Debian\'s ipxe package is not installed, or the file is not in DATA_DIR/boot.',
      'The DHCP server names a file or a next-server that does not have it (another TFTP server answered).',
    ],
    check: ['`diskless doctor MACHINE` opens the file each firmware would fetch, through the same provider the TFTP server uses.'],
    source: 'iPXE tftp.c',
  },
  {
    code: 0x0212603c,
    match: 'site',
    whatFailed: 'A TFTP download was refused: the server answered "Access violation".',
    causes: ['The path climbs out of the TFTP root, or the file is not readable by the server.'],
    check: ['Files served are those under DATA_DIR/boot (or tftp.root) and Debian\'s /usr/lib/ipxe.'],
    source: 'iPXE tftp.c',
  },
  {
    code: 0x2d0c613b,
    match: 'site',
    whatFailed: 'An HTTP download failed with 404 Not Found.',
    causes: [
      'A kernel, initrd, ISO or chain URL in the boot entry names a file that is not in DATA_DIR/boot (served under /files/) nor in Debian\'s iPXE and syslinux folders.',
      'A typo in the path.',
    ],
    check: ['`diskless doctor MACHINE` checks every URL of the machine\'s script against this server\'s files.'],
    source: 'iPXE httpcore.c ENOENT_404',
  },
  {
    code: 0x3c092003,
    match: 'site',
    whatFailed: 'iPXE cannot open this kind of URI: the protocol before the colon is not built into this iPXE.',
    causes: [
      'https:// with an iPXE built without TLS, or ftp://, nfs:// and the like with a build that lacks them.',
      'A bare file name given over TFTP while the DHCP answer had no next-server.',
    ],
    check: ['diskless serves scripts and files over plain http://; the boot entry\'s URLs should use it.'],
    source: 'ipxe.org/err/3c0920; iPXE open.c',
  },
  {
    code: 0x03232019,
    match: 'site',
    module: 'SAN boot core (sanboot)',
    whatFailed: 'A SAN drive number is already in use: sanboot or sanhook asked for a BIOS drive (0x80, ...) that another SAN device holds.',
    causes: [
      'The DHCP answer carried a root path (option 17) along with the script URL: iPXE hooks the root path as drive 0x80 before running the script, whose own sanboot of 0x80 then fails. diskless never sends option 17 to iPXE for this reason (met in its end-to-end harness).',
      'A hand-written script that hooks the same --drive twice, or retries without sanunhook.',
    ],
    check: [
      'Your DHCP server must not send a root path to iPXE when it sends the script URL: use the snippet `diskless serve` prints, or --dhcp proxy.',
    ],
    source: 'diskless end-to-end harness (QEMU + iPXE sanboot)',
  },
  {
    code: 0x2e852001,
    match: 'site',
    whatFailed: 'iPXE read the first sector of the SAN disk and found no boot signature (0x55AA): the disk is blank or not bootable by a BIOS.',
    causes: [
      'The disk is blank: expected while installing onto it (the seed: this comes after "Registered as BIOS drive" and can then be ignored).',
      'The OS was installed for UEFI only, or the machine points at the wrong disk or LUN.',
    ],
    check: ['`diskless doctor MACHINE` reads LBA 0 and reports the boot signature and partition table.', 'To install onto a blank disk, use a boot entry of kind install (it keeps the disk registered with keep-san).'],
    source: 'seed "That darn iBFT iSCSI Windows installation error"; iPXE int13.c',
  },
  {
    code: 0x0b8080a0,
    match: 'site',
    whatFailed: 'The disk\'s boot sector ran and gave control back (it found nothing to boot): the iSCSI part worked.',
    causes: [
      'The disk has boot code but no bootable partition or OS loader (a fresh disk, or a Windows install not finished).',
      'The OS on the disk was installed for UEFI and has no BIOS boot code.',
    ],
    check: ['The seed: it comes after "Registered as BIOS drive" and can be ignored while installing; otherwise check the disk\'s partitions with `diskless doctor MACHINE`.'],
    source: 'seed "That darn iBFT iSCSI Windows installation error"; iPXE bootsector.c',
  },
  {
    code: 0x7f22208e,
    match: 'exact',
    module: 'UEFI SAN boot (efi_block)',
    whatFailed: 'UEFI SAN boot found no EFI system partition with a boot program (\\EFI\\BOOT\\BOOTX64.EFI) on the disk (EFI_NOT_FOUND).',
    causes: [
      'The disk was installed for BIOS (MBR, no ESP) and the machine boots in UEFI mode (met in diskless\'s end-to-end harness with an MBR-only image).',
      'The ESP lacks the fallback path \\EFI\\BOOT\\BOOTX64.EFI.',
    ],
    check: ['`diskless doctor MACHINE --firmware uefi` looks for an EFI system partition.', 'Boot the machine in legacy BIOS mode, or reinstall the OS in UEFI mode (GPT with an ESP).'],
    source: 'diskless end-to-end harness (UEFI sanboot of an MBR disk)',
  },
  {
    code: 0x2e008001,
    match: 'site',
    whatFailed: 'iPXE downloaded something it cannot run: not an iPXE script, kernel or program for this firmware.',
    causes: [
      'A BIOS program (undionly.kpxe, pxelinux.0) given to a UEFI machine, or ipxe.efi to a BIOS machine.',
      'An error page or an empty file instead of the expected file, or a script that does not start with #!ipxe.',
    ],
    check: ['`diskless doctor MACHINE` shows which file each firmware gets.'],
    source: 'iPXE image.c',
  },
  {
    code: 0x3c852003,
    match: 'site',
    whatFailed: 'BIOS disk emulation (INT 13h) cannot boot this image as laid out: typically an ISO whose El Torito boot entry uses an emulation mode iPXE does not offer.',
    causes: ['An ISO booted with sanboot over HTTP whose boot catalogue needs floppy or hard disk emulation.'],
    check: ['Boot such images with a memdisk entry (kind memdisk, iso: true) instead of sanboot.'],
    source: 'iPXE int13.c (El Torito)',
  },
];

/** The rule for a code: an exact match first, then one for the same failure site. */
export function findIpxeErrorRule(code: number, rules: readonly IpxeErrorRule[] = IPXE_ERROR_RULES): IpxeErrorRule | null {
  return rules.find((r) => r.match === 'exact' && r.code === code) ?? rules.find((r) => r.match === 'site' && errorSite(r.code) === errorSite(code)) ?? null;
}
