// The executor's promise to the transport: done() is called exactly once per request, never
// from inside execute() itself (so the caller can finish its own bookkeeping first), and no
// exception escapes: a thrown ScsiError becomes CHECK CONDITION, anything else HARDWARE ERROR.
//
// Speed: this runs once per command. The project runs under tsx, whose esbuild keeps function
// names by wrapping every function bound to a name in __name() (an Object.defineProperty per
// closure created), so the per-command callback here is an unnamed argument and the state an
// object with a method, not a named arrow function.
import { responseForError } from './response.ts';
import type { ScsiDone, ScsiResponse } from './types.ts';

/**
 * The promise above, for one request: hand callback() to the executor, call fail() with what
 * it throws, and leave() once execute() returns. runGuarded is the usual way to use it.
 */
export class Guard {
  #inside = true;
  #called = false;

  constructor(private readonly done: ScsiDone) {}

  /** The executor's done: at most one call counts, and one made before leave() is deferred. */
  callback(): ScsiDone {
    return (response) => this.#finish(response);
  }

  /** An exception escaped the executor: it becomes the response (unless one was given). */
  fail(err: unknown): void {
    this.#finish(responseForError(err));
  }

  /** execute() has returned: from now on done is called directly. */
  leave(): void {
    this.#inside = false;
  }

  #finish(response: ScsiResponse): void {
    if (this.#called) return;
    this.#called = true;
    if (!this.#inside) return this.done(response);
    const done = this.done;
    queueMicrotask(() => done(response));
  }
}

export function runGuarded(done: ScsiDone, body: (finish: ScsiDone) => void): void {
  const guard = new Guard(done);
  try {
    body(guard.callback());
  } catch (err) {
    guard.fail(err);
  }
  guard.leave();
}
