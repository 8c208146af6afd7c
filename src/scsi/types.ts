// What a transport (iSCSI today) hands the SCSI device server and what it gets back.
// SAM-5 section 5.1: a command is a CDB plus optional data-out; the result is a status, and
// optional data-in and sense data. Transport details (task tags, PDUs, residual flags) stay out.

export const ScsiStatus = {
  Good: 0x00,
  CheckCondition: 0x02,
  ConditionMet: 0x04,
  Busy: 0x08,
  ReservationConflict: 0x18,
  TaskSetFull: 0x28,
  AcaActive: 0x30,
  TaskAborted: 0x40,
} as const;
export type ScsiStatusCode = (typeof ScsiStatus)[keyof typeof ScsiStatus];

export interface ScsiRequest {
  /** The CDB (iSCSI carries 16 bytes; the opcode's group code says how many are used). */
  readonly cdb: Buffer;
  /** Data-out gathered by the transport (length = the transport's expected data transfer length). */
  readonly dataOut: Buffer | null;
  /** Allocation length the initiator expects for data-in (the transport's expected length). */
  readonly expectedDataInLength: number;
  /**
   * The I_T nexus's initiator port (SAM-5 4.6.4; for iSCSI the initiator name plus ISID, RFC 7143
   * section 10.1.1): reservations belong to it. Absent for internal callers.
   */
  readonly initiator?: InitiatorPort;
  /**
   * Where a READ puts its data-in (a transport's buffer pool); the Buffer must be exactly
   * `length` bytes. The transport owns it again once `done` has been called. Called, if at
   * all, synchronously inside execute().
   */
  readonly allocateDataIn?: ((length: number) => Buffer) | undefined;
}

export interface InitiatorPort {
  /** The initiator's SCSI name (an IQN for iSCSI). */
  readonly name: string;
  /** Port identifier within that device; for iSCSI ",i,0x" + the ISID in hex. */
  readonly portId: string;
}

export interface ScsiResponse {
  readonly status: ScsiStatusCode;
  /** Data-in to return; the transport truncates it to the expected length and reports residuals. */
  readonly dataIn: Buffer | null;
  /** Fixed-format sense data (SPC-4 4.5.3) when status is CHECK CONDITION. */
  readonly sense: Buffer | null;
  /**
   * Bytes of data-out the CDB called for, set on GOOD responses to commands that take data-out
   * (WRITE, WRITE SAME, UNMAP, MODE SELECT, ...). Only the device server can read it from the
   * CDB; the transport compares it with its expected data transfer length to report residual
   * overflow or underflow for writes (SAM-5 5.4.3, RFC 7143 11.4.5.2). Absent otherwise.
   */
  readonly dataOutLength?: number;
}

export type ScsiDone = (response: ScsiResponse) => void;

/** A set of logical units behind one target (SAM-5 "SCSI target device"), addressed by LUN number. */
export interface ScsiTargetDevice {
  /** Executes one command for the given LUN (already decoded from the 8-byte SAM LUN field). */
  execute(lun: number, request: ScsiRequest, done: ScsiDone): void;
  /** LUN RESET / TARGET WARM RESET task management: drops pending state (reservations, UA). */
  reset(lun: number | null): void;
  /**
   * I_T nexus loss (SAM-5 6.3.4): the transport calls this when a session ends (logout, lost
   * connection, reinstatement), so that SPC-2 reservations held through it are released
   * (SPC-2 5.5.1). Persistent reservations survive it (SPC-4 5.12.1).
   */
  nexusLost?(initiator: InitiatorPort): void;
  hasLun(lun: number): boolean;
}
