// A machine named on a command line or in a URL: a MAC in any spelling, or a name from the
// configuration file or the store. Shared by the doctor, the captures and the warnings.
import { normalizeMac } from '../boot/inventory.ts';

export interface MachineDirectory {
  readonly configMachines: ReadonlyArray<{ readonly mac: string; readonly name: string }>;
  readonly store: { readonly machines: { get(ref: string): Promise<{ readonly mac: string } | undefined> } };
}

/** The machine's MAC from a MAC or a name; null when nothing by that name exists. */
export async function resolveMachineRef(ref: string, machines: MachineDirectory): Promise<string | null> {
  const mac = normalizeMac(ref);
  if (mac !== null) return mac;
  const fromConfig = machines.configMachines.find((m) => m.name === ref);
  if (fromConfig !== undefined) return normalizeMac(fromConfig.mac);
  const stored = await machines.store.machines.get(ref);
  return stored === undefined ? null : normalizeMac(stored.mac);
}
