// Mode pages (SPC-4 7.5, SBC-3 6.4) as data: each page's current and default bytes and its
// changeable-bits mask. MODE SENSE reports them; MODE SELECT accepts a page only when every
// bit outside the mask equals the current value.
import type { ModeSense } from './command.ts';
import { Asc, ScsiError, SenseKey, invalidFieldInCdb } from './sense.ts';
import type { UnitState } from './unit-state.ts';

export interface ModePageSpec {
  readonly pageCode: number;
  readonly name: string;
  /** Page bytes, header included, for the given WCE value. */
  readonly encode: (writeCacheEnabled: boolean) => Buffer;
  /** Page header, then 1 for each bit MODE SELECT may change (SPC-4 6.12.2.2). */
  readonly changeable: Buffer;
  /** Applies an already validated page from MODE SELECT. */
  readonly apply: (unit: UnitState, page: Buffer) => void;
}

const ignore = (): void => {};

function page(pageCode: number, length: number, fill: (b: Buffer) => void = ignore): Buffer {
  const b = Buffer.alloc(length);
  b[0] = pageCode;
  b[1] = length - 2; // PAGE LENGTH
  fill(b);
  return b;
}

const WCE = 0x04;

export const MODE_PAGES: readonly ModePageSpec[] = [
  {
    // Caching (SBC-3 6.4.5): WCE says writes may sit in a volatile cache (the host page cache)
    // until SYNCHRONIZE CACHE or FUA; clearing it makes every write durable.
    pageCode: 0x08,
    name: 'Caching',
    encode: (wce) => page(0x08, 20, (b) => (b[2] = wce ? WCE : 0)),
    changeable: page(0x08, 20, (b) => (b[2] = WCE)),
    apply: (unit, p) => {
      unit.writeCacheEnabled = ((p[2] ?? 0) & WCE) !== 0;
    },
  },
  {
    // Control (SPC-4 7.5.8): D_SENSE 0 (fixed format sense), QUEUE ALGORITHM MODIFIER 1
    // (commands may be reordered: the executor runs them concurrently).
    pageCode: 0x0a,
    name: 'Control',
    encode: () => page(0x0a, 12, (b) => (b[3] = 0x10)),
    changeable: page(0x0a, 12),
    apply: ignore,
  },
  {
    // Informational Exceptions Control (SPC-4 7.5.12): nothing to report, MRIE 0.
    pageCode: 0x1c,
    name: 'Informational Exceptions Control',
    encode: () => page(0x1c, 12),
    changeable: page(0x1c, 12),
    apply: ignore,
  },
];

const ALL_PAGES = 0x3f;
const ALL_SUBPAGES = 0xff;
const PageControl = { Current: 0, Changeable: 1, Default: 2, Saved: 3 } as const;

export function findModePage(pageCode: number): ModePageSpec | undefined {
  return MODE_PAGES.find((p) => p.pageCode === pageCode);
}

function selectPages(cmd: ModeSense): readonly ModePageSpec[] {
  // None of our pages has subpages: subpage 00h names the page, FFh "all subpages" of it.
  if (cmd.subpageCode !== 0x00 && cmd.subpageCode !== ALL_SUBPAGES) throw invalidFieldInCdb(3);
  if (cmd.pageCode === ALL_PAGES) return MODE_PAGES;
  const spec = findModePage(cmd.pageCode);
  if (spec === undefined) throw invalidFieldInCdb(2, 5);
  return [spec];
}

function pageBytes(spec: ModePageSpec, cmd: ModeSense, unit: UnitState): Buffer {
  switch (cmd.pageControl) {
    case PageControl.Changeable:
      return spec.changeable;
    case PageControl.Default:
      return spec.encode(unit.defaultWriteCacheEnabled);
    default:
      return spec.encode(unit.writeCacheEnabled);
  }
}

/** Mode parameter block descriptor (SBC-3 6.4.4): short (8 bytes) or long LBA (16 bytes). */
function blockDescriptor(unit: UnitState, long: boolean, changeable: boolean): Buffer {
  if (long) {
    const b = Buffer.alloc(16);
    if (!changeable) {
      b.writeBigUInt64BE(BigInt(unit.capacityBlocks), 0);
      b.writeUInt32BE(unit.blockSize, 12);
    }
    return b;
  }
  const b = Buffer.alloc(8);
  if (!changeable) {
    // SBC-3 6.4.4.2: FFFFFFFFh when the capacity does not fit.
    b.writeUInt32BE(Math.min(unit.capacityBlocks, 0xffffffff), 0);
    b.writeUIntBE(unit.blockSize, 5, 3);
  }
  return b;
}

/** DEVICE-SPECIFIC PARAMETER (SBC-3 6.4.1): WP, and DPOFUA since DPO and FUA are honoured. */
function deviceSpecificParameter(unit: UnitState): number {
  return (unit.device.readOnly ? 0x80 : 0x00) | 0x10;
}

/** Full MODE SENSE(6)/(10) data (SPC-4 6.12, 6.13, 7.5.5); the caller truncates it. */
export function executeModeSense(cmd: ModeSense, unit: UnitState): Buffer {
  if (cmd.pageControl === PageControl.Saved) {
    throw new ScsiError(SenseKey.IllegalRequest, Asc.SavingParametersNotSupported);
  }
  const pages = selectPages(cmd).map((spec) => pageBytes(spec, cmd, unit));
  const descriptors = cmd.dbd ? [] : [blockDescriptor(unit, cmd.llbaa, cmd.pageControl === PageControl.Changeable)];
  const descriptorLength = descriptors.reduce((n, d) => n + d.length, 0);
  const header = Buffer.alloc(cmd.cdbLength === 6 ? 4 : 8);
  if (cmd.cdbLength === 6) {
    header[2] = deviceSpecificParameter(unit);
    header[3] = descriptorLength;
  } else {
    header[3] = deviceSpecificParameter(unit);
    header[4] = cmd.llbaa && !cmd.dbd ? 0x01 : 0x00; // LONGLBA
    header.writeUInt16BE(descriptorLength, 6);
  }
  const data = Buffer.concat([header, ...descriptors, ...pages]);
  // MODE DATA LENGTH excludes itself (SPC-4 7.5.5).
  if (cmd.cdbLength === 6) data[0] = data.length - 1;
  else data.writeUInt16BE(data.length - 2, 0);
  return data;
}
