// Byte-level mutations in the style of libFuzzer/AFL: bit flips, interesting values, arithmetic,
// range deletion/duplication/insertion, dictionary tokens and crossover with another input.
// Seeded (mulberry32), so a run is reproducible from its seed.

import type { Random } from '../src/lib/seeded-random.ts';

const INTERESTING_8 = [0x00, 0x01, 0x02, 0x03, 0x04, 0x07, 0x08, 0x0f, 0x10, 0x1f, 0x20, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0xfe, 0xff];
const INTERESTING_32 = [0, 1, 2, 3, 4, 7, 8, 16, 47, 48, 511, 512, 513, 4096, 8192, 65535, 65536, 262144, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0xffffff, 0x1000000];

export interface MutationContext {
  readonly random: Random;
  readonly dictionary: readonly Buffer[];
  /** Another corpus entry, for crossover. */
  other(): Buffer;
  readonly maxLength: number;
}

function mutateOnce(input: Buffer, ctx: MutationContext): Buffer {
  const r = ctx.random;
  const len = input.length;
  const at = (extra = 0): number => r(Math.max(1, len - extra));
  switch (r(15)) {
    case 14: {
      if (len === 0) break;
      const b = Buffer.from(input);
      b[at()] = r(256);
      return b;
    }
    case 0: {
      if (len === 0) break;
      const b = Buffer.from(input);
      const i = at();
      b[i] = (b[i] ?? 0) ^ (1 << r(8));
      return b;
    }
    case 1: {
      if (len === 0) break;
      const b = Buffer.from(input);
      b[at()] = INTERESTING_8[r(INTERESTING_8.length)] ?? 0;
      return b;
    }
    case 2: {
      if (len < 4) break;
      const b = Buffer.from(input);
      const v = INTERESTING_32[r(INTERESTING_32.length)] ?? 0;
      const i = at(3);
      if (r(2) === 0) b.writeUInt32BE(v >>> 0, i);
      else b.writeUInt32LE(v >>> 0, i);
      return b;
    }
    case 3: {
      if (len < 2) break;
      const b = Buffer.from(input);
      const i = at(1);
      const v = INTERESTING_32[r(INTERESTING_32.length)] ?? 0;
      b.writeUInt16BE(v & 0xffff, i);
      return b;
    }
    case 4: {
      if (len === 0) break;
      const b = Buffer.from(input);
      const i = at();
      b[i] = ((b[i] ?? 0) + (r(2) === 0 ? 1 : -1) * (1 + r(16))) & 0xff;
      return b;
    }
    case 5: {
      if (len < 2) break;
      const from = at();
      const n = 1 + r(Math.min(64, len - from));
      return Buffer.concat([input.subarray(0, from), input.subarray(from + n)]);
    }
    case 6: {
      if (len === 0) break;
      const from = at();
      const n = 1 + r(Math.min(256, len - from));
      const to = r(len + 1);
      return Buffer.concat([input.subarray(0, to), input.subarray(from, from + n), input.subarray(to)]);
    }
    case 7: {
      const n = 1 + r(r(2) === 0 ? 8 : 128);
      const bytes = Buffer.alloc(n);
      for (let i = 0; i < n; i++) bytes[i] = r(256);
      const to = r(len + 1);
      return Buffer.concat([input.subarray(0, to), bytes, input.subarray(to)]);
    }
    case 8:
    case 9: {
      if (ctx.dictionary.length === 0) break;
      const token = ctx.dictionary[r(ctx.dictionary.length)] ?? Buffer.alloc(0);
      const to = r(len + 1);
      if (r(2) === 0) return Buffer.concat([input.subarray(0, to), token, input.subarray(to)]);
      const b = Buffer.from(input);
      token.copy(b, Math.min(to, Math.max(0, len - token.length)));
      return b;
    }
    case 10: {
      // Crossover: our head, the other's tail.
      const other = ctx.other();
      return Buffer.concat([input.subarray(0, r(len + 1)), other.subarray(r(other.length + 1))]);
    }
    case 11: {
      // Insert a piece of another input.
      const other = ctx.other();
      if (other.length === 0) break;
      const from = r(other.length);
      const n = 1 + r(Math.min(512, other.length - from));
      const to = r(len + 1);
      return Buffer.concat([input.subarray(0, to), other.subarray(from, from + n), input.subarray(to)]);
    }
    case 12: {
      if (len === 0) break;
      // Overwrite a run with one byte value.
      const b = Buffer.from(input);
      const from = at();
      b.fill(INTERESTING_8[r(INTERESTING_8.length)] ?? 0, from, from + 1 + r(Math.min(32, len - from)));
      return b;
    }
    default:
      if (len > 1) return input.subarray(0, r(len));
  }
  const b = Buffer.alloc(1);
  b[0] = r(256);
  return Buffer.concat([input, b]);
}

/** One to eight stacked mutations, cut to maxLength. */
export function mutate(input: Buffer, ctx: MutationContext): Buffer {
  let out = input;
  const rounds = 1 << ctx.random(4);
  for (let i = 0; i < rounds; i++) out = mutateOnce(out, ctx);
  return out.length > ctx.maxLength ? out.subarray(0, ctx.maxLength) : out;
}
