// The iSCSI part of the checklist, from what the doctor's own login saw (iscsi-probe.ts): the
// portal answers, the target takes the machine's initiator IQN and CHAP, the LUN reads, and its
// first blocks can boot the machine's firmware. Pure: probe results in, steps out.
import { describeLoginStatus } from '../iscsi/login-status.ts';
import { sameIscsiName } from '../iscsi/target-directory.ts';
import type { DoctorMachine, DoctorStep } from './checklist.ts';
import { closestName } from './closest-name.ts';
import { summarizeLayout, type DiskLayout } from './disk-layout.ts';
import { formatSize } from './file-lookup.ts';
import type { DiscoveryProbe, DiskProbe, ProbeStageFailure } from './iscsi-probe.ts';
import type { SanUse } from './inventory-steps.ts';
import { describeSense, isLunNotSupported } from './probe-scsi.ts';

type Firmware = DoctorMachine['firmware'];

/** What iPXE shows when it cannot connect (iPXE tcp.c): reset by the peer, or no answer. */
const CONNECT_ERRORS: Readonly<Record<string, string>> = { ECONNREFUSED: '0x0f0a6039', ECONNRESET: '0x0f0a6039', ETIMEDOUT: '0x4c0a6035' };

interface LoginRule {
  readonly cause: (ctx: LoginContext) => string;
  readonly fix: (ctx: LoginContext) => string;
  readonly ipxeError?: string;
}

interface LoginContext {
  readonly use: SanUse;
  readonly initiatorIqn: string;
  readonly chapUser: string | null;
  readonly machineName: string;
  readonly targetNames: readonly string[];
}

/** Login refusals by status (RFC 7143 11.13.5) → what it means here and the iPXE code (iscsi.c). */
const LOGIN_RULES: Readonly<Record<number, LoginRule>> = {
  0x0201: {
    cause: (c) => (c.chapUser !== null ? `${c.use.disk.target} refused the CHAP credentials the machine is given (user ${c.chapUser}).` : `${c.use.disk.target} requires CHAP, and the machine is given no credentials.`),
    fix: (c) => `give ${c.use.disk.target} the CHAP credentials the machine gets (those of its first target with CHAP), or remove CHAP from it`,
    ipxeError: '0x410d613c',
  },
  0x0202: {
    cause: (c) => `${c.use.disk.target} does not admit initiator ${c.initiatorIqn}.`,
    fix: (c) => `add ${c.initiatorIqn} to the target's allowed initiators, or set the machine's IQN: diskless machine set ${c.machineName} --initiator IQN`,
    ipxeError: '0x410d623c',
  },
  0x0203: {
    cause: (c) => {
      const closest = closestName(c.use.disk.target, c.targetNames);
      return `The portal has no target ${c.use.disk.target}${closest !== null ? `; did you mean ${closest}?` : '.'}`;
    },
    fix: (c) => `point the machine at an existing target: diskless machine set ${c.machineName} --disk ${closestName(c.use.disk.target, c.targetNames) ?? 'IQN'}@${c.use.disk.lun}`,
    ipxeError: '0x2c0d603b',
  },
};

export function discoveryStep(probe: DiscoveryProbe, machineTargets: readonly string[], initiatorIqn: string): DoctorStep {
  const base = { section: 'iscsi' as const, id: 'iscsi:discovery' };
  if (!probe.ok) {
    if (probe.stage === 'connect') {
      const ipxeError = CONNECT_ERRORS[probe.code];
      return { ...base, status: 'fail', summary: 'the iSCSI portal does not answer', cause: `${probe.message}.`, fix: 'check that diskless listens where the boot script points (--advertise, --iscsi-port)', ...(ipxeError !== undefined ? { ipxeError } : {}) };
    }
    // iPXE logs in to its target directly and never uses discovery: a refusal here is a warning.
    return { ...base, status: 'warn', summary: 'SendTargets discovery failed', cause: `${probe.message} (iPXE does not use discovery; open-iscsi and Windows do).` };
  }
  const missing = machineTargets.filter((t) => !probe.targets.some((n) => sameIscsiName(n, t)));
  const summary = `SendTargets as ${initiatorIqn} lists ${probe.targets.length} target${probe.targets.length === 1 ? '' : 's'}`;
  if (missing.length === 0) return { ...base, status: 'ok', summary, details: [...probe.targets] };
  return { ...base, status: 'ok', summary: `${summary}, not ${missing.join(', ')}`, details: [...probe.targets] };
}

function connectStep(base: { section: 'iscsi'; id: string }, failure: Extract<ProbeStageFailure, { stage: 'connect' }>): DoctorStep {
  const ipxeError = CONNECT_ERRORS[failure.code];
  return { ...base, status: 'fail', summary: 'cannot reach the iSCSI portal', cause: `${failure.message}.`, fix: 'check that diskless listens where the boot script points (--advertise, --iscsi-port)', ...(ipxeError !== undefined ? { ipxeError } : {}) };
}

