// What the bench's cgroups (storm-throttle.ts, cpu-quota.ts) share.
import { existsSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Moves whatever is left in cgroup `dir` to the hierarchy's root `rootDir`, then removes `dir`. */
export function removeCgroup(dir: string, rootDir: string): void {
  if (!existsSync(dir)) return;
  for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter((l) => l !== '')) {
    try {
      writeFileSync(join(rootDir, 'cgroup.procs'), pid);
    } catch {
      // it exited meanwhile
    }
  }
  // A process killed a moment ago (Ctrl-C) may still be leaving the cgroup.
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      if (attempt === 40) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
}
