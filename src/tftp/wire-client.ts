// The client side of the TFTP codec: encoding what a client sends. The server never needs it;
// tests, fuzzing and the benchmark's raw client do (wire.ts decodes these packets).
import { assertNever } from '../lib/errors.ts';
import type { ClientPacket } from './wire.ts';
import { DATA_HEADER_LENGTH, encodeErrorPacket, encodeOptionList, Opcode, writeDataHeader } from './wire.ts';

export function encodeClientPacket(p: ClientPacket): Buffer {
  switch (p.kind) {
    case 'rrq':
    case 'wrq': {
      const head = Buffer.from(`\0\0${p.filename}\0${p.mode}\0`, 'utf8');
      head.writeUInt16BE(p.kind === 'rrq' ? Opcode.Rrq : Opcode.Wrq, 0);
      return Buffer.concat([head, ...encodeOptionList(p.options)]);
    }
    case 'data': {
      const b = Buffer.alloc(DATA_HEADER_LENGTH + p.data.length);
      writeDataHeader(b, 0, p.block);
      p.data.copy(b, DATA_HEADER_LENGTH);
      return b;
    }
    case 'ack': {
      const b = Buffer.alloc(4);
      b.writeUInt16BE(Opcode.Ack, 0);
      b.writeUInt16BE(p.block & 0xffff, 2);
      return b;
    }
    case 'error':
      return encodeErrorPacket(p.code, p.message);
    default:
      return assertNever(p);
  }
}
