// The SCSI target device (SAM-5 4.6): LUN number → logical unit. LUN 0 is a real disk (no
// controller LUN as tgtd has), REPORT LUNS is answered for any LUN, and a LUN without a logical
// unit gets the SPC-4 treatment: INQUIRY with peripheral qualifier 011b, REQUEST SENSE with
// LOGICAL UNIT NOT SUPPORTED as data, and CHECK CONDITION for everything else.
import type { ScsiCommand } from './command.ts';
import { decodeCdb } from './cdb.ts';
import { Guard } from './completion.ts';
import { inquiryForMissingLun } from './inquiry.ts';
import type { BlockLogicalUnit } from './logical-unit.ts';
import { MAX_FLAT_LUN } from './lun.ts';
import { Opcode } from './opcode.ts';
import { executeReportLuns } from './report-luns.ts';
import { goodTruncated } from './response.ts';
import { Asc, ScsiError, SenseKey, encodeFixedSense } from './sense.ts';
import type { InitiatorPort, ScsiDone, ScsiRequest, ScsiResponse, ScsiTargetDevice } from './types.ts';
import { DisklessError, assertNever } from '../lib/errors.ts';

/** SAM-5 5.11: commands a device server answers even for a LUN with no logical unit. */
const ANSWERED_WITHOUT_UNIT: ReadonlySet<number> = new Set([Opcode.Inquiry, Opcode.ReportLuns, Opcode.RequestSense]);

const lunNotSupported = (): ScsiError => new ScsiError(SenseKey.IllegalRequest, Asc.LogicalUnitNotSupported);

export class LunTable implements ScsiTargetDevice {
  private readonly units = new Map<number, BlockLogicalUnit>();

  constructor(units: Iterable<readonly [number, BlockLogicalUnit]> = []) {
    for (const [lun, unit] of units) this.add(lun, unit);
  }

  add(lun: number, unit: BlockLogicalUnit): void {
    if (!Number.isInteger(lun) || lun < 0 || lun > MAX_FLAT_LUN) throw new DisklessError('SCSI_LUN_RANGE', `LUN ${lun} is outside 0-${MAX_FLAT_LUN}`);
    if (this.units.has(lun)) throw new DisklessError('SCSI_LUN_TAKEN', `LUN ${lun} already has a logical unit`);
    this.units.set(lun, unit);
  }

  remove(lun: number): boolean {
    return this.units.delete(lun);
  }

  get(lun: number): BlockLogicalUnit | undefined {
    return this.units.get(lun);
  }

  /** LUN numbers in ascending order. */
  luns(): number[] {
    return [...this.units.keys()].sort((a, b) => a - b);
  }

  hasLun(lun: number): boolean {
    return this.units.has(lun);
  }

  execute(lun: number, request: ScsiRequest, done: ScsiDone): void {
    // runGuarded written out: one closure per command fewer (this runs for every command).
    const guard = new Guard(done);
    try {
      this.route(lun, request, guard.callback());
    } catch (err) {
      guard.fail(err);
    }
    guard.leave();
  }

  /** Decodes and runs one command; may throw and may finish synchronously (the caller guards). */
  private route(lun: number, request: ScsiRequest, finish: ScsiDone): void {
    const unit = this.units.get(lun);
    if (unit === undefined && !ANSWERED_WITHOUT_UNIT.has(request.cdb[0] ?? -1)) throw lunNotSupported();
    const command = decodeCdb(request.cdb);
    if (command.kind === 'reportLuns') return finish(goodTruncated(executeReportLuns(command, this.luns()), command.allocationLength));
    if (unit === undefined) return finish(this.answerWithoutUnit(command));
    // Inside this guard already: the unit's own guard would only add a second layer.
    unit.runDecoded(command, request, finish);
  }

  private answerWithoutUnit(command: ScsiCommand): ScsiResponse {
    switch (command.kind) {
      case 'inquiry':
        return goodTruncated(inquiryForMissingLun(command), command.allocationLength);
      case 'requestSense':
        // SPC-4 6.39: the sense data itself reports the missing logical unit.
        return goodTruncated(encodeFixedSense(lunNotSupported()), command.allocationLength);
      case 'reportLuns': // answered before a unit is looked up
      case 'testUnitReady':
      case 'modeSense':
      case 'modeSelect':
      case 'startStopUnit':
      case 'preventAllowMediumRemoval':
      case 'readCapacity10':
      case 'readCapacity16':
      case 'read':
      case 'write':
      case 'writeAndVerify':
      case 'verify':
      case 'synchronizeCache':
      case 'writeSame':
      case 'unmap':
      case 'compareAndWrite':
      case 'reportSupportedOperationCodes':
      case 'preFetch':
      case 'orWrite':
      case 'writeAtomic':
      case 'readDefectData':
      case 'persistentReserveIn':
      case 'persistentReserveOut':
      case 'reserve':
      case 'release':
        throw lunNotSupported();
      default:
        return assertNever(command);
    }
  }

  /**
   * LUN RESET / TARGET WARM RESET (SAM-5 6.3): SPC-2 reservations are released (SPC-2 5.5.1);
   * persistent reservations and registrations are not (SPC-4 5.12.1). There are no unit
   * attentions (see logical-unit.ts) and no queued state; commands in flight finish normally.
   */
  reset(lun: number | null): void {
    if (lun === null) for (const unit of this.units.values()) unit.reset();
    else this.units.get(lun)?.reset();
  }

  /** I_T nexus loss (SAM-5 6.3.4): the nexus's SPC-2 reservations are released on every unit. */
  nexusLost(initiator: InitiatorPort): void {
    for (const unit of this.units.values()) unit.nexusLost(initiator);
  }
}
