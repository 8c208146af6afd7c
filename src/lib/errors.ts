// Program errors carry a stable code (fastify/undici style). Protocol errors that have wire
// codes (SCSI sense, iSCSI login status, Reject reasons) live beside their protocol as values.

export class DisklessError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'DisklessError';
  }
}

/** The only error a decoder may throw: malformed bytes from the wire or a file. */
export class DecodeError extends DisklessError {
  constructor(code: string, message: string) {
    super(code, message);
    this.name = 'DecodeError';
  }
}

export function assertNever(value: never): never {
  throw new DisklessError('UNREACHABLE', `unexpected value ${JSON.stringify(value)}`);
}
