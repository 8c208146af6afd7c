// What the doctor needs of the running server: the same inventory, boot policy inputs, file
// provider and exported targets the DHCP, TFTP, HTTP and iSCSI servers use, so that its
// answers are theirs. main.ts builds it; tests build it from a test server.
import type { Credentials } from '../boot/boot-entry.ts';
import type { BootContext, Inventory } from '../boot/inventory.ts';
import type { BootEventLog } from '../events/boot-events.ts';
import type { TargetDirectory } from '../iscsi/target-directory.ts';
import type { TftpFileProvider } from '../tftp/files.ts';

export interface DoctorDeps {
  /** Machines by MAC and their resolved boot entries (main.ts's `inventory`). */
  readonly inventory: Inventory;
  /** The configuration file's machines, found by name too (the store's are asked below). */
  readonly configMachines: ReadonlyArray<{ readonly mac: string; readonly name: string }>;
  /** The store, to find a machine by name (`store.machines.get` takes a MAC or a name). */
  readonly store: { readonly machines: { get(ref: string): Promise<{ readonly mac: string } | undefined> } };
  /** The address and ports clients are told (main.ts's `bootContext`). */
  readonly context: BootContext;
  /** config.dhcp.mode: the boot policy is asked as the DHCP server asks it. */
  readonly dhcpMode: 'full' | 'proxy' | 'off';
  /** Whether diskless's TFTP server runs (config.tftp.enabled ?? dhcp.mode !== 'off'). */
  readonly tftpEnabled: boolean;
  /** The boot files TFTP and /files/ serve (main.ts's `files`). */
  readonly files: TftpFileProvider;
  /** The user's boot folder, named in fixes (config.tftp.root ?? DATA_DIR/boot). */
  readonly bootFolder: string;
  /** What the iSCSI portal exports right now (main.ts's `targets`). */
  readonly targets: TargetDirectory;
  /** Where the doctor logs in to the portal (doctorIscsiHost(config.listen)); the port is context.iscsiPort. */
  readonly iscsiHost: string;
  /** config.iscsi.discoveryAuth, for the SendTargets check. */
  readonly discoveryAuth?: Credentials | null;
  /** The boot timeline: the firmware a machine last used, and warnings from its last boots. */
  readonly events?: BootEventLog;
  /** Per-PDU wait of the doctor's initiator (default 5000). */
  readonly timeoutMs?: number;
}

/** The portal address the doctor connects to: the listen address, or loopback for a wildcard. */
export function doctorIscsiHost(listen: string): string {
  if (listen === '' || listen === '0.0.0.0') return '127.0.0.1';
  if (listen === '::' || listen === '[::]') return '::1';
  return listen;
}
