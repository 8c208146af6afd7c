// The security stage of login (RFC 7143 sections 6.3 and 12): AuthMethod negotiation and the
// CHAP exchange as a small state machine. Every request in the stage must carry the keys the
// current step expects; a request that does not is an authentication failure, so the stage can
// neither be skipped nor stalled past (the "CHAP cannot be bypassed" rule).
import type { ChapCredentials, RandomBytes } from './chap.ts';
import {
  CHAP_ALGORITHM_MD5,
  chapResponse,
  createChallenge,
  encodeChapBinary,
  parseChapId,
  parseChapResponse,
  parseInitiatorChallenge,
  selectChapAlgorithm,
  verifyChapResponse,
} from './chap.ts';
import { LoginError, LoginStatus } from './login-status.ts';
import type { KeyValue } from './negotiation.ts';

export type AuthState =
  | { readonly step: 'method' }
  | { readonly step: 'chap-algorithm' }
  | { readonly step: 'chap-response'; readonly id: number; readonly challenge: Buffer }
  | { readonly step: 'authenticated'; readonly method: 'None' | 'CHAP'; readonly user?: string };

export interface AuthRequirements {
  /** The initiator must prove it knows this secret (one-way CHAP); null = no authentication. */
  readonly incoming: ChapCredentials | null;
  /** What the target answers with when the initiator asks for mutual CHAP; null = refuse. */
  readonly outgoing: ChapCredentials | null;
}

/** Keys that belong to the security stage only (RFC 7143 12.1 and 12.1.3). */
export const SECURITY_KEYS: ReadonlySet<string> = new Set(['AuthMethod', 'CHAP_A', 'CHAP_I', 'CHAP_C', 'CHAP_N', 'CHAP_R']);

function authFailure(code: string, message: string): LoginError {
  return new LoginError(LoginStatus.AuthenticationFailure, code, message);
}

/**
 * RFC 7143 12.1: answer the first method we can do; a CHAP target accepts nothing else. None
 * acceptable ends the login (0x0201) rather than answering AuthMethod=Reject: RFC 7143 6.2.1
 * lets the acceptor of a list either answer Reject or end the negotiation.
 */
export function chooseAuthMethod(offered: string, requirements: AuthRequirements): 'CHAP' | 'None' {
  const methods = offered.split(',');
  const wanted = requirements.incoming === null ? 'None' : 'CHAP';
  if (methods.includes(wanted)) return wanted;
  throw authFailure('AUTH_METHOD_REJECTED', `AuthMethod=${offered.slice(0, 64)} does not include ${wanted}`);
}

export interface SecurityStepResult {
  readonly auth: AuthState;
  readonly responses: KeyValue[];
}

/**
 * Advance the security stage by one request. `keys` holds only security keys, each once.
 * Throws LoginError (AuthenticationFailure, or InitiatorError for keys out of sequence).
 */
export function processSecurityKeys(
  auth: AuthState,
  keys: ReadonlyMap<string, string>,
  requirements: AuthRequirements,
  random: RandomBytes,
): SecurityStepResult {
  const consumed = new Set<string>();
  const get = (key: string): string | undefined => {
    consumed.add(key);
    return keys.get(key);
  };
  const responses: KeyValue[] = [];
  const startedAt = auth.step;
  let next: AuthState = auth;

  if (next.step === 'method') {
    const offered = get('AuthMethod');
    if (offered === undefined) {
      // AuthMethod defaults to None (RFC 7143 12.1); a CHAP target cannot accept that.
      if (requirements.incoming !== null) throw authFailure('AUTH_METHOD_MISSING', 'CHAP required but AuthMethod not offered');
      next = { step: 'authenticated', method: 'None' };
    } else {
      const method = chooseAuthMethod(offered, requirements);
      responses.push(['AuthMethod', method]);
      next = method === 'CHAP' ? { step: 'chap-algorithm' } : { step: 'authenticated', method: 'None' };
    }
  }

  if (next.step === 'chap-algorithm') {
    const algorithms = get('CHAP_A');
    if (algorithms !== undefined) {
      selectChapAlgorithm(algorithms);
      const { id, challenge } = createChallenge(random);
      responses.push(['CHAP_A', String(CHAP_ALGORITHM_MD5)], ['CHAP_I', String(id)], ['CHAP_C', encodeChapBinary(challenge)]);
      next = { step: 'chap-response', id, challenge };
    } else if (startedAt === 'chap-algorithm') {
      throw authFailure('CHAP_A_MISSING', 'expected CHAP_A');
    }
  } else if (next.step === 'chap-response' && startedAt === 'chap-response') {
    const r = verifyInitiator(next, get, requirements);
    responses.push(...r.responses);
    next = r.auth;
  }

  for (const key of keys.keys()) {
    if (!consumed.has(key)) {
      throw new LoginError(LoginStatus.InitiatorError, 'SECURITY_KEY_OUT_OF_SEQUENCE', `${key} not expected at step ${startedAt}`);
    }
  }
  return { auth: next, responses };
}

/** RFC 7143 12.1.3: check CHAP_N/CHAP_R, then answer the initiator's challenge for mutual CHAP. */
function verifyInitiator(
  auth: { readonly id: number; readonly challenge: Buffer },
  get: (key: string) => string | undefined,
  requirements: AuthRequirements,
): SecurityStepResult {
  const incoming = requirements.incoming;
  const name = get('CHAP_N');
  const responseText = get('CHAP_R');
  const mutualId = get('CHAP_I');
  const mutualChallenge = get('CHAP_C');
  if (incoming === null) throw authFailure('CHAP_NOT_CONFIGURED', 'no CHAP credentials configured');
  if (name === undefined || responseText === undefined) throw authFailure('CHAP_RESPONSE_MISSING', 'expected CHAP_N and CHAP_R');
  const response = parseChapResponse(responseText);
  // Check both before deciding, so a wrong user costs the same as a wrong secret.
  const responseOk = verifyChapResponse(auth.id, incoming.secret, auth.challenge, response);
  const userOk = name === incoming.user;
  if (!userOk) throw authFailure('CHAP_USER_UNKNOWN', 'CHAP_N does not match');
  if (!responseOk) throw authFailure('CHAP_RESPONSE_WRONG', 'CHAP_R does not match');

  if (mutualId === undefined && mutualChallenge === undefined) {
    // The initiator decides whether to authenticate the target (RFC 7143 12.1.3).
    return { auth: { step: 'authenticated', method: 'CHAP', user: name }, responses: [] };
  }
  if (mutualId === undefined || mutualChallenge === undefined) {
    throw authFailure('CHAP_MUTUAL_INCOMPLETE', 'mutual CHAP needs both CHAP_I and CHAP_C');
  }
  const outgoing = requirements.outgoing;
  if (outgoing === null) throw authFailure('CHAP_MUTUAL_NOT_CONFIGURED', 'initiator asked for mutual CHAP');
  if (Buffer.from(outgoing.secret).equals(Buffer.from(incoming.secret))) {
    // RFC 7143 12.1.3: a secret used to authenticate initiators MUST NOT authenticate targets.
    throw new LoginError(LoginStatus.TargetError, 'CHAP_SECRET_REUSED', 'mutual CHAP secret equals the initiator secret');
  }
  const id = parseChapId(mutualId);
  const challenge = parseInitiatorChallenge(mutualChallenge, auth.challenge);
  return {
    auth: { step: 'authenticated', method: 'CHAP', user: name },
    responses: [
      ['CHAP_N', outgoing.user],
      ['CHAP_R', encodeChapBinary(chapResponse(id, outgoing.secret, challenge))],
    ],
  };
}
