// What the portal should export: the configuration file's targets, then the store's (added
// through the API or `diskless target add`), with each store LUN's disk name resolved to its
// backing file. A name in both places: the configuration file wins, and the clash is reported.
import type { TargetConfig } from '../config/schema.ts';
import type { Disk } from '../store/repositories/disks.ts';
import type { Image } from '../store/repositories/images.ts';
import type { Target } from '../store/repositories/targets.ts';
import type { DesiredTarget } from './live-targets.ts';
import { normalizeIscsiName } from '../iscsi/target-directory.ts';

export interface DesiredTargets {
  readonly targets: DesiredTarget[];
  /** Things that could not be exported, in words. */
  readonly problems: string[];
}

export function desiredTargets(fromConfig: readonly TargetConfig[], fromStore: readonly Target[], disks: readonly Disk[], images: readonly Image[] = []): DesiredTargets {
  const problems: string[] = [];
  const byName = new Map(disks.map((d) => [d.name, d]));
  const imageById = new Map(images.map((i) => [i.id, i]));
  const targets: DesiredTarget[] = fromConfig.map((t) => ({
    name: t.iqn,
    alias: t.alias ?? null,
    chap: t.chap ?? null,
    mutualChap: t.mutualChap ?? null,
    allowedInitiators: t.initiators ?? null,
    luns: t.luns.map((l) => ({ lun: l.lun, path: l.path, readOnly: l.readOnly, productId: t.alias ?? 'disk' })),
  }));
  // Two spellings of one iSCSI name are one target (the portal's directory keys them alike).
  const seen = new Set(targets.map((t) => normalizeIscsiName(t.name)));
  for (const t of fromStore) {
    if (seen.has(normalizeIscsiName(t.iqn))) {
      problems.push(`target ${t.iqn} is both in the configuration file and in the store; the configuration file's is exported`);
      continue;
    }
    seen.add(normalizeIscsiName(t.iqn));
    const luns = [];
    for (const l of t.luns) {
      const disk = byName.get(l.disk);
      if (disk === undefined) {
        problems.push(`LUN ${l.lun} of ${t.iqn} names disk ${l.disk}, which is gone`);
        continue;
      }
      const image = disk.imageId === null ? undefined : imageById.get(disk.imageId);
      if (disk.imageId !== null && image === undefined) {
        problems.push(`disk ${disk.name} is a copy-on-write disk of an image version that is gone`);
        continue;
      }
      luns.push({
        lun: l.lun,
        path: disk.path,
        readOnly: l.readOnly || disk.readOnly,
        sizeBytes: disk.sizeBytes,
        productId: disk.name,
        ...(image !== undefined ? { basePath: image.path, discardOnReboot: disk.mode === 'discard-on-reboot' } : {}),
      });
    }
    targets.push({
      name: t.iqn,
      alias: t.alias,
      chap: t.chap === null ? null : { user: t.chap.user, secret: t.chap.secret.reveal() },
      mutualChap: t.mutualChap === null ? null : { user: t.mutualChap.user, secret: t.mutualChap.secret.reveal() },
      allowedInitiators: t.allowedInitiators,
      luns,
    });
  }
  return { targets, problems };
}
