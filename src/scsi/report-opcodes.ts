// REPORT SUPPORTED OPERATION CODES (SPC-4 6.35), generated from the same command table the
// decoder uses, so the usage data is exactly what decodeCdb enforces.
import type { ReportSupportedOperationCodes } from './command.ts';
import { COMMANDS } from './cdb-table.ts';
import type { CommandSpec } from './cdb-table.ts';
import { SERVICE_ACTION_MASK, findCommandSpec, hasServiceActions } from './cdb.ts';
import { invalidFieldInCdb } from './sense.ts';

const ReportingOptions = { All: 0b000, OpcodeOnly: 0b001, OpcodeAndServiceAction: 0b010, OpcodeMaybeServiceAction: 0b011 } as const;
/** SUPPORT field (SPC-4 Table 180). */
const Support = { NotSupported: 0b001, Supported: 0b011 } as const;

/** Command timeouts descriptor (SPC-4 6.35.4): zeros mean "not specified". */
function timeoutsDescriptor(): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(0x0a, 0);
  return b;
}

/** SPC-4 6.35.3: byte 0 is the opcode and the service action sits in its own field. */
function usageData(spec: CommandSpec): Buffer {
  const usage = Buffer.from(spec.usage);
  if (spec.serviceAction !== null) usage[1] = ((usage[1] ?? 0) & ~SERVICE_ACTION_MASK) | spec.serviceAction;
  return usage;
}

function allCommands(rctd: boolean): Buffer {
  const sorted = [...COMMANDS].sort((a, b) => a.opcode - b.opcode || (a.serviceAction ?? 0) - (b.serviceAction ?? 0));
  const descriptors = sorted.map((spec) => {
    const d = Buffer.alloc(8);
    d[0] = spec.opcode;
    d.writeUInt16BE(spec.serviceAction ?? 0, 2);
    d[5] = (rctd ? 0x02 : 0) | (spec.serviceAction === null ? 0 : 0x01); // CTDP | SERVACTV
    d.writeUInt16BE(spec.usage.length, 6);
    return rctd ? Buffer.concat([d, timeoutsDescriptor()]) : d;
  });
  const header = Buffer.alloc(4);
  const body = Buffer.concat(descriptors);
  header.writeUInt32BE(body.length, 0); // COMMAND DATA LENGTH
  return Buffer.concat([header, body]);
}

function oneCommand(spec: CommandSpec | undefined, rctd: boolean): Buffer {
  const header = Buffer.alloc(4);
  if (spec === undefined) {
    header[1] = Support.NotSupported;
    return header;
  }
  header[1] = (rctd ? 0x80 : 0) | Support.Supported; // CTDP | SUPPORT
  header.writeUInt16BE(spec.usage.length, 2); // CDB SIZE
  return Buffer.concat([header, usageData(spec), ...(rctd ? [timeoutsDescriptor()] : [])]);
}

export function executeReportSupportedOperationCodes(cmd: ReportSupportedOperationCodes): Buffer {
  const opcode = cmd.requestedOperationCode;
  const sa = cmd.requestedServiceAction;
  const saFits = sa <= SERVICE_ACTION_MASK;
  switch (cmd.reportingOptions) {
    case ReportingOptions.All:
      return allCommands(cmd.rctd);
    case ReportingOptions.OpcodeOnly:
      // SPC-4 6.35.2: 001b on an opcode with service actions is INVALID FIELD IN CDB.
      if (hasServiceActions(opcode)) throw invalidFieldInCdb(2, 2);
      return oneCommand(findCommandSpec(opcode, 0), cmd.rctd);
    case ReportingOptions.OpcodeAndServiceAction:
      if (!hasServiceActions(opcode)) throw invalidFieldInCdb(2, 2);
      return oneCommand(saFits ? findCommandSpec(opcode, sa) : undefined, cmd.rctd);
    default:
      if (hasServiceActions(opcode)) return oneCommand(saFits ? findCommandSpec(opcode, sa) : undefined, cmd.rctd);
      return oneCommand(sa === 0 ? findCommandSpec(opcode, 0) : undefined, cmd.rctd);
  }
}
