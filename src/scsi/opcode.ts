// Operation codes this device server knows (SPC-4 Annex E.3, SBC-3 Table 13).
export const Opcode = {
  TestUnitReady: 0x00,
  RequestSense: 0x03,
  Read6: 0x08,
  Write6: 0x0a,
  Inquiry: 0x12,
  ModeSelect6: 0x15,
  ModeSense6: 0x1a,
  StartStopUnit: 0x1b,
  PreventAllowMediumRemoval: 0x1e,
  ReadCapacity10: 0x25,
  Read10: 0x28,
  Write10: 0x2a,
  WriteAndVerify10: 0x2e,
  Verify10: 0x2f,
  SynchronizeCache10: 0x35,
  WriteSame10: 0x41,
  Unmap: 0x42,
  ModeSelect10: 0x55,
  ModeSense10: 0x5a,
  PersistentReserveIn: 0x5e,
  PersistentReserveOut: 0x5f,
  Read16: 0x88,
  CompareAndWrite: 0x89,
  Write16: 0x8a,
  WriteAndVerify16: 0x8e,
  Verify16: 0x8f,
  SynchronizeCache16: 0x91,
  WriteSame16: 0x93,
  ServiceActionIn16: 0x9e,
  ReportLuns: 0xa0,
  MaintenanceIn: 0xa3,
  Read12: 0xa8,
  Write12: 0xaa,
  WriteAndVerify12: 0xae,
  Verify12: 0xaf,
} as const;

/** SERVICE ACTION IN(16) service actions (SBC-3 5.16, 5.7). */
export const ServiceActionIn16 = { ReadCapacity16: 0x10, GetLbaStatus: 0x12 } as const;

/** MAINTENANCE IN service actions (SPC-4 6.35). */
export const MaintenanceIn = { ReportSupportedOperationCodes: 0x0c } as const;
