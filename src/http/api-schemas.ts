// The REST API as data: every /api route with its method, what it does, whether it needs the
// token, and the zod schema of its body. Routes validate bodies with these schemas (a 400 that
// names the field), and /api/openapi.json is generated from the same table, so the document
// cannot drift from what the server accepts (openapi.test.ts checks every route is listed).
import { z } from 'zod';
import { newDisk, diskName } from '../store/repositories/disks.ts';
import { snapshotName } from '../store/repositories/snapshots.ts';
import { machinePatch, newMachine } from '../store/repositories/machines.ts';
import { lunInput, newTarget, targetPatch } from '../store/repositories/targets.ts';
import { StoreError, StoreErrorCode } from '../store/errors.ts';
import { captureBody } from '../capture/capture-request.ts';

export const machineWithDisks = newMachine.omit({ boot: true }).extend({
  disks: z.array(diskName).min(1, 'give at least one disk name').describe('Disk names in BIOS drive order; the machine gets a target of its own'),
  keepSan: z.boolean().optional(),
});
export const machineBody = z.union([newMachine, machineWithDisks]);


const diskMode = z.enum(['persistent', 'discard-on-reboot']).describe('persistent: keeps its changes; discard-on-reboot: back to the image at every boot');

export const machineWithImage = newMachine.omit({ boot: true }).extend({
  image: diskName.describe('The machine gets a copy-on-write disk of this image, NAME-disk, and a target of its own'),
  version: z.number().int().min(1).optional().describe('Default: the newest'),
  mode: diskMode.optional(),
});

export const newDiskBody = z.union([
  z.object({ name: diskName, image: diskName.describe('A copy-on-write disk of this image'), version: z.number().int().min(1).optional(), mode: diskMode.optional() }),
  z.object({ name: diskName, sizeBytes: z.number().int().min(512).describe('A new sparse disk in DATA_DIR/disks/'), readOnly: z.boolean().optional() }),
  newDisk.pick({ name: true, readOnly: true }).extend({ path: z.string().min(1).describe('An existing file or block device on the server (absolute path)') }),
]);

export const diskPatchBody = z
  .object({
    sizeBytes: z.number().int().min(512).describe('The new, larger size; plain disks only grow'),
    mode: diskMode,
    version: z.union([z.number().int().min(1), z.literal('latest')]).describe('Copy-on-write disks: move to this version of their image (the disk starts clean unless keepChanges)'),
    keepChanges: z.boolean().describe('With version, persistent disks: carry what the machine changed over to the new version, block by block'),
  })
  .partial()
  .refine((p) => Object.keys(p).length > 0, 'give sizeBytes, mode or version')
  .refine((p) => p.keepChanges !== true || p.version !== undefined, { message: 'keepChanges goes with version', path: ['keepChanges'] });

export const snapshotBody = z.object({ name: snapshotName.describe('A name for the snapshot, unique for this disk') });
export const rollbackBody = z.object({ snapshot: snapshotName.describe('The snapshot to go back to') });

export const newImageBody = z.object({
  name: diskName,
  path: z.string().min(1).describe('A raw base file already on the server (absolute path)'),
  source: z.string().max(1000).optional().describe('Where it came from, in words'),
});

export const lunBody = lunInput.omit({ lun: true });

export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** fastify syntax (:param). */
  readonly path: string;
  readonly summary: string;
  /** Changes need Authorization: Bearer <token>. */
  readonly auth: boolean;
  readonly body?: z.ZodType;
  /** 'sse' for the event stream, 'text' for Prometheus, 'pcap' for packet captures; JSON otherwise. */
  readonly produces?: 'json' | 'sse' | 'text' | 'pcap';
}

