// A target with a bug behind four nested byte-range checks, each met by 1 random byte in 32:
// blind random search needs about 32^4 (10^6) inputs, coverage guidance a few thousand (one
// level at a time). test/interop/fuzz.test.ts uses it to show that the engine's coverage
// feedback works, and would fail if it stopped working.
import type { FuzzTarget } from './targets.ts';

const inRange = (input: Buffer, i: number): boolean => (input[i] ?? 0) >= 0x30 + i * 0x20 && (input[i] ?? 0) < 0x38 + i * 0x20;

export function toyParse(input: Buffer): number {
  if (input.length >= 4) {
    if (inRange(input, 0)) {
      if (inRange(input, 1)) {
        if (inRange(input, 2)) {
          if (inRange(input, 3)) throw new RangeError('toy bug reached');
        }
      }
    }
  }
  return input.length;
}

export const TOY_TARGET: FuzzTarget = {
  name: 'toy',
  description: 'a planted bug behind nested comparisons (engine self-test)',
  cover: ['/fuzz/toy-target.ts'],
  dictionary: [],
  maxLength: 64,
  seeds: () => [Buffer.from('hello')],
  run(input) {
    toyParse(input);
  },
};
