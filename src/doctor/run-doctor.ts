// `diskless doctor MACHINE`, server side: walks the machine's boot chain the way the client
// would (inventory, DHCP for each firmware, the boot program, the script and its URLs, an
// iSCSI login and read of every disk) and returns the checklist. The pure step builders judge;
// this file only gathers what they need, in the order a boot goes.
import type { MachineScript } from '../boot/boot-entry.ts';
import { renderMachineScript } from '../boot/ipxe-script.ts';
import { normalizeIscsiName, type ExportedTarget } from '../iscsi/target-directory.ts';
import { bootFileStep, bootFilesOf } from './boot-file-steps.ts';
import { buildReport, type DoctorMachine, type DoctorReport, type DoctorStep } from './checklist.ts';
import { askPolicy, dhcpSteps } from './dhcp-steps.ts';
import type { DoctorDeps } from './doctor-deps.ts';
import { lookUpFile } from './file-lookup.ts';
import { resolveMachineRef } from './machine-ref.ts';
import { firmwareFromEvents, historySteps } from './history-steps.ts';
import { bootEntryStep, machineStep, sanUses, targetStep, type SanUse, type TargetView } from './inventory-steps.ts';
import { probeDiscovery, probeDisk, type Portal } from './iscsi-probe.ts';
import { discoveryStep, diskStep, loginStep } from './iscsi-steps.ts';
import { classifyUrl, renderStep, urlsInScript, urlStep } from './script-steps.ts';

export interface DoctorOptions {
  /** Judge the disks for this firmware; default: what the machine last booted with, if known. */
  readonly firmware?: 'bios' | 'uefi';
  readonly now?: () => Date;
}

/** LUN numbers the doctor looks for on a target (diskless numbers them from 0). */
const LUN_SCAN = 256;

function targetView(target: ExportedTarget | null): TargetView | null {
  if (target === null) return null;
  const luns = Array.from({ length: LUN_SCAN }, (_, lun) => lun).filter((lun) => target.device.hasLun(lun));
  return { name: target.name, luns, chap: target.chap, mutualChap: target.mutualChap, allowedInitiators: target.allowedInitiators };
}

function renderScript(script: MachineScript | null): { text: string } | { error: string } | null {
  if (script === null) return null;
  try {
    return { text: renderMachineScript(script) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

function uniqueUses(uses: readonly SanUse[]): SanUse[] {
  const seen = new Set<string>();
  return uses.filter((u) => {
    const key = `${normalizeIscsiName(u.disk.target)}@${u.disk.lun}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The checklist for one machine, or null when `ref` names no machine (and is not a MAC). */
export async function runDoctor(deps: DoctorDeps, ref: string, options: DoctorOptions = {}): Promise<DoctorReport | null> {
  const mac = await resolveMachineRef(ref, deps);
  if (mac === null) return null;
  const { inventory, context } = deps;
  const registered = inventory.machine(mac);
  const script = inventory.script(mac, context);
  const events = deps.events?.list({ mac }) ?? [];
  const firmware = options.firmware ?? firmwareFromEvents(events);
  const initiatorIqn = script?.identity.initiatorIqn ?? null;
  const machine: DoctorMachine = { ref, mac, name: registered?.name ?? null, registered: registered !== null, initiatorIqn, firmware };
  const targetNames = deps.targets.list().map((t) => t.name);
  const lookup = (iqn: string): TargetView | null => targetView(deps.targets.get(iqn));
  const steps: DoctorStep[] = [];

  // Inventory: the machine, its entry, and the targets it names.
  steps.push(machineStep({ mac, name: machine.name, unknownMachines: inventory.unknownMachines, script }));
  steps.push(bootEntryStep(script));
  const uses = script === null ? [] : uniqueUses(sanUses(script));
  const identity = script?.identity;
  const chapFrom = uses.find((u) => lookup(u.disk.target)?.chap != null)?.disk.target ?? null;
  for (const use of uses) {
    steps.push(targetStep({ use, machineName: machine.name, initiatorIqn: initiatorIqn ?? '', chap: identity?.chap, chapFrom, mutualChap: identity?.mutualChap, lookup, targetNames }));
  }

  // DHCP: what each firmware would be told, then the boot programs it names.
  const answers = askPolicy(inventory, mac, context.server, { httpPort: context.httpPort, iscsiPort: context.iscsiPort, dhcpMode: deps.dhcpMode });
  steps.push(...dhcpSteps(answers, deps.dhcpMode, { server: context.server, httpPort: context.httpPort }));
  const fileContext = { tftpEnabled: deps.tftpEnabled, dhcpMode: deps.dhcpMode, bootFolder: deps.bootFolder };
  for (const file of bootFilesOf(answers)) steps.push(bootFileStep(file, await lookUpFile(deps.files, file.path), fileContext));

  // The script and every URL in it.
  const rendered = renderScript(script);
  steps.push(renderStep(rendered));
  if (rendered !== null && 'text' in rendered) {
    for (const url of urlsInScript(rendered.text)) {
      const target = classifyUrl(url, context);
      const found = target.kind === 'file' ? await lookUpFile(deps.files, target.path) : null;
      steps.push(urlStep(url, target, found, { tftpEnabled: deps.tftpEnabled, bootFolder: deps.bootFolder }));
    }
  }

  // iSCSI: log in as the machine and read each disk's first blocks.
  if (uses.length > 0 && initiatorIqn !== null) {
    const portal: Portal = { host: deps.iscsiHost, port: context.iscsiPort, timeoutMs: deps.timeoutMs ?? 5000 };
    const discovery = await probeDiscovery(portal, initiatorIqn, deps.discoveryAuth ?? undefined);
    steps.push(discoveryStep(discovery, uses.map((u) => u.disk.target), initiatorIqn));
    for (const use of uses) {
      const probe = await probeDisk(portal, { initiatorIqn, target: use.disk.target, lun: use.disk.lun, chap: identity?.chap, mutualChap: identity?.mutualChap });
      steps.push(loginStep({ use, initiatorIqn, chapUser: identity?.chap?.user ?? null, machineName: machine.name ?? 'NAME', targetNames }, probe));
      steps.push(diskStep(use, probe, firmware));
    }
  }

  steps.push(...historySteps(events, targetNames, (options.now?.() ?? new Date()).getTime()));
  return buildReport(machine, steps, options.now?.() ?? new Date());
}
