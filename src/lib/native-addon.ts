// Loads a module of native/ (package diskless-icmpv6: Node-API addons that npm ci builds with
// node-gyp as an optional dependency). Each is loaded lazily and checked for the functions its
// caller needs, so a missing build is a reason in words for a log line, never a crash.
import { createRequire } from 'node:module';

export const ADDON_PACKAGE = 'diskless-icmpv6';

export type Loaded<T> = { readonly native: T } | { readonly error: string };

const cache = new Map<string, Loaded<unknown>>();

/**
 * The addon module `file` (build/Release/FILE.node; null for the package's main module) if it
 * exports every function in `functions`, or why not.
 */
export function loadAddon<T>(file: string | null, functions: readonly string[]): Loaded<T> {
  const id = file === null ? ADDON_PACKAGE : `${ADDON_PACKAGE}/build/Release/${file}.node`;
  const hit = cache.get(id);
  if (hit !== undefined) return hit as Loaded<T>;
  let result: Loaded<T>;
  try {
    const loaded: unknown = createRequire(import.meta.url)(id);
    const ok = typeof loaded === 'object' && loaded !== null && functions.every((name) => typeof (loaded as Record<string, unknown>)[name] === 'function');
    result = ok ? { native: loaded as T } : { error: `${id} does not export ${functions.join('/')}` };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    result = {
      error:
        code === 'MODULE_NOT_FOUND'
          ? `the native helper is not built (native/, package ${ADDON_PACKAGE}; \`npm rebuild ${ADDON_PACKAGE}\` builds it with g++, make and python3)`
          : `the native helper did not load: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  cache.set(id, result);
  return result;
}
