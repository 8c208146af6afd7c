// The shapes of the live warnings (issue 7): what the watch is fed (observations: boot events,
// and what the SCSI and login observers saw on the wire), what it says (warnings), and what it
// may ask of the running server (the context). Types only.
import type { BootEvent } from '../events/boot-events.ts';

export type WarningCode =
  | 'no-such-target'
  | 'initiator-not-allowed'
  | 'chap-failed'
  | 'mutual-chap-mismatch'
  | 'no-such-lun'
  | 'no-first-read'
  | 'install-without-keep-san'
  | 'uefi-mbr-disk'
  | 'second-writer';

/** Who a SCSI observation came from: the I_T nexus (initiator name and ISID) and where it went. */
export interface ScsiSource {
  readonly at: number;
  readonly target: string;
  readonly lun: number;
  readonly initiator: string;
  /** The ISID in hex (one initiator can hold several sessions). */
  readonly isid: string;
}

export type Observation =
  /** Every boot event (DHCP, TFTP, script, iSCSI login/first read/logout). */
  | { readonly kind: 'boot-event'; readonly event: BootEvent }
  /** A command (not REPORT LUNS) to a LUN the target does not have; once per session and LUN. */
  | (ScsiSource & { readonly kind: 'missing-lun'; readonly opcode: number })
  /** The data of a session's first read of LBA 0 (a copy of the first block, at most 4 KiB). */
  | (ScsiSource & { readonly kind: 'first-block'; readonly block: Buffer })
  /** A session's first write to a LUN. */
  | (ScsiSource & { readonly kind: 'first-write' })
  /**
   * The initiator closed the connection during login, right after it asked the target to prove
   * itself (CHAP_I/CHAP_C) and the target answered: it did not accept the answer. The portal
   * does not report this yet (docs/DOCTOR.md): whatever learns of it feeds it here.
   */
  | { readonly kind: 'login-hangup'; readonly at: number; readonly ip: string; readonly initiator: string | null; readonly target: string | null }
  /** Time passes (the service ticks every second): overdue first reads are found on ticks. */
  | { readonly kind: 'tick'; readonly at: number };

export interface LiveWarning {
  readonly at: number;
  readonly code: WarningCode;
  /** The machine, when the warning can be tied to one (by its address or initiator). */
  readonly mac: string | null;
  readonly machine: string | null;
  readonly ip: string | null;
  readonly initiator: string | null;
  readonly target: string | null;
  readonly lun: number | null;
  /** What happened, in words. */
  readonly text: string;
  /** What to do about it, in diskless terms. */
  readonly fix: string;
  /** The iPXE error the machine shows for it, when there is one (`diskless explain`). */
  readonly ipxeError: string | null;
}

/** What the rules may ask of the running server; every answer is a read. */
export interface WarningContext {
  /** The IQNs the portal exports now. */
  targetNames(): readonly string[];
  /** The LUN numbers of an exported target (empty for an unknown target). */
  lunsOf(target: string): readonly number[];
  /** The machine that holds an address (learnt from DHCP and script fetches). */
  macForIp(ip: string): string | null;
  machineName(mac: string): string | null;
  /** The iPXE script /boot.ipxe serves this machine now, or null. */
  scriptFor(mac: string): string | null;
}
