// Input validation shared by the repositories: zod schemas (reusing the config file's rules,
// so a machine is valid in the store exactly when it would be valid in diskless.yaml), and
// errors whose message names the field.
import type { z } from 'zod';
import { StoreError, StoreErrorCode } from '../errors.ts';

/** Parses `value`; on failure throws StoreError naming the entity, field and rule. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message));
  throw new StoreError(StoreErrorCode.Invalid, `invalid ${what}: ${issues.join('; ')}`);
}

/** Parses a JSON column; a row that no longer parses is reported, not silently skipped. */
export function parseRowJson<S extends z.ZodType>(schema: S, text: string, where: string): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new StoreError(StoreErrorCode.CorruptRow, `${where} holds text that is not JSON; fix or remove the row`);
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new StoreError(StoreErrorCode.CorruptRow, `${where} no longer validates (${result.error.issues[0]?.message ?? 'invalid'}); fix or remove the row`);
}

export const toFlag = (b: boolean): 0 | 1 => (b ? 1 : 0);
export const fromFlag = (n: number): boolean => n !== 0;

/** exactOptionalPropertyTypes: `{ name: undefined }` means "no change", as if absent. */
export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
