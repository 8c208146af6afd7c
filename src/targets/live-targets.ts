// Keeps the iSCSI portal's TargetDirectory equal to what the configuration file and the store
// say, while the server runs: a target added through the API can be logged in to at once, and
// a removed one stops being offered. Each target's LUNs open their own backing files; when a
// target's LUNs change, its sessions are dropped (the initiator logs in again and sees the new
// LUNs) before the old files are closed, so no in-flight I/O lands on a closed descriptor.
import type { Logger } from 'pino';
import type { ExportedTarget, TargetDirectory, Credentials } from '../iscsi/target-directory.ts';
import { normalizeIscsiName } from '../iscsi/target-directory.ts';
import { BlockLogicalUnit } from '../scsi/logical-unit.ts';
import { LunTable } from '../scsi/target-device.ts';
import type { BlockDevice } from '../storage/block-device.ts';
import { OverlayDevice } from '../storage/overlay/index.ts';

export interface DesiredLun {
  readonly lun: number;
  readonly path: string;
  readonly readOnly: boolean;
  /** The size the store knows; a change (disk resize) reopens the LUN. */
  readonly sizeBytes?: number;
  /** A copy-on-write disk: `path` is the overlay, this the read-only image under it. */
  readonly basePath?: string;
  /** Reset to the pristine image at every boot (see resetForBoot). */
  readonly discardOnReboot?: boolean;
  /** INQUIRY product id (16 ASCII characters at most are shown). */
  readonly productId: string;
}

export interface DesiredTarget {
  readonly name: string;
  readonly alias: string | null;
  readonly chap: Credentials | null;
  readonly mutualChap: Credentials | null;
  readonly allowedInitiators: readonly string[] | null;
  readonly luns: readonly DesiredLun[];
}

export type OpenDevice = (path: string, options: { readOnly: boolean; basePath?: string }) => Promise<BlockDevice>;

/** Turns an overlay back into its pristine image (the device is closed while this runs). */
export type ResetOverlay = (overlayPath: string) => Promise<void>;

export interface LiveTargetsOptions {
  readonly directory: TargetDirectory;
  readonly openDevice: OpenDevice;
  /** Ends the sessions logged in to this target (its LUNs changed or it was removed). */
  readonly dropSessions: (targetName: string, reason: string) => void;
  readonly log: Logger;
  readonly resetOverlay?: ResetOverlay;
}

interface Exported {
  readonly target: DesiredTarget;
  readonly lunKey: string;
  readonly devices: readonly BlockDevice[];
  readonly table: LunTable;
}

export interface SyncReport {
  readonly added: string[];
  readonly changed: string[];
  readonly removed: string[];
  /** Targets that could not be opened, with why; the rest are still exported. */
  readonly failed: { readonly name: string; readonly error: string }[];
}