export const API_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', path: '/api/machines', summary: 'List machines (CHAP secrets redacted)', auth: false },
  { method: 'GET', path: '/api/machines/:ref', summary: 'One machine, by MAC or name', auth: false },
  { method: 'POST', path: '/api/machines', summary: 'Add a machine: with "boot" (an entry or menu), "disks" (it gets a target of its own) or "image" (and a copy-on-write disk of it)', auth: true, body: z.union([machineBody, machineWithImage]) },
  { method: 'PATCH', path: '/api/machines/:ref', summary: 'Change a machine', auth: true, body: machinePatch },
  { method: 'GET', path: '/api/machines/:ref/doctor', summary: 'Why a machine does not boot: its boot chain checked step by step (?firmware=bios|uefi)', auth: false },
  { method: 'GET', path: '/api/ipxe-errors/:code', summary: 'An iPXE error code explained: what failed and what to check', auth: false },
  { method: 'DELETE', path: '/api/machines/:ref', summary: 'Remove a machine and the target made for it', auth: true },
  { method: 'GET', path: '/api/disks', summary: 'List disks with size, space used and the LUNs that export them', auth: false },
  { method: 'GET', path: '/api/disks/:name', summary: 'One disk', auth: false },
  { method: 'POST', path: '/api/disks', summary: 'Create a sparse disk (sizeBytes), a copy-on-write disk of an image (image), or register an existing file (path)', auth: true, body: newDiskBody },
  { method: 'PATCH', path: '/api/disks/:name', summary: 'Grow a disk, change the mode of a copy-on-write disk, or move it to another image version (its sessions log in again)', auth: true, body: diskPatchBody },
  { method: 'DELETE', path: '/api/disks/:name', summary: 'Forget a disk and its snapshots (?deleteFile=true also deletes a file diskless created)', auth: true },
  { method: 'GET', path: '/api/disks/:name/snapshots', summary: 'Snapshots of a copy-on-write disk, oldest first', auth: false },
  { method: 'POST', path: '/api/disks/:name/snapshots', summary: 'Snapshot a copy-on-write disk, live (its writes pause for the copy of its changes)', auth: true, body: snapshotBody },
  { method: 'DELETE', path: '/api/disks/:name/snapshots/:snapshot', summary: 'Remove a snapshot and its file', auth: true },
  { method: 'POST', path: '/api/disks/:name/rollback', summary: 'Put a copy-on-write disk back as it was at a snapshot (its sessions log in again)', auth: true, body: rollbackBody },
  { method: 'GET', path: '/api/images', summary: 'Golden image versions, with the disks that overlay each', auth: false },
  { method: 'POST', path: '/api/images', summary: 'Register a raw base file as the next version of an image', auth: true, body: newImageBody },
  { method: 'DELETE', path: '/api/images/:name/:version', summary: 'Remove a version no disk uses (?deleteFile=true also deletes its file if diskless made it)', auth: true },
  { method: 'GET', path: '/api/targets', summary: 'List targets of the store with their LUNs', auth: false },
  { method: 'GET', path: '/api/targets/:iqn', summary: 'One target', auth: false },
  { method: 'POST', path: '/api/targets', summary: 'Add a target; it is exported at once', auth: true, body: newTarget },
  { method: 'PATCH', path: '/api/targets/:iqn', summary: 'Change alias, CHAP or allowed initiators', auth: true, body: targetPatch },
  { method: 'PUT', path: '/api/targets/:iqn/luns/:lun', summary: 'Point a LUN at a disk (its sessions end and log in again)', auth: true, body: lunBody },
  { method: 'DELETE', path: '/api/targets/:iqn/luns/:lun', summary: 'Remove a LUN', auth: true },
  { method: 'DELETE', path: '/api/targets/:iqn', summary: 'Remove a target (its disks stay; its sessions end)', auth: true },
  { method: 'GET', path: '/api/sessions', summary: 'Live iSCSI sessions with byte and command counters', auth: false },
  { method: 'GET', path: '/api/leases', summary: 'DHCP leases (full mode): address, MAC, state, expiry', auth: false },
  { method: 'GET', path: '/api/events', summary: 'Boot events (?mac=, ?since= ms), oldest first', auth: false },
  { method: 'GET', path: '/api/events/stream', summary: 'Boot events as they happen (Server-Sent Events, event: boot)', auth: false, produces: 'sse' },
  { method: 'GET', path: '/api/openapi.json', summary: 'This document', auth: false },
  { method: 'GET', path: '/api/warnings', summary: 'Warnings the server raised from live traffic (?mac=, ?since= ms): machine, code, text, fix, iPXE error', auth: false },
  { method: 'GET', path: '/api/explain/:code', summary: 'An iPXE error code or a warning code explained', auth: false },
  { method: 'POST', path: '/api/machines/:ref/capture', summary: "Start capturing a machine's boot traffic (DHCP, TFTP, iSCSI) into a pcap file, bounded in time and size", auth: true, body: captureBody },
  { method: 'GET', path: '/api/machines/:ref/capture', summary: "Download the machine's last capture (pcap; also while it runs)", auth: true, produces: 'pcap' },
  { method: 'DELETE', path: '/api/machines/:ref/capture', summary: "Stop the machine's capture", auth: true },
  { method: 'GET', path: '/api/captures', summary: 'Packet captures: machine, state, size, bounds', auth: false },
];

/** Validates a request body; a failure is a 400 whose message names the field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, what: string): z.output<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message));
  throw new StoreError(StoreErrorCode.Invalid, `invalid ${what}: ${issues.join('; ')}`);
}
