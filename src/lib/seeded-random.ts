// mulberry32: a small seeded PRNG, so that property tests, crash tests, load scripts and the
// fuzzer replay from a seed (and a parent and its child process draw the same numbers).

/** A draw in 0..max-1 (0 when max <= 0). */
export type Random = (max: number) => number;

export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return (max) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return max <= 0 ? 0 : Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * max);
  };
}
