// Positioned reads and writes on a raw fd that transfer everything (pread/pwrite may return
// fewer bytes), callback style for the I/O hot path (no promise per request), plus synchronous
// variants for memory file systems. Shared by file-device.ts and overlay/file-io.ts.
import fs from 'node:fs';
import type { Done } from './block-device.ts';

export function errnoError(code: string, message: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: ${message}`);
  err.code = code;
  return err;
}

/** Writes all of `source`, looping on short writes (pwrite may return fewer bytes). */
export function writeFully(fd: number, source: Buffer, position: number, done: Done): void {
  if (source.length === 0) {
    process.nextTick(done, null);
    return;
  }
  let offset = 0;
  const next = (err: NodeJS.ErrnoException | null, written: number): void => {
    if (err !== null) return done(err);
    if (written === 0) return done(errnoError('EIO', 'write made no progress'));
    offset += written;
    if (offset >= source.length) return done(null);
    fs.write(fd, source, offset, source.length - offset, position + offset, next);
  };
  fs.write(fd, source, 0, source.length, position, next);
}

/**
 * Writes `sources` back to back from `position` with one pwritev on the thread pool; a short
 * write is finished with one pwrite per remaining piece.
 */
export function writevFully(fd: number, sources: readonly Buffer[], position: number, done: Done): void {
  if (sources.length === 1) return writeFully(fd, sources[0] ?? Buffer.alloc(0), position, done);
  let total = 0;
  for (const source of sources) total += source.length;
  fs.writev(fd, sources as Buffer[], position, (err, written) => {
    if (err !== null) return done(err);
    if (written >= total) return done(null);
    // Rare (a signal, a full disk on the way): the rest piece by piece, in order.
    const rest: Array<[Buffer, number]> = [];
    let skip = written;
    let at = position;
    for (const source of sources) {
      if (skip >= source.length) skip -= source.length;
      else {
        rest.push([source.subarray(skip), at + skip]);
        skip = 0;
      }
      at += source.length;
    }
    const next = (writeErr: NodeJS.ErrnoException | null): void => {
      if (writeErr !== null) return done(writeErr);
      const piece = rest.shift();
      if (piece === undefined) return done(null);
      writeFully(fd, piece[0], piece[1], next);
    };
    next(null);
  });
}

/** Fills all of `target`, looping on short reads; bytes past end of file read as zeros. */
export function readFully(fd: number, target: Buffer, position: number, done: Done): void {
  if (target.length === 0) {
    process.nextTick(done, null);
    return;
  }
  let offset = 0;
  const next = (err: NodeJS.ErrnoException | null, bytesRead: number): void => {
    if (err !== null) return done(err);
    if (bytesRead === 0) {
      // End of file: the file shrank under us (or a block device is shorter than sysfs said).
      target.fill(0, offset);
      return done(null);
    }
    offset += bytesRead;
    if (offset >= target.length) return done(null);
    fs.read(fd, target, offset, target.length - offset, position + offset, next);
  };
  fs.read(fd, target, 0, target.length, position, next);
}

/** Synchronous variants for memory file systems: the error, or null when all was transferred. */
export function readFullySync(fd: number, target: Buffer, position: number): NodeJS.ErrnoException | null {
  try {
    let offset = 0;
    while (offset < target.length) {
      const bytesRead = fs.readSync(fd, target, offset, target.length - offset, position + offset);
      if (bytesRead === 0) {
        target.fill(0, offset); // end of file, as in readFully
        break;
      }
      offset += bytesRead;
    }
    return null;
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
}

export function writeFullySync(fd: number, source: Buffer, position: number): NodeJS.ErrnoException | null {
  try {
    let offset = 0;
    while (offset < source.length) {
      const written = fs.writeSync(fd, source, offset, source.length - offset, position + offset);
      if (written === 0) return errnoError('EIO', 'write made no progress');
      offset += written;
    }
    return null;
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
}

/**
 * Writes `sources` back to back from `position` with one pwritev where it can (a run of
 * adjacent small writes in one system call); a short write is finished buffer by buffer.
 */
export function writevFullySync(fd: number, sources: readonly Buffer[], position: number): NodeJS.ErrnoException | null {
  try {
    let total = 0;
    for (const source of sources) total += source.length;
    let skip = fs.writevSync(fd, sources, position);
    if (skip >= total) return null;
    let at = position;
    for (const source of sources) {
      if (skip >= source.length) {
        skip -= source.length;
      } else {
        const err = writeFullySync(fd, source.subarray(skip), at + skip);
        if (err !== null) return err;
        skip = 0;
      }
      at += source.length;
    }
    return null;
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
}
