// TFTP packet codec: RFC 1350 (RRQ, WRQ, DATA, ACK, ERROR) and RFC 2347 (options, OACK).
// Pure: bytes in, readonly objects out. Decoders throw only DecodeError.
//
// Client-to-server and server-to-client packets are separate unions: the server decodes what a
// client sends and encodes what a server sends (wire-client.ts holds the other direction, for
// tests and benchmarks).
import { assertNever, DecodeError } from '../lib/errors.ts';

export const Opcode = {
  Rrq: 1,
  Wrq: 2,
  Data: 3,
  Ack: 4,
  Error: 5,
  /** RFC 2347 option acknowledgment. */
  Oack: 6,
} as const;

/** RFC 1350 section 5 error codes, plus 8 from RFC 2347 (option negotiation failed). */
export const ErrorCode = {
  NotDefined: 0,
  FileNotFound: 1,
  AccessViolation: 2,
  DiskFull: 3,
  IllegalOperation: 4,
  UnknownTid: 5,
  FileExists: 6,
  NoSuchUser: 7,
  OptionNegotiation: 8,
} as const;
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** RFC 1350 opcode and block number: every DATA and ACK starts with these 4 bytes. */
export const DATA_HEADER_LENGTH = 4;
/** RFC 2348: the largest blksize, chosen so a DATA packet fits a 65535-byte IP datagram. */
export const MAX_BLOCK_SIZE = 65464;
export const MAX_PACKET_LENGTH = DATA_HEADER_LENGTH + MAX_BLOCK_SIZE;

/** One RFC 2347 option as it appeared on the wire: name keeps the client's spelling. */
export interface TftpOption {
  readonly name: string;
  readonly value: string;
}

export interface RequestPacket {
  readonly kind: 'rrq' | 'wrq';
  readonly filename: string;
  /** Transfer mode as sent ("octet", "netascii", "mail"); compare case-insensitively. */
  readonly mode: string;
  /** In request order; duplicates kept (negotiation takes the first). */
  readonly options: readonly TftpOption[];
}

export interface DataPacket {
  readonly kind: 'data';
  /** 16-bit block number as on the wire (it wraps past 65535). */
  readonly block: number;
  readonly data: Buffer;
}

export interface AckPacket {
  readonly kind: 'ack';
  readonly block: number;
}

export interface ErrorPacket {
  readonly kind: 'error';
  readonly code: number;
  readonly message: string;
}

export interface OackPacket {
  readonly kind: 'oack';
  readonly options: readonly TftpOption[];
}

/** What a client sends to a read-only server (DATA only arrives from confused or WRQ clients). */
export type ClientPacket = RequestPacket | DataPacket | AckPacket | ErrorPacket;
/** What a server sends. */
export type ServerPacket = DataPacket | OackPacket | ErrorPacket;

/**
 * A bounded cursor over NUL-terminated strings (RFC 1350 "netascii string, then a 0 byte").
 * Every read checks the end of the buffer first, so malformed input ends in DecodeError.
 */
export class StringCursor {
  private offset: number;

