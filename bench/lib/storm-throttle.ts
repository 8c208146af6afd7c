// A slower disk for the boot storm (--disk-mbps): the servers' reads from the disk that holds
// the files are limited to a rate with a cgroup v1 blkio throttle. Why: a virtual machine's
// disk is often cached by its host, so after drop_caches a "disk" read still runs at memory
// speed (1.9 GB/s on the development VM) and the golden image's one shared read versus N copies
// hardly shows; a real server's SSD or disk array does not read that fast under 20 streams.
//
// Only reads are limited: cgroup v1 does not throttle buffered writes (the kernel's flusher
// writes them back, outside the cgroup). Both servers are in the same cgroup, one at a time
// is measured, so each gets the whole rate.
import { existsSync, mkdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeCgroup } from './cgroup.ts';

const BLKIO = '/sys/fs/cgroup/blkio';

export interface ReadThrottle {
  /** Moves a process (all its threads) into the throttled cgroup. */
  add(pid: number): void;
  /** Moves whatever is left back to the root cgroup and removes the cgroup. */
  remove(): void;
}

/** The whole disk's MAJ:MIN for the file system holding `path` (throttles apply to disks). */
function diskOf(path: string): string {
  const dev = statSync(path).dev;
  // Linux dev_t: major in bits 8-19 (and 32+), minor in bits 0-7 and 20-31.
  const major = ((dev >> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
  const minor = (dev & 0xff) | ((dev >> 12) & ~0xff);
  const sys = `/sys/dev/block/${major}:${minor}`;
  if (!existsSync(sys)) throw new Error(`${path} is not on a block device (${major}:${minor}); --disk-mbps needs a real disk`);
  // A partition: the throttle goes on its disk.
  return existsSync(join(sys, 'partition')) ? readFileSync(join(sys, '..', 'dev'), 'utf8').trim() : `${major}:${minor}`;
}

export function createReadThrottle(path: string, bytesPerSecond: number): ReadThrottle {
  if (!existsSync(join(BLKIO, 'blkio.throttle.read_bps_device'))) {
    throw new Error(`--disk-mbps needs the cgroup v1 blkio controller (${BLKIO}); this system does not have it mounted`);
  }
  const disk = diskOf(path);
  const dir = join(BLKIO, `diskless-storm-${process.pid}`);
  mkdirSync(dir);
  try {
    writeFileSync(join(dir, 'blkio.throttle.read_bps_device'), `${disk} ${Math.round(bytesPerSecond)}`);
  } catch (err) {
    rmdirSync(dir);
    throw err;
  }
  return {
    add(pid) {
      writeFileSync(join(dir, 'cgroup.procs'), String(pid));
    },
    remove: () => removeCgroup(dir, BLKIO),
  };
}
