// A CPU budget for a server under test: a cgroup whose CFS quota is a share of one core
// (cgroup v1 cpu.cfs_quota_us, or v2 cpu.max). Why: when the load generator cannot offer more
// than a server completes with a whole core, the ratio of completed exchanges only measures the
// client. With the same budget for each server (half a core, say) the client offers more than
// either can do, and each is measured at its own limit, as a smaller or busier machine would be.
//
// The bench moves the server's process into the cgroup right after spawning it (from outside:
// `ip netns exec` mounts its own /sys, where the cgroup is not to be seen); the threads it starts
// afterwards are inside with it.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeCgroup } from './cgroup.ts';

const V1 = '/sys/fs/cgroup/cpu';
const V2 = '/sys/fs/cgroup';
const PERIOD_US = 100_000;

export interface CpuQuota {
  /** The share of one core, e.g. 0.5. */
  readonly share: number;
  /** Moves a process (all its threads) into the cgroup. */
  add(pid: number): void;
  /** Moves whatever is left back to the root cgroup and removes the cgroup. */
  remove(): void;
}

function cgroupRoot(): { dir: string; write: (dir: string, share: number) => void } {
  if (existsSync(join(V1, 'cpu.cfs_quota_us'))) {
    return {
      dir: V1,
      write: (dir, share) => {
        writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
        writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(Math.round(PERIOD_US * share)));
      },
    };
  }
  if (existsSync(join(V2, 'cgroup.controllers')) && readFileSync(join(V2, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('cpu')) {
    return {
      dir: V2,
      write: (dir, share) => {
        // A child of the root gets the cpu controller only when the root hands it down.
        writeFileSync(join(V2, 'cgroup.subtree_control'), '+cpu');
        writeFileSync(join(dir, 'cpu.max'), `${Math.round(PERIOD_US * share)} ${PERIOD_US}`);
      },
    };
  }
  throw new Error('a CPU budget needs the cgroup cpu controller (v1 /sys/fs/cgroup/cpu or v2 cpu.max); this system has neither');
}

export function createCpuQuota(name: string, share: number): CpuQuota {
  if (!(share > 0 && share <= 64)) throw new Error(`a CPU share must be above 0 (got ${share})`);
  const root = cgroupRoot();
  const dir = join(root.dir, `diskless-${name}-${process.pid}`);
  mkdirSync(dir);
  try {
    root.write(dir, share);
  } catch (err) {
    rmdirSync(dir);
    throw err;
  }
  const procs = join(dir, 'cgroup.procs');
  return {
    share,
    add: (pid) => writeFileSync(procs, String(pid)),
    remove: () => removeCgroup(dir, root.dir),
  };
}
