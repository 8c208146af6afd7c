// Positioned reads and writes on one raw fd, callback style (the I/O hot path: no promise per
// request). As in ../file-device.ts, small transfers on a memory file system run
// synchronously: a memcpy there costs less than the thread-pool round trip. Completion is
// always asynchronous, so callers finish their bookkeeping before `done` runs.
import fs from 'node:fs';
import type { Done } from '../block-device.ts';

export function errnoError(code: string, message: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: ${message}`);
  err.code = code;
  return err;
}

export class FileIo {
  constructor(
    readonly fd: number,
    /** Reads of at most this many bytes run synchronously (0: never). */
    readonly syncReadMaxBytes = 0,
    /** Writes of at most this many bytes run synchronously (0: never). */
    readonly syncWriteMaxBytes = 0,
  ) {}

  /** Fills all of `target` from `position`; bytes past end of file read as zeros. */
  read(target: Buffer, position: number, done: Done): void {
    if (target.length === 0) return process.nextTick(done, null);
    if (target.length <= this.syncReadMaxBytes) return process.nextTick(done, this.readSync(target, position));
    let offset = 0;
    const next = (err: NodeJS.ErrnoException | null, bytesRead: number): void => {
      if (err !== null) return done(err);
      if (bytesRead === 0) {
        target.fill(0, offset); // end of file: a sparse tail or a base shorter than the disk
        return done(null);
      }
      offset += bytesRead;
      if (offset >= target.length) return done(null);
      fs.read(this.fd, target, offset, target.length - offset, position + offset, next);
    };
    fs.read(this.fd, target, 0, target.length, position, next);
  }

  /** Writes all of `source` at `position`, looping on short writes. */
  write(source: Buffer, position: number, done: Done): void {
    if (source.length === 0) return process.nextTick(done, null);
    if (source.length <= this.syncWriteMaxBytes) return process.nextTick(done, this.writeSync(source, position));
    let offset = 0;
    const next = (err: NodeJS.ErrnoException | null, written: number): void => {
      if (err !== null) return done(err);
      if (written === 0) return done(errnoError('EIO', 'write made no progress'));
      offset += written;
      if (offset >= source.length) return done(null);
      fs.write(this.fd, source, offset, source.length - offset, position + offset, next);
    };
    fs.write(this.fd, source, 0, source.length, position, next);
  }

  datasync(done: Done): void {
    fs.fdatasync(this.fd, done);
  }

  private readSync(target: Buffer, position: number): NodeJS.ErrnoException | null {
    try {
      let offset = 0;
      while (offset < target.length) {
        const bytesRead = fs.readSync(this.fd, target, offset, target.length - offset, position + offset);
        if (bytesRead === 0) {
          target.fill(0, offset);
          break;
        }
        offset += bytesRead;
      }
      return null;
    } catch (err) {
      return err as NodeJS.ErrnoException;
    }
  }

  private writeSync(source: Buffer, position: number): NodeJS.ErrnoException | null {
    try {
      let offset = 0;
      while (offset < source.length) {
        const written = fs.writeSync(this.fd, source, offset, source.length - offset, position + offset);
        if (written === 0) return errnoError('EIO', 'write made no progress');
        offset += written;
      }
      return null;
    } catch (err) {
      return err as NodeJS.ErrnoException;
    }
  }
}
