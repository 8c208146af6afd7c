// Login Response status codes (RFC 7143 section 11.13.5) and the one error type the login code
// throws. A LoginError is a protocol outcome, not a bug: it carries the Status-Class and
// Status-Detail that go on the wire, plus a stable per-site `code` for logs.
import { DisklessError } from '../lib/errors.ts';

export interface LoginStatus {
  readonly statusClass: number;
  readonly statusDetail: number;
}

/** RFC 7143 section 11.13.5: class 0 success, 1 redirection, 2 initiator error, 3 target error. */
export const LoginStatus = {
  Success: { statusClass: 0x00, statusDetail: 0x00 },
  TargetMovedTemporarily: { statusClass: 0x01, statusDetail: 0x01 },
  TargetMovedPermanently: { statusClass: 0x01, statusDetail: 0x02 },
  InitiatorError: { statusClass: 0x02, statusDetail: 0x00 },
  AuthenticationFailure: { statusClass: 0x02, statusDetail: 0x01 },
  AuthorizationFailure: { statusClass: 0x02, statusDetail: 0x02 },
  NotFound: { statusClass: 0x02, statusDetail: 0x03 },
  TargetRemoved: { statusClass: 0x02, statusDetail: 0x04 },
  UnsupportedVersion: { statusClass: 0x02, statusDetail: 0x05 },
  TooManyConnections: { statusClass: 0x02, statusDetail: 0x06 },
  MissingParameter: { statusClass: 0x02, statusDetail: 0x07 },
  CantIncludeInSession: { statusClass: 0x02, statusDetail: 0x08 },
  SessionTypeNotSupported: { statusClass: 0x02, statusDetail: 0x09 },
  SessionDoesNotExist: { statusClass: 0x02, statusDetail: 0x0a },
  InvalidDuringLogon: { statusClass: 0x02, statusDetail: 0x0b },
  TargetError: { statusClass: 0x03, statusDetail: 0x00 },
  ServiceUnavailable: { statusClass: 0x03, statusDetail: 0x01 },
  OutOfResources: { statusClass: 0x03, statusDetail: 0x02 },
} as const satisfies Record<string, LoginStatus>;

export type LoginStatusName = keyof typeof LoginStatus;

/** The two status bytes as one number, e.g. 0x0201 for an authentication failure. */
export function loginStatusCode(status: LoginStatus): number {
  return ((status.statusClass & 0xff) << 8) | (status.statusDetail & 0xff);
}

/** The catalogue name of a status ("AuthenticationFailure"), or its hex code if not catalogued. */
export function describeLoginStatus(status: LoginStatus): string {
  for (const [name, s] of Object.entries(LoginStatus)) {
    if (s.statusClass === status.statusClass && s.statusDetail === status.statusDetail) return name;
  }
  return `0x${loginStatusCode(status).toString(16).padStart(4, '0')}`;
}

/**
 * A login that must end with a non-zero status. `code` names the failure site (iPXE style:
 * each site gets its own code) and `message` says why, both for logs and the boot timeline
 * only; `status` is all the Login Response carries. A login reject has no text keys (no
 * AuthMethod=Reject, no CHAP_A=Reject): see `failed` in login.ts for the RFC 7143 reasoning.
 */
export class LoginError extends DisklessError {
  readonly status: LoginStatus;

  constructor(status: LoginStatus, code: string, message: string) {
    super(code, message);
    this.name = 'LoginError';
    this.status = status;
  }

  /** The only mapping from a login failure to the Login Response status bytes. */
  toStatusFields(): { statusClass: number; statusDetail: number } {
    return { statusClass: this.status.statusClass, statusDetail: this.status.statusDetail };
  }
}
