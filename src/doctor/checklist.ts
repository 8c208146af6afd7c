// The doctor's answer: a checklist of the boot chain, step by step, each ok / warn / fail (or
// skip when an earlier failure makes it meaningless), and the first failure's cause and fix in
// words. Plain JSON, so the REST API returns it as is and the CLI renders it (renderChecklist).

export type StepStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** The parts of the boot chain, in the order a client walks them. */
export type StepSection = 'inventory' | 'dhcp' | 'tftp' | 'script' | 'iscsi' | 'history';

export interface DoctorStep {
  readonly section: StepSection;
  /** Stable within a report, e.g. "dhcp:bios-pxe", "iscsi:login:iqn...@0". */
  readonly id: string;
  readonly status: StepStatus;
  /** One line: what was checked and what was found. */
  readonly summary: string;
  /** Why it fails or warns, in words. */
  readonly cause?: string;
  /** What to do about it, in diskless terms. */
  readonly fix?: string;
  /** The iPXE error the machine shows for this failure (`diskless explain` decodes it). */
  readonly ipxeError?: string;
  /** More lines worth showing (answers, snippets, sizes). */
  readonly details?: readonly string[];
}

export interface DoctorMachine {
  /** What was asked for (MAC or name). */
  readonly ref: string;
  readonly mac: string;
  readonly name: string | null;
  readonly registered: boolean;
  readonly initiatorIqn: string | null;
  /** The firmware the disk checks assumed: given, learnt from its last DHCP request, or unknown. */
  readonly firmware: 'bios' | 'uefi' | 'unknown';
}

export interface DoctorReport {
  readonly machine: DoctorMachine;
  readonly status: 'ok' | 'warn' | 'fail';
  readonly steps: readonly DoctorStep[];
  /** The first failing step, the one to fix first; null when nothing fails. */
  readonly firstFailure: DoctorStep | null;
  readonly checkedAt: string;
}

export function overallStatus(steps: readonly DoctorStep[]): DoctorReport['status'] {
  if (steps.some((s) => s.status === 'fail')) return 'fail';
  return steps.some((s) => s.status === 'warn') ? 'warn' : 'ok';
}

export function buildReport(machine: DoctorMachine, steps: readonly DoctorStep[], now: Date): DoctorReport {
  return { machine, status: overallStatus(steps), steps, firstFailure: steps.find((s) => s.status === 'fail') ?? null, checkedAt: now.toISOString() };
}

const MARK: Readonly<Record<StepStatus, string>> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

const VERDICT: Readonly<Record<DoctorReport['status'], string>> = {
  ok: 'nothing found that stops this machine from booting',
  warn: 'it should boot, but see the warnings',
  fail: 'this machine does not boot',
};

/** The checklist as the CLI prints it; fixed layout, tested as exact text. */
export function renderChecklist(report: DoctorReport, options: { readonly details?: boolean } = {}): string {
  const m = report.machine;
  const lines = [`diskless doctor: ${m.name ?? 'unregistered machine'} (${m.mac})${m.initiatorIqn !== null ? `, initiator ${m.initiatorIqn}` : ''}, firmware ${m.firmware}`];
  for (const step of report.steps) {
    lines.push(`  ${MARK[step.status]}  ${step.section.padEnd(9)} ${step.summary}`);
    if (step.status === 'warn' && step.cause !== undefined) lines.push(`                   ${step.cause}`);
    if (options.details === true) for (const d of step.details ?? []) lines.push(`                   ${d}`);
  }
  lines.push(`Verdict: ${VERDICT[report.status]}.`);
  const first = report.firstFailure;
  if (first !== null) {
    lines.push(`First failure: ${first.summary}`);
    if (first.cause !== undefined) lines.push(`  Cause: ${first.cause}`);
    if (first.fix !== undefined) lines.push(`  Fix:   ${first.fix}`);
    if (first.ipxeError !== undefined) lines.push(`  iPXE shows ${first.ipxeError}: diskless explain ${first.ipxeError}`);
  }
  return lines.join('\n') + '\n';
}
