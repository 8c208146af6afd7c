// How many bytes of data-out a decoded command calls for (SBC-3 / SPC-4 per command), or
// null for commands that take none. Reported to the transport for write residuals.
import { assertNever } from '../lib/errors.ts';
import type { ScsiCommand } from './command.ts';

export function dataOutLength(cmd: ScsiCommand, blockSize: number): number | null {
  switch (cmd.kind) {
    case 'write':
    case 'writeAndVerify':
    case 'orWrite':
    case 'writeAtomic':
      return cmd.blocks * blockSize;
    case 'verify':
      return cmd.bytchk === 0 ? null : cmd.bytchk === 1 ? cmd.blocks * blockSize : blockSize;
    case 'writeSame':
      return cmd.ndob ? null : blockSize;
    case 'compareAndWrite':
      return 2 * cmd.blocks * blockSize;
    case 'unmap':
    case 'modeSelect':
    case 'persistentReserveOut':
      return cmd.parameterListLength;
    case 'testUnitReady':
    case 'requestSense':
    case 'inquiry':
    case 'modeSense':
    case 'startStopUnit':
    case 'preventAllowMediumRemoval':
    case 'readCapacity10':
    case 'readCapacity16':
    case 'read':
    case 'synchronizeCache':
    case 'reportLuns':
    case 'reportSupportedOperationCodes':
    case 'preFetch':
    case 'readDefectData':
    case 'persistentReserveIn':
    case 'reserve':
    case 'release':
      return null;
    default:
      return assertNever(cmd);
  }
}