export function loginStep(ctx: LoginContext, probe: DiskProbe): DoctorStep {
  const ref = `${ctx.use.disk.target}@${ctx.use.disk.lun}`;
  const base = { section: 'iscsi' as const, id: `iscsi:login:${ref}` };
  const how = ctx.chapUser !== null ? ` with CHAP user ${ctx.chapUser}` : ' without CHAP';
  if (probe.ok || probe.stage === 'command') {
    const mutual = probe.ok && probe.login.mutualVerified ? ', mutual CHAP verified' : '';
    return { ...base, status: 'ok', summary: `logged in to ${ctx.use.disk.target} as ${ctx.initiatorIqn}${how}${mutual}` };
  }
  switch (probe.stage) {
    case 'connect':
      return connectStep(base, probe);
    case 'login': {
      const status = (probe.statusClass << 8) | probe.statusDetail;
      const rule = LOGIN_RULES[status === 0x0204 ? 0x0203 : status];
      const summary = `login to ${ctx.use.disk.target} as ${ctx.initiatorIqn}${how} refused: ${describeLoginStatus(probe)}`;
      if (rule === undefined) return { ...base, status: 'fail', summary, cause: `The target answered the login with status 0x${status.toString(16).padStart(4, '0')}.`, fix: 'see the server log for the reason it gives' };
      return { ...base, status: 'fail', summary, cause: rule.cause(ctx), fix: rule.fix(ctx), ...(rule.ipxeError !== undefined ? { ipxeError: rule.ipxeError } : {}) };
    }
    case 'mutual-chap':
      return { ...base, status: 'fail', summary: `mutual CHAP with ${ctx.use.disk.target} failed`, cause: `${probe.message}.`, fix: 'give the target the mutual CHAP credentials the machine expects', ipxeError: '0x020d623c' };
    case 'protocol':
      return { ...base, status: 'fail', summary: `login to ${ctx.use.disk.target} broke off`, cause: `${probe.message}.`, fix: 'see the server log' };
  }
}

/** Whether the disk's first blocks can boot this firmware; rules in order, first match wins. */
export function judgeLayout(layout: DiskLayout, firmware: Firmware, blankExpected: boolean): Pick<DoctorStep, 'status' | 'cause' | 'fix' | 'ipxeError'> {
  if (blankExpected) return { status: 'ok' };
  if (!layout.bootSignature) {
    return {
      status: 'fail',
      cause: 'LBA 0 has no boot signature (55 AA): the disk is blank or not a boot disk.',
      fix: 'install an OS onto it first (a boot entry of kind install keeps the blank disk registered for the installer), or point the machine at the disk that has one',
      ipxeError: firmware === 'uefi' ? '0x7f22208e' : '0x2e852001',
    };
  }
  if (firmware === 'uefi' && layout.esp === null) {
    return {
      status: 'fail',
      cause: `The machine boots with UEFI, which looks for an EFI system partition, and this disk has none (${layout.scheme === 'mbr' ? 'an MBR disk, installed for BIOS' : 'no ESP'}).`,
      fix: 'boot the machine in legacy BIOS mode (CSM), or reinstall the OS in UEFI mode (GPT with an EFI system partition)',
      ipxeError: '0x7f22208e',
    };
  }
  if (firmware === 'bios' && !layout.bootCode) {
    return {
      status: layout.scheme === 'gpt' ? 'fail' : 'warn',
      cause: `LBA 0 has no boot code${layout.scheme === 'gpt' ? ': a GPT disk installed for UEFI' : ''}, so a BIOS runs nothing from it.`,
      fix: 'boot the machine in UEFI mode, or install a BIOS boot loader onto the disk',
      ipxeError: '0x0b8080a0',
    };
  }
  if (layout.scheme === 'none') return { status: 'warn', cause: 'LBA 0 has a boot signature but no partition table: only a boot sector that does everything itself boots from it.' };
  return { status: 'ok' };
}

export function diskStep(use: SanUse, probe: DiskProbe, firmware: Firmware): DoctorStep {
  const ref = `${use.disk.target}@${use.disk.lun}`;
  const base = { section: 'iscsi' as const, id: `iscsi:disk:${ref}` };
  if (!probe.ok) {
    if (probe.stage !== 'command') return { ...base, status: 'skip', summary: `${ref}: not read (no login)` };
    if (isLunNotSupported(probe.sense)) {
      return { ...base, status: 'fail', summary: `${ref}: LUN ${use.disk.lun} does not exist`, cause: `${use.disk.target} answers ${probe.command} for LUN ${use.disk.lun} with LOGICAL UNIT NOT SUPPORTED.`, fix: `use one of the target's LUNs (diskless target show ${use.disk.target})`, ipxeError: '0x1d704039' };
    }
    return { ...base, status: 'fail', summary: `${ref}: ${probe.command} failed`, cause: `${probe.command} failed: ${describeSense(probe.sense)}.`, fix: 'check the disk file behind the LUN (diskless disk list) and the server log', ipxeError: '0x1d704039' };
  }
  const size = `${formatSize(probe.capacity.blocks * probe.capacity.blockSize)} (${probe.capacity.blocks} blocks of ${probe.capacity.blockSize} bytes)`;
  const layout = summarizeLayout(probe.layout);
  const verdict = judgeLayout(probe.layout, firmware, use.blankExpected);
  const esp = probe.layout.esp !== null ? `EFI system partition: ${probe.layout.esp}` : 'no EFI system partition';
  const blank = use.blankExpected && !probe.layout.bootSignature ? ', blank as expected before installing' : '';
  return { ...base, summary: `${ref}: ${size}; ${layout}${blank}`, details: [esp], ...verdict };
}
