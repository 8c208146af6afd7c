// CDB → ScsiCommand. Looks the opcode (and service action) up in the command table, checks the
// CDB length and the usage map, then runs the row's decoder. Every byte string either decodes
// or throws ScsiError (ILLEGAL REQUEST); reads are bounds-checked first, so no RangeError.
import type { ScsiCommand } from './command.ts';
import { COMMANDS } from './cdb-table.ts';
import type { CommandSpec } from './cdb-table.ts';
import { Asc, illegalRequest, invalidFieldInCdb } from './sense.ts';

/** Opcodes whose byte 1 bits 4-0 select a service action (SPC-4 4.2.2). */
const BY_OPCODE = new Map<number, CommandSpec>();
const BY_SERVICE_ACTION = new Map<number, Map<number, CommandSpec>>();
for (const spec of COMMANDS) {
  if (spec.serviceAction === null) {
    BY_OPCODE.set(spec.opcode, spec);
  } else {
    const actions = BY_SERVICE_ACTION.get(spec.opcode) ?? new Map<number, CommandSpec>();
    actions.set(spec.serviceAction, spec);
    BY_SERVICE_ACTION.set(spec.opcode, actions);
  }
}

export const SERVICE_ACTION_MASK = 0x1f;

export function hasServiceActions(opcode: number): boolean {
  return BY_SERVICE_ACTION.has(opcode);
}

/** The table row for an opcode (and service action), or undefined when unsupported. */
export function findCommandSpec(opcode: number, serviceAction: number): CommandSpec | undefined {
  const actions = BY_SERVICE_ACTION.get(opcode);
  return actions === undefined ? BY_OPCODE.get(opcode) : actions.get(serviceAction);
}

function lookup(cdb: Buffer): CommandSpec {
  if (cdb.length === 0) throw illegalRequest(Asc.InvalidCommandOperationCode);
  const opcode = cdb.readUInt8(0);
  const actions = BY_SERVICE_ACTION.get(opcode);
  if (actions === undefined) {
    const spec = BY_OPCODE.get(opcode);
    if (spec === undefined) throw illegalRequest(Asc.InvalidCommandOperationCode);
    return spec;
  }
  // SPC-4 4.2.2: an unsupported service action of a supported opcode is INVALID FIELD IN CDB.
  const spec = cdb.length > 1 ? actions.get(cdb.readUInt8(1) & SERVICE_ACTION_MASK) : undefined;
  if (spec === undefined) throw invalidFieldInCdb(1, 4);
  return spec;
}

/** Any bit set outside the usage map names an unsupported option or a reserved field. */
function checkUsage(cdb: Buffer, usage: readonly number[]): void {
  for (let i = 1; i < usage.length; i++) {
    const extra = cdb.readUInt8(i) & ~(usage[i] ?? 0) & 0xff;
    if (extra !== 0) throw invalidFieldInCdb(i, 31 - Math.clz32(extra));
  }
}

export function decodeCdb(cdb: Buffer): ScsiCommand {
  const spec = lookup(cdb);
  // iSCSI always carries at least 16 bytes; a shorter buffer cannot hold this CDB.
  if (cdb.length < spec.usage.length) throw illegalRequest(Asc.InvalidFieldInCdb);
  checkUsage(cdb, spec.usage);
  return spec.decode(cdb);
}
