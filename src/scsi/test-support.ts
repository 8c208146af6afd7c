// Helpers for the unit tests in this folder: run a CDB and collect the single response.
import type { InitiatorPort, ScsiDone, ScsiRequest, ScsiResponse } from './types.ts';

export interface Executor {
  execute(request: ScsiRequest, done: ScsiDone): void;
}

/** A CDB padded to 16 bytes, as iSCSI carries it. */
export function cdb(...bytes: number[]): Buffer {
  const b = Buffer.alloc(Math.max(16, bytes.length));
  Buffer.from(bytes).copy(b);
  return b;
}

/** Runs one request; rejects if done is called twice or synchronously. */
export function run(target: Executor, cdbBytes: Buffer, dataOut: Buffer | null = null, expectedDataInLength = 65536): Promise<ScsiResponse> {
  return runRequest(target, { cdb: cdbBytes, dataOut, expectedDataInLength });
}

/** Runs one request through the I_T nexus of `initiator` (for reservation tests). */
export function runFrom(initiator: InitiatorPort, target: Executor, cdbBytes: Buffer, dataOut: Buffer | null = null): Promise<ScsiResponse> {
  return runRequest(target, { cdb: cdbBytes, dataOut, expectedDataInLength: 65536, initiator });
}

function runRequest(target: Executor, request: ScsiRequest): Promise<ScsiResponse> {
  return new Promise((resolve, reject) => {
    let calls = 0;
    let returned = false;
    target.execute(request, (response) => {
      calls++;
      if (!returned) reject(new Error('done called synchronously from execute'));
      if (calls > 1) reject(new Error('done called twice'));
      // Give a second call the chance to show itself before resolving.
      setImmediate(() => resolve(response));
    });
    returned = true;
  });
}

export interface SenseSummary {
  readonly key: number;
  readonly asc: number;
  readonly ascq: number;
}

export function senseOf(response: ScsiResponse): SenseSummary | null {
  const s = response.sense;
  if (s === null) return null;
  return { key: (s[2] ?? 0) & 0x0f, asc: s[12] ?? 0, ascq: s[13] ?? 0 };
}

export function hex(b: Buffer | null): string {
  return b === null ? 'null' : b.toString('hex');
}
