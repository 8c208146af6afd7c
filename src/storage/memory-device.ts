// A RAM-backed BlockDevice for tests and demos. Completions are deferred with process.nextTick
// so callers see the same asynchronous ordering as with a real file (a callback never runs
// inside the call that started the I/O).
import type { BlockDevice, Done } from './block-device.ts';

export interface MemoryDeviceOptions {
  readonly sizeBytes: number;
  readonly blockSize?: number;
  readonly readOnly?: boolean;
  readonly canDiscard?: boolean;
  readonly id?: string;
}

/** Which operation fails next, and with which errno code (for error-path tests). */
export type MemoryDeviceOp = 'read' | 'write' | 'flush' | 'discard';

function errnoError(code: string, op: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: injected ${op} failure`);
  err.code = code;
  return err;
}

export class MemoryDevice implements BlockDevice {
  readonly blockSize: number;
  readonly sizeBytes: number;
  readonly readOnly: boolean;
  readonly canDiscard: boolean;
  readonly id: string;
  /** The backing store; tests may inspect or seed it directly. */
  readonly data: Buffer;
  /** Counters so tests can assert which operations a command caused. */
  readonly calls = { read: 0, write: 0, durableWrite: 0, flush: 0, discard: 0 };
  private readonly injected = new Map<MemoryDeviceOp, string>();

  constructor(options: MemoryDeviceOptions) {
    this.blockSize = options.blockSize ?? 512;
    if (!Number.isSafeInteger(options.sizeBytes) || options.sizeBytes < 0 || options.sizeBytes % this.blockSize !== 0) {
      throw new RangeError(`sizeBytes ${options.sizeBytes} is not a whole number of ${this.blockSize}-byte blocks`);
    }
    this.sizeBytes = options.sizeBytes;
    this.readOnly = options.readOnly ?? false;
    this.canDiscard = options.canDiscard ?? true;
    this.id = options.id ?? 'memory0000000000';
    this.data = Buffer.alloc(options.sizeBytes);
  }

  /** Makes the next call of `op` fail with errno `code` (EIO, ENOSPC, ...). */
  failNext(op: MemoryDeviceOp, code: string): void {
    this.injected.set(op, code);
  }

  private takeFault(op: MemoryDeviceOp): NodeJS.ErrnoException | null {
    const code = this.injected.get(op);
    if (code === undefined) return null;
    this.injected.delete(op);
    return errnoError(code, op);
  }

  private checkRange(offsetBytes: number, lengthBytes: number, op: string): NodeJS.ErrnoException | null {
    if (offsetBytes < 0 || lengthBytes < 0 || offsetBytes + lengthBytes > this.sizeBytes) {
      return errnoError('EINVAL', `${op} beyond end of device`);
    }
    return null;
  }

  read(target: Buffer, offsetBytes: number, done: Done): void {
    this.calls.read++;
    const err = this.takeFault('read') ?? this.checkRange(offsetBytes, target.length, 'read');
    if (err === null) this.data.copy(target, 0, offsetBytes, offsetBytes + target.length);
    process.nextTick(done, err);
  }

  write(source: Buffer, offsetBytes: number, durable: boolean, done: Done): void {
    this.calls.write++;
    if (durable) this.calls.durableWrite++;
    let err = this.takeFault('write') ?? this.checkRange(offsetBytes, source.length, 'write');
    if (err === null && this.readOnly) err = errnoError('EROFS', 'write');
    if (err === null) source.copy(this.data, offsetBytes);
    process.nextTick(done, err);
  }

  flush(done: Done): void {
    this.calls.flush++;
    process.nextTick(done, this.takeFault('flush'));
  }

  discard(offsetBytes: number, lengthBytes: number, done: Done): void {
    this.calls.discard++;
    let err = this.takeFault('discard') ?? this.checkRange(offsetBytes, lengthBytes, 'discard');
    if (err === null && this.readOnly) err = errnoError('EROFS', 'discard');
    if (err === null) this.data.fill(0, offsetBytes, offsetBytes + lengthBytes);
    process.nextTick(done, err);
  }

  close(done: Done): void {
    process.nextTick(done, null);
  }
}
