// A direct access block device logical unit (SBC-3) over a BlockDevice: routes each decoded
// command to its handler. No unit attentions are ever raised: nothing here changes under the
// initiator (capacity and mode pages stay fixed), and boot initiators such as iPXE treat a
// CHECK CONDITION on their first READ as fatal instead of retrying (SAM-5 5.14 makes UA
// reporting a device-server choice for these events).
import { assertNever } from '../lib/errors.ts';
import type { BlockDevice } from '../storage/block-device.ts';
import { executeReadCapacity10, executeReadCapacity16 } from './capacity.ts';
import type { ScsiCommand } from './command.ts';
import { decodeCdb } from './cdb.ts';
import { dataOutLength } from './data-out-length.ts';
import { executeCompareAndWrite } from './compare-and-write.ts';
import { runGuarded } from './completion.ts';
import { executeInquiry } from './inquiry.ts';
import { executeModeSense } from './mode-pages.ts';
import { executeModeSelect } from './mode-select.ts';
import { executeOrWrite } from './orwrite.ts';
import { executePersistentReserveIn } from './persistent-reserve-in.ts';
import { executePersistentReserveOut } from './persistent-reserve-out.ts';
import { executePreFetch } from './prefetch.ts';
import { executeReadDefectData } from './read-defect-data.ts';
import { executeReportLuns } from './report-luns.ts';
import { executeReportSupportedOperationCodes } from './report-opcodes.ts';
import { GOOD, RESERVATION_CONFLICT, goodTruncated, goodWithData, responseForError } from './response.ts';
import { conflicts } from './reservation-access.ts';
import { nexusIdOf } from './reservation-state.ts';
import { dropSpc2Reservation, executeRelease, executeReserve } from './reserve-release.ts';
import { executeRead, executeSynchronizeCache, executeVerify, executeWrite, executeWriteAndVerify } from './sbc-read-write.ts';
import { encodeNoSense } from './sense.ts';
import { SerialQueue } from './serial-queue.ts';
import type { InitiatorPort, ScsiDone, ScsiRequest } from './types.ts';
import { createUnitState } from './unit-state.ts';
import type { LogicalUnitOptions, UnitState } from './unit-state.ts';
import { executeUnmap } from './unmap.ts';
import { executeWriteAtomic } from './write-atomic.ts';
import { executeWriteSame } from './write-same.ts';

export type { LogicalUnitOptions } from './unit-state.ts';

/** `done`, with the data-out length the CDB called for added to the response. */
function withDataOutLength(done: ScsiDone, length: number): ScsiDone {
  return (r) => done({ status: r.status, dataIn: r.dataIn, sense: r.sense, dataOutLength: length });
}

export class BlockLogicalUnit {
  readonly state: UnitState;
  /** COMPARE AND WRITE, ORWRITE and WRITE ATOMIC run one at a time through this queue. */
  private readonly serialQueue = new SerialQueue();

  constructor(
    readonly device: BlockDevice,
    options: LogicalUnitOptions = {},
  ) {
    this.state = createUnitState(device, options);
  }

  /** Decodes and executes one command; `done` is called exactly once, asynchronously. */
  execute(request: ScsiRequest, done: ScsiDone): void {
    runGuarded(done, (finish) => this.run(decodeCdb(request.cdb), request, finish));
  }

  /** Executes an already decoded command (the LUN table decodes once to route). */
  executeCommand(command: ScsiCommand, request: ScsiRequest, done: ScsiDone): void {
    runGuarded(done, (finish) => this.run(command, request, finish));
  }

  /** LUN reset: SPC-2 reservations go, persistent ones stay (SPC-4 5.12.1). */
  reset(): void {
    dropSpc2Reservation(this.state.reservations, null);
  }

  /** I_T nexus loss: the SPC-2 reservation held through that nexus goes (SPC-2 5.5.1). */
  nexusLost(initiator: InitiatorPort): void {
    dropSpc2Reservation(this.state.reservations, nexusIdOf(initiator));
  }

  /**
   * Executes a decoded command without a guard of its own: it may throw (ScsiError), and may
   * call `done` synchronously. Only for callers that guard it (a Guard, as LunTable does).
   */
  runDecoded(command: ScsiCommand, request: ScsiRequest, done: ScsiDone): void {
    this.run(command, request, done);
  }