export class LiveTargets implements DiskControl {
  readonly #opts: LiveTargetsOptions;
  readonly #exported = new Map<string, Exported>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: LiveTargetsOptions) {
    this.#opts = options;
  }

  /** Applies the desired set; calls are serialised, so two quick changes cannot interleave. */
  sync(desired: readonly DesiredTarget[]): Promise<SyncReport> {
    const run = this.#queue.then(() => this.#sync(desired));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Closes every device (server shutdown). */
  close(): Promise<void> {
    return this.sync([]).then(() => undefined);
  }

  async #sync(desired: readonly DesiredTarget[]): Promise<SyncReport> {
    const report: SyncReport = { added: [], changed: [], removed: [], failed: [] };
    // Keyed as the directory keys targets, so a change of spelling is not a removal and an add.
    const wanted = new Map(desired.map((t) => [normalizeIscsiName(t.name), t]));
    for (const [key, current] of this.#exported) {
      if (wanted.has(key)) continue;
      const name = this.#opts.directory.get(key)?.name ?? key;
      this.#opts.directory.remove(key);
      this.#opts.dropSessions(name, 'target removed');
      this.#exported.delete(key);
      await closeAll(current.devices);
      report.removed.push(name);
    }
    for (const [key, target] of wanted) {
      const lunKey = JSON.stringify(target.luns.map((l) => [l.lun, l.path, l.readOnly, l.sizeBytes ?? 0, l.basePath ?? '']).sort());
      const current = this.#exported.get(key);
      let exported = current;
      if (current === undefined || current.lunKey !== lunKey) {
        try {
          exported = await this.#open(target, lunKey);
        } catch (err) {
          report.failed.push({ name: target.name, error: (err as Error).message });
          this.#opts.log.error({ target: target.name, err }, 'cannot export target: a LUN could not be opened');
          continue;
        }
      }
      if (exported === undefined) continue;
      // Access changes (CHAP, initiators) keep the devices but must remember the new settings.
      exported = { ...exported, target };
      this.#exported.set(key, exported);
      const entry: ExportedTarget = { ...entryOf(target), device: exported.table };
      const before = this.#opts.directory.get(key);
      this.#opts.directory.add(entry);
      if (current === undefined) report.added.push(target.name);
      else if (current.devices !== exported.devices) {
        this.#opts.dropSessions(target.name, 'target LUNs changed');
        await closeAll(current.devices);
        report.changed.push(target.name);
      } else if (before !== null && !sameAccess(before, entry)) report.changed.push(target.name);
    }
    return report;
  }

  async #open(target: DesiredTarget, lunKey: string): Promise<Exported> {
    const devices: BlockDevice[] = [];
    const units = new Map<number, BlockLogicalUnit>();
    try {
      for (const lun of target.luns) {
        const device = await this.#opts.openDevice(lun.path, { readOnly: lun.readOnly, ...(lun.basePath !== undefined ? { basePath: lun.basePath } : {}) });
        devices.push(device);
        units.set(lun.lun, new BlockLogicalUnit(device, { productId: lun.productId }));
      }
    } catch (err) {
      await closeAll(devices);
      throw err;
    }
    return { target, lunKey, devices, table: new LunTable(units) };
  }

  /**
   * A machine is starting a new boot: the discard-on-reboot disks of this target go back to
   * their image. Sessions left from the previous boot are dropped first (their machine has
   * restarted), the files are closed, reset and opened again. Resolves to the LUNs reset.
   */
  resetForBoot(targetName: string): Promise<number[]> {
    const run = this.#queue.then(async () => {
      const key = normalizeIscsiName(targetName);
      const current = this.#exported.get(key);
      const reset = current?.target.luns.filter((l) => l.discardOnReboot === true && l.basePath !== undefined) ?? [];
      const resetOverlay = this.#opts.resetOverlay;
      if (current === undefined || reset.length === 0 || resetOverlay === undefined) return [];
      this.#opts.directory.remove(key);
      this.#opts.dropSessions(current.target.name, 'the machine is booting again: its disk goes back to the image');
      this.#exported.delete(key);
      await closeAll(current.devices);
      for (const lun of reset) await resetOverlay(lun.path);
      const reopened = await this.#open(current.target, current.lunKey);
      this.#exported.set(key, reopened);
      this.#opts.directory.add({ ...entryOf(current.target), device: reopened.table });
      return reset.map((l) => l.lun);
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * A snapshot of a live disk: its overlay device holds new writes and flushes (writes in flight
   * finish first), `body` copies the file, then the held writes go on. Sessions stay logged in;
   * the machine sees a short pause in writes, as with an LVM snapshot. Serialised with sync, so
   * the device cannot be closed or swapped under the copy.
   */
  withFrozenDisk<T>(path: string, body: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(async () => {
      const devices = [...this.#exported.values()].flatMap((e) => e.devices.filter((d, i) => d instanceof OverlayDevice && e.target.luns[i]?.path === path));
      const thaws: (() => void)[] = [];
      try {
        for (const device of devices) if (device instanceof OverlayDevice) thaws.push(await device.freezeWrites());
        return await body();
      } finally {
        for (const thaw of thaws) thaw();
      }
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Rollback and moving a disk with its changes rewrite the overlay file, which no device may
   * have open: the targets exporting it are withdrawn (sessions dropped, files closed) while
   * `body` runs; the caller's next sync() offers them again with the new file.
   */
  whileDetached<T>(path: string, reason: string, body: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(async () => {
      for (const [key, current] of [...this.#exported]) {
        if (!current.target.luns.some((l) => l.path === path)) continue;
        this.#opts.directory.remove(key);
        this.#opts.dropSessions(current.target.name, reason);
        this.#exported.delete(key);
        await closeAll(current.devices);
      }
      return body();
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/** What disk snapshots and rollbacks need from the live targets (targets/disk-snapshots.ts). */
export interface DiskControl {
  /** Runs `body` while the disk's open overlay (if it is exported) holds its writes, flushed. */
  withFrozenDisk<T>(path: string, body: () => Promise<T>): Promise<T>;
  /** Ends the sessions of every target exporting the disk and closes it; the next sync reopens it. */
  whileDetached<T>(path: string, reason: string, body: () => Promise<T>): Promise<T>;
}

function entryOf(target: DesiredTarget): Omit<ExportedTarget, 'device'> {
  return { name: target.name, alias: target.alias, chap: target.chap, mutualChap: target.mutualChap, allowedInitiators: target.allowedInitiators };
}

function sameAccess(a: ExportedTarget, b: ExportedTarget): boolean {
  return JSON.stringify([a.alias, a.chap, a.mutualChap, a.allowedInitiators]) === JSON.stringify([b.alias, b.chap, b.mutualChap, b.allowedInitiators]);
}

function closeAll(devices: readonly BlockDevice[]): Promise<void> {
  return Promise.all(devices.map((d) => new Promise<void>((resolve) => d.close(() => resolve())))).then(() => undefined);
}
