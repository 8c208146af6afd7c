// The live warnings' window on the running server (warning-types.ts WarningContext), built from
// the same inventory, exported targets and boot timeline the servers use.
import type { BootContext, Inventory } from '../boot/inventory.ts';
import { renderMachineScript } from '../boot/ipxe-script.ts';
import type { BootEventLog } from '../events/boot-events.ts';
import type { TargetDirectory } from '../iscsi/target-directory.ts';
import type { WarningContext } from './warning-types.ts';

/** LUN numbers looked for on a target (diskless numbers them from 0, as the doctor does). */
const LUN_SCAN = 256;

export interface WarningSources {
  readonly inventory: Inventory;
  readonly targets: TargetDirectory;
  readonly events: BootEventLog;
  /** The address and ports scripts are rendered with (main.ts's bootContext). */
  readonly bootContext: BootContext;
}

export function warningContext(sources: WarningSources): WarningContext {
  const { inventory, targets, events, bootContext } = sources;
  return {
    targetNames: () => targets.list().map((t) => t.name),
    lunsOf: (name) => {
      const target = targets.get(name);
      return target === null ? [] : Array.from({ length: LUN_SCAN }, (_, lun) => lun).filter((lun) => target.device.hasLun(lun));
    },
    macForIp: (ip) => events.macForIp(ip),
    machineName: (mac) => inventory.machine(mac)?.name ?? null,
    scriptFor: (mac) => {
      const script = inventory.script(mac, bootContext);
      if (script === null) return null;
      try {
        return renderMachineScript(script);
      } catch {
        return null; // a value the renderer refuses: /boot.ipxe fails the same way, and says so
      }
    },
  };
}