  constructor(
    private readonly bytes: Buffer,
    start: number,
  ) {
    this.offset = start;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  /** True when only NUL padding is left (some PXE ROMs pad their RRQ to a fixed size). */
  atPaddedEnd(): boolean {
    for (let i = this.offset; i < this.bytes.length; i++) if (this.bytes[i] !== 0) return false;
    return true;
  }

  readString(what: string): string {
    const end = this.bytes.indexOf(0, this.offset);
    if (end < 0) throw new DecodeError('TFTP_UNTERMINATED_STRING', `${what} is not NUL-terminated`);
    const s = this.bytes.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return s;
  }
}

function decodeOptions(c: StringCursor): TftpOption[] {
  const options: TftpOption[] = [];
  while (c.remaining > 0 && !c.atPaddedEnd()) {
    const name = c.readString('option name');
    if (name === '') throw new DecodeError('TFTP_EMPTY_OPTION_NAME', 'empty option name');
    if (c.remaining === 0) throw new DecodeError('TFTP_OPTION_WITHOUT_VALUE', `option ${name} has no value`);
    options.push({ name, value: c.readString(`value of option ${name}`) });
  }
  return options;
}

function opcodeOf(bytes: Buffer): number {
  if (bytes.length < 2) throw new DecodeError('TFTP_TRUNCATED', `packet of ${bytes.length} bytes has no opcode`);
  return bytes.readUInt16BE(0);
}

function decodeRequest(kind: 'rrq' | 'wrq', bytes: Buffer): RequestPacket {
  const c = new StringCursor(bytes, 2);
  const filename = c.readString('filename');
  const mode = c.readString('mode');
  return { kind, filename, mode, options: decodeOptions(c) };
}

function decodeBlockPacket(bytes: Buffer, what: string): number {
  if (bytes.length < DATA_HEADER_LENGTH) throw new DecodeError('TFTP_TRUNCATED', `${what} of ${bytes.length} bytes has no block number`);
  return bytes.readUInt16BE(2);
}

function decodeData(bytes: Buffer): DataPacket {
  const block = decodeBlockPacket(bytes, 'DATA');
  if (bytes.length > MAX_PACKET_LENGTH) throw new DecodeError('TFTP_DATA_TOO_LONG', `DATA of ${bytes.length} bytes exceeds blksize 65464`);
  return { kind: 'data', block, data: bytes.subarray(DATA_HEADER_LENGTH) };
}

function decodeError(bytes: Buffer): ErrorPacket {
  if (bytes.length < 4) throw new DecodeError('TFTP_TRUNCATED', `ERROR of ${bytes.length} bytes has no error code`);
  const code = bytes.readUInt16BE(2);
  // The message is only ever logged, and some clients omit its NUL: take the bytes up to the
  // first NUL or the end rather than dropping a client's abort.
  const end = bytes.indexOf(0, 4);
  return { kind: 'error', code, message: bytes.toString('utf8', 4, end < 0 ? bytes.length : end) };
}

export function decodeClientPacket(bytes: Buffer): ClientPacket {
  const opcode = opcodeOf(bytes);
  switch (opcode) {
    case Opcode.Rrq:
      return decodeRequest('rrq', bytes);
    case Opcode.Wrq:
      return decodeRequest('wrq', bytes);
    case Opcode.Data:
      return decodeData(bytes);
    case Opcode.Ack:
      // RFC 1350 says 4 bytes; tolerate trailing bytes (padding from some embedded stacks).
      return { kind: 'ack', block: decodeBlockPacket(bytes, 'ACK') };
    case Opcode.Error:
      return decodeError(bytes);
    default:
      throw new DecodeError('TFTP_BAD_OPCODE', `opcode ${opcode} is not one a client sends`);
  }
}

export function decodeServerPacket(bytes: Buffer): ServerPacket {
  const opcode = opcodeOf(bytes);
  switch (opcode) {
    case Opcode.Data:
      return decodeData(bytes);
    case Opcode.Error:
      return decodeError(bytes);
    case Opcode.Oack:
      return { kind: 'oack', options: decodeOptions(new StringCursor(bytes, 2)) };
    default:
      throw new DecodeError('TFTP_BAD_OPCODE', `opcode ${opcode} is not one a server sends`);
  }
}

/** Bytes of `name\0value\0...` for the given options. */
export function encodeOptionList(options: readonly TftpOption[]): Buffer[] {
  const parts: Buffer[] = [];
  for (const o of options) parts.push(Buffer.from(`${o.name}\0${o.value}\0`, 'utf8'));
  return parts;
}

function opcodeBytes(opcode: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(opcode, 0);
  return b;
}

/** Writes a DATA header in place (the server builds DATA packets in reusable buffers). */
export function writeDataHeader(target: Buffer, offset: number, block: number): void {
  target.writeUInt16BE(Opcode.Data, offset);
  target.writeUInt16BE(block & 0xffff, offset + 2);
}

export function encodeServerPacket(p: ServerPacket): Buffer {
  switch (p.kind) {
    case 'data': {
      const b = Buffer.alloc(DATA_HEADER_LENGTH + p.data.length);
      writeDataHeader(b, 0, p.block);
      p.data.copy(b, DATA_HEADER_LENGTH);
      return b;
    }
    case 'oack':
      return Buffer.concat([opcodeBytes(Opcode.Oack), ...encodeOptionList(p.options)]);
    case 'error':
      return encodeErrorPacket(p.code, p.message);
    default:
      return assertNever(p);
  }
}

export function encodeErrorPacket(code: number, message: string): Buffer {
  const text = Buffer.from(message, 'utf8');
  const b = Buffer.alloc(4 + text.length + 1);
  b.writeUInt16BE(Opcode.Error, 0);
  b.writeUInt16BE(code & 0xffff, 2);
  text.copy(b, 4);
  return b;
}
