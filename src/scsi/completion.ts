// The executor's promise to the transport: done() is called exactly once per request, never
// from inside execute() itself (so the caller can finish its own bookkeeping first), and no
// exception escapes: a thrown ScsiError becomes CHECK CONDITION, anything else HARDWARE ERROR.
import { responseForError } from './response.ts';
import type { ScsiDone, ScsiResponse } from './types.ts';

export function runGuarded(done: ScsiDone, body: (finish: ScsiDone) => void): void {
  let inside = true;
  let called = false;
  const finish = (response: ScsiResponse): void => {
    if (called) return;
    called = true;
    if (inside) queueMicrotask(() => done(response));
    else done(response);
  };
  try {
    body(finish);
  } catch (err) {
    finish(responseForError(err));
  }
  inside = false;
}
