// Whether a file's data lives in RAM (tmpfs, ramfs): there a read or write is a copy that can
// never wait for a disk, so the storage code does small I/O on the event loop. The helper of
// cached-read.ts knows the same two file systems (native/file-io.c).
import fsp from 'node:fs/promises';

/** statfs(2) f_type values of file systems whose data lives in RAM (linux/magic.h). */
const MEMORY_FS_TYPES: ReadonlySet<number> = new Set([0x01021994 /* TMPFS_MAGIC */, 0x858458f6 /* RAMFS_MAGIC */]);

/** True when the file's data lives in RAM; false when unsure (statfs failed). */
export async function onMemoryFileSystem(filePath: string): Promise<boolean> {
  try {
    return MEMORY_FS_TYPES.has((await fsp.statfs(filePath)).type);
  } catch {
    return false;
  }
}