  private run(command: ScsiCommand, request: ScsiRequest, done: ScsiDone): void {
    const length = dataOutLength(command, this.state.blockSize);
    if (length === null) return this.dispatch(command, request, done);
    // Reported with any status, errors thrown by the command included: libiscsi's residual
    // tests expect the overflow of a write whose data-out was shorter than one block even when
    // the command is refused for it. The caller's guard keeps done to one call.
    const report = withDataOutLength(done, length);
    try {
      this.dispatch(command, request, report);
    } catch (err) {
      report(responseForError(err));
    }
  }

  private dispatch(cmd: ScsiCommand, request: ScsiRequest, done: ScsiDone): void {
    const unit = this.state;
    const dataOut = request.dataOut;
    // The only reservation cost for an unreserved unit: one field test (SPC-4 5.12.2, SBC-3 4.17).
    if (unit.reservations.reservation !== null && conflicts(cmd, nexusIdOf(request.initiator), unit.reservations)) return done(RESERVATION_CONFLICT);
    switch (cmd.kind) {
      case 'testUnitReady':
      case 'startStopUnit': // no medium to spin or eject: always ready (RMB=0)
      case 'preventAllowMediumRemoval':
        return done(GOOD);
      case 'requestSense':
        // Sense is returned with CHECK CONDITION (autosense), never held, so there is none pending.
        return done(goodTruncated(encodeNoSense(cmd.desc), cmd.allocationLength));
      case 'inquiry':
        return done(goodTruncated(executeInquiry(cmd, unit), cmd.allocationLength));
      case 'modeSense':
        return done(goodTruncated(executeModeSense(cmd, unit), cmd.allocationLength));
      case 'modeSelect':
        executeModeSelect(cmd, dataOut, unit);
        return done(GOOD);
      case 'readCapacity10':
        return done(goodWithData(executeReadCapacity10(unit)));
      case 'readCapacity16':
        return done(goodTruncated(executeReadCapacity16(unit), cmd.allocationLength));
      case 'read':
        return executeRead(cmd, unit, done, request.allocateDataIn);
      case 'write':
        return executeWrite(cmd, dataOut, unit, done);
      case 'writeAndVerify':
        return executeWriteAndVerify(cmd, dataOut, unit, done);
      case 'verify':
        return executeVerify(cmd, dataOut, unit, done);
      case 'synchronizeCache':
        return executeSynchronizeCache(cmd, unit, done);
      case 'writeSame':
        return executeWriteSame(cmd, dataOut, unit, done);
      case 'unmap':
        return executeUnmap(cmd, dataOut, unit, done);
      case 'compareAndWrite':
        return executeCompareAndWrite(cmd, dataOut, unit, this.serialQueue, done);
      case 'orWrite':
        return executeOrWrite(cmd, dataOut, unit, this.serialQueue, done);
      case 'writeAtomic':
        return executeWriteAtomic(cmd, dataOut, unit, this.serialQueue, done);
      case 'preFetch':
        return done(executePreFetch(cmd, unit));
      case 'readDefectData':
        return done(goodTruncated(executeReadDefectData(cmd), cmd.allocationLength));
      case 'persistentReserveIn':
        return done(goodTruncated(executePersistentReserveIn(cmd, unit.reservations), cmd.allocationLength));
      case 'persistentReserveOut':
        executePersistentReserveOut(cmd, dataOut, request.initiator, unit.reservations);
        return done(GOOD);
      case 'reserve':
        executeReserve(nexusIdOf(request.initiator), unit.reservations);
        return done(GOOD);
      case 'release':
        executeRelease(nexusIdOf(request.initiator), unit.reservations);
        return done(GOOD);
      case 'reportLuns':
        // Standing alone, this unit is LUN 0; a LunTable answers REPORT LUNS before this.
        return done(goodTruncated(executeReportLuns(cmd, [0]), cmd.allocationLength));
      case 'reportSupportedOperationCodes':
        return done(goodTruncated(executeReportSupportedOperationCodes(cmd), cmd.allocationLength));
      default:
        return assertNever(cmd);
    }
  }
}
