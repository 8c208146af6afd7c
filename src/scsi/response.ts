// Building ScsiResponse values. Turning an unknown failure into a response happens here so that
// execute() never throws: a ScsiError becomes CHECK CONDITION with its own sense, anything else
// (a bug) becomes HARDWARE ERROR, INTERNAL TARGET FAILURE (SPC-4 Annex D).
import { Asc, ScsiError, SenseKey, encodeFixedSense } from './sense.ts';
import { ScsiStatus } from './types.ts';
import type { ScsiResponse } from './types.ts';

export const GOOD: ScsiResponse = Object.freeze({ status: ScsiStatus.Good, dataIn: null, sense: null });

/** RESERVATION CONFLICT status (SAM-5 5.3.1): no sense data, the status says it all. */
export const RESERVATION_CONFLICT: ScsiResponse = Object.freeze({ status: ScsiStatus.ReservationConflict, dataIn: null, sense: null });

/**
 * Thrown by reservation handlers (SPC-4 5.12) for RESERVATION CONFLICT; like ScsiError it is a
 * value with its wire meaning, turned into a response by responseForError.
 */
export class ReservationConflictError extends Error {
  constructor() {
    super('reservation conflict');
    this.name = 'ReservationConflictError';
  }
}

export function goodWithData(dataIn: Buffer): ScsiResponse {
  return { status: ScsiStatus.Good, dataIn, sense: null };
}

/** Data-in for allocation-length commands: SPC-4 4.2.5.6 says truncate, never fail. */
export function goodTruncated(dataIn: Buffer, allocationLength: number): ScsiResponse {
  return goodWithData(dataIn.length > allocationLength ? dataIn.subarray(0, allocationLength) : dataIn);
}

export function checkCondition(err: ScsiError): ScsiResponse {
  return { status: ScsiStatus.CheckCondition, dataIn: null, sense: encodeFixedSense(err) };
}

export function responseForError(err: unknown): ScsiResponse {
  if (err instanceof ScsiError) return checkCondition(err);
  if (err instanceof ReservationConflictError) return RESERVATION_CONFLICT;
  return checkCondition(new ScsiError(SenseKey.HardwareError, Asc.InternalTargetFailure));
}
