// The target side of the iSCSI login phase (RFC 7143 sections 6 and 11.12-11.13) as a pure
// state machine: step(state, request) → { state, response, outcome }. The connection layer
// decodes text keys, encodes the Login Response PDU and owns the socket; nothing here does I/O.
import { randomBytes } from 'node:crypto';
import type { ChapCredentials, RandomBytes } from './chap.ts';
import type { AuthRequirements, AuthState } from './login-security.ts';
import { processSecurityKeys, SECURITY_KEYS } from './login-security.ts';
import { LoginError, LoginStatus } from './login-status.ts';
import type { KeyValue, NegotiatedParams, NegotiateOptions, NegotiationState, SessionType, TargetNegotiationPolicy } from './negotiation.ts';
import { createNegotiation, negotiatedParams, negotiateKeys } from './negotiation.ts';
import { initiatorAllowed } from './target-directory.ts';

export type { ChapCredentials, RandomBytes } from './chap.ts';

/** Login stages (RFC 7143 section 11.12.3). Stage 2 is reserved. */
const SECURITY = 0;
const OPERATIONAL = 1;
const FULL_FEATURE = 3;

/** Bound on keys buffered across C-bit continuations (the byte bound is the connection's). */
export const MAX_PENDING_KEYS = 1024;

export interface TargetLoginInfo {
  readonly name: string;
  readonly alias?: string;
  /** Incoming CHAP: the initiator must authenticate with these. null = no authentication. */
  readonly chap: ChapCredentials | null;
  /** Outgoing CHAP: how the target authenticates itself when the initiator asks (mutual). */
  readonly mutualChap: ChapCredentials | null;
  /** Initiator names allowed to log in; null = any. Compared as iSCSI names (initiatorAllowed). */
  readonly allowedInitiators: readonly string[] | null;
}

export interface LoginConfig {
  readonly portalGroupTag: number;
  lookupTarget(name: string): TargetLoginInfo | null;
  /** CHAP credentials required for discovery sessions; null = discovery is open. */
  readonly discoveryAuth: ChapCredentials | null;
  readonly policy: TargetNegotiationPolicy;
}

/** The fields of a Login Request PDU the machine needs, with its data already decoded. */
export interface LoginStepRequest {
  readonly transit: boolean;
  readonly continue: boolean;
  readonly csg: number;
  readonly nsg: number;
  readonly versionMax: number;
  readonly versionMin: number;
  readonly isid: Buffer;
  readonly tsih: number;
  readonly cid: number;
  readonly keys: ReadonlyArray<readonly [string, string]>;
}

/** The fields of the Login Response PDU to send; the connection adds sequence numbers. */
export interface LoginStepResponse {
  readonly transit: boolean;
  readonly continue: false;
  readonly csg: number;
  readonly nsg: number;
  readonly versionMax: 0;
  readonly versionActive: 0;
  readonly statusClass: number;
  readonly statusDetail: number;
  readonly keys: KeyValue[];
}

export interface LoginResult {
  readonly sessionType: SessionType;
  readonly initiatorName: string;
  readonly initiatorAlias?: string;
  readonly targetName?: string;
  readonly isid: Buffer;
  /** As requested: 0 for a new session; the session layer assigns the real one. */
  readonly tsih: number;
  readonly cid: number;
  /** The CHAP user the initiator authenticated as, when CHAP was used. */
  readonly chapUser?: string;
  readonly params: NegotiatedParams;
}

export type LoginOutcome = 'in-progress' | 'complete' | 'failed';

interface LoginIdentity {
  readonly sessionType: SessionType;
  readonly initiatorName: string;
  readonly targetName?: string;
  readonly target: TargetLoginInfo | null;
  readonly isid: Buffer;
  readonly tsih: number;
  readonly cid: number;
  readonly auth: AuthRequirements;
}

export interface LoginState {
  readonly config: LoginConfig;
  readonly random: RandomBytes;
  readonly outcome: LoginOutcome;
  /** The stage the next request must be in; null before the first request is processed. */
  readonly stage: number | null;
  readonly identity: LoginIdentity | null;
  readonly auth: AuthState;
  readonly negotiation: NegotiationState;
  /** Keys of requests sent with C=1, waiting for the request with C=0. */
  readonly pending: ReadonlyArray<readonly [string, string]>;
  readonly pendingCsg: number | null;
  /** Set once failed: every later step answers with it again. */
  readonly failure: LoginStatus | null;
}

export interface LoginStep {
  readonly state: LoginState;
  readonly response: LoginStepResponse;
  readonly outcome: LoginOutcome;
  readonly result?: LoginResult;
  /** Why the login failed, for logs (the response already carries the status). */
  readonly error?: LoginError;
}

export function createLogin(config: LoginConfig, random: RandomBytes = randomBytes): LoginState {
  return {
    config,
    random,
    outcome: 'in-progress',
    stage: null,
    identity: null,
    auth: { step: 'method' },
    negotiation: createNegotiation(),
    pending: [],
    pendingCsg: null,
    failure: null,
  };
}

function respond(csg: number, transit: boolean, nsg: number, keys: KeyValue[], status: LoginStatus = LoginStatus.Success): LoginStepResponse {
  return {
    transit,
    continue: false,
    csg: csg & 0x3,
    nsg: transit ? nsg & 0x3 : 0,
    versionMax: 0,
    versionActive: 0,
    statusClass: status.statusClass,
    statusDetail: status.statusDetail,
    keys,
  };
}

/**
 * A login reject: the status and nothing else. RFC 7143 11.13.5: the Status-Class alone tells the
 * initiator what happened (the Status-Detail refines it), and both sides then close the
 * connection, so keys in a reject could never be acted on. RFC 7143 12.1.3 answers a failed or
 * impossible CHAP step with "a Login reject with 'Authentication Failure' status" and RFC 7143
 * 6.2.1 lets an acceptor end the negotiation instead of answering Reject. No keys also means a
 * reject in the security stage cannot tell an unauthenticated initiator which part failed (the
 * method, the algorithm, the user name or the response): they all read 0x0201 and nothing else.
 * T=0 and NSG=0: NSG is reserved when T is 0 (RFC 7143 11.12.3), and reserved fields are sent as 0
 * (RFC 7143 section 11).
 */
function failed(state: LoginState, request: LoginStepRequest, error: LoginError): LoginStep {
  return {
    state: { ...state, outcome: 'failed', failure: error.status, pending: [], pendingCsg: null },
    response: respond(request.csg, false, 0, [], error.status),
    outcome: 'failed',
    error,
  };
}

/** Feed one Login Request; never throws for anything the initiator can send. */
export function step(state: LoginState, request: LoginStepRequest): LoginStep {
  if (state.failure !== null) {
    const error = new LoginError(state.failure, 'LOGIN_ALREADY_FAILED', 'login already failed');
    return failed(state, request, error);
  }
  if (state.outcome === 'complete') {
    return failed(state, request, new LoginError(LoginStatus.InitiatorError, 'LOGIN_ALREADY_COMPLETE', 'login already complete'));
  }
  try {
    return advance(state, request);
  } catch (e) {
    if (e instanceof LoginError) return failed(state, request, e);
    throw e;
  }
}

function initiatorError(code: string, message: string): LoginError {
  return new LoginError(LoginStatus.InitiatorError, code, message);
}

/** RFC 7143 11.12.3: CSG 0 → NSG 1 or 3; CSG 1 → NSG 3; stage 2 does not exist. */
function checkStages(request: LoginStepRequest): void {
  if (request.csg !== SECURITY && request.csg !== OPERATIONAL) {
    throw initiatorError('LOGIN_BAD_CSG', `CSG ${request.csg} is not a login stage`);
  }
  // RFC 7143 11.12.2: the C bit may only be set when the T bit is not.
  if (request.continue && request.transit) throw initiatorError('LOGIN_CONTINUE_AND_TRANSIT', 'T and C both set');
  if (request.transit) {
    const ok = request.csg === SECURITY ? request.nsg === OPERATIONAL || request.nsg === FULL_FEATURE : request.nsg === FULL_FEATURE;
    if (!ok) throw initiatorError('LOGIN_BAD_NSG', `cannot go from stage ${request.csg} to ${request.nsg}`);
  }
}

function firstValue(keys: ReadonlyArray<readonly [string, string]>, key: string): string | undefined {
  return keys.find(([k]) => k === key)?.[1];
}

function isName(value: string): boolean {
  // RFC 7143 4.2.7.1: iSCSI names are at most 223 bytes of UTF-8.
  return value.length > 0 && !value.includes('\0') && Buffer.byteLength(value, 'utf8') <= 223;
}

/** The checks on the first (complete) request: version, names, target, authorization. */
function identify(config: LoginConfig, request: LoginStepRequest, keys: ReadonlyArray<readonly [string, string]>): LoginIdentity {
  // RFC 7143 11.12.4: version 0x00 is the only one defined; we cannot meet a higher minimum.
  if (request.versionMin > 0) {
    throw new LoginError(LoginStatus.UnsupportedVersion, 'LOGIN_VERSION_UNSUPPORTED', `VersionMin ${request.versionMin}`);
  }
  // RFC 7143 13.5: InitiatorName MUST be in the first login request.
  const initiatorName = firstValue(keys, 'InitiatorName');
  if (initiatorName === undefined) throw new LoginError(LoginStatus.MissingParameter, 'LOGIN_INITIATOR_NAME_MISSING', 'no InitiatorName');
  if (!isName(initiatorName)) throw initiatorError('LOGIN_INITIATOR_NAME_INVALID', 'malformed InitiatorName');

  const sessionTypeValue = firstValue(keys, 'SessionType') ?? 'Normal';
  if (sessionTypeValue !== 'Normal' && sessionTypeValue !== 'Discovery') {
    throw new LoginError(LoginStatus.SessionTypeNotSupported, 'LOGIN_SESSION_TYPE', `SessionType=${sessionTypeValue.slice(0, 32)}`);
  }
  const common = { initiatorName, isid: Buffer.from(request.isid), tsih: request.tsih, cid: request.cid };

  if (sessionTypeValue === 'Discovery') {
    return { ...common, sessionType: 'Discovery', target: null, auth: { incoming: config.discoveryAuth, outgoing: null } };
  }
  // RFC 7143 13.4: TargetName MUST be in the first login request of a Normal session.
  const targetName = firstValue(keys, 'TargetName');
  if (targetName === undefined) throw new LoginError(LoginStatus.MissingParameter, 'LOGIN_TARGET_NAME_MISSING', 'no TargetName');
  if (!isName(targetName)) throw initiatorError('LOGIN_TARGET_NAME_INVALID', 'malformed TargetName');
  const target = config.lookupTarget(targetName);
  if (target === null) throw new LoginError(LoginStatus.NotFound, 'LOGIN_TARGET_NOT_FOUND', `no target ${targetName}`);
  // The same check SendTargets filters with (send-targets.ts), names compared after RFC 3722
  // stringprep: a spelling that discovery shows the target to is one that may log in to it.
  if (!initiatorAllowed(target, initiatorName)) {
    throw new LoginError(LoginStatus.AuthorizationFailure, 'LOGIN_INITIATOR_NOT_ALLOWED', `${initiatorName} may not use ${targetName}`);
  }
  return { ...common, sessionType: 'Normal', targetName, target, auth: { incoming: target.chap, outgoing: target.mutualChap } };
}

/** RFC 7143 11.12: ISID, TSIH and CID stay the same for every request of one login. */
function checkSameLogin(identity: LoginIdentity, request: LoginStepRequest): void {
  if (!identity.isid.equals(request.isid) || identity.tsih !== request.tsih || identity.cid !== request.cid) {
    throw initiatorError('LOGIN_IDENTITY_CHANGED', 'ISID, TSIH or CID changed during login');
  }
}

function splitSecurityKeys(keys: ReadonlyArray<readonly [string, string]>): { security: Map<string, string>; other: KeyValue[] } {
  const security = new Map<string, string>();
  const other: KeyValue[] = [];
  for (const [k, v] of keys) {
    if (!SECURITY_KEYS.has(k)) {
      other.push([k, v]);
      continue;
    }
    // RFC 7143 6.1: a key sent twice is a protocol error.
    if (security.has(k)) throw initiatorError('LOGIN_SECURITY_KEY_REPEATED', `${k} sent twice`);
    security.set(k, v);
  }
  return { security, other };
}

function advance(state: LoginState, request: LoginStepRequest): LoginStep {
  checkStages(request);
  if (state.stage !== null && request.csg !== state.stage) {
    // Leaving the security stage by any route but a completed exchange is an auth failure.
    if (state.stage === SECURITY && state.auth.step !== 'authenticated') {
      throw new LoginError(LoginStatus.AuthenticationFailure, 'LOGIN_SECURITY_SKIPPED', 'security stage not completed');
    }
    throw initiatorError('LOGIN_STAGE_MISMATCH', `CSG ${request.csg}, expected ${state.stage}`);
  }
  if (state.pendingCsg !== null && request.csg !== state.pendingCsg) {
    throw initiatorError('LOGIN_STAGE_MISMATCH', 'CSG changed inside a continued request');
  }

  // RFC 7143 11.12.2 (C bit): buffer the text and answer with an empty response.
  if (request.continue) {
    const pending = [...state.pending, ...request.keys];
    if (pending.length > MAX_PENDING_KEYS) throw initiatorError('LOGIN_TOO_MANY_KEYS', 'too many keys in continued request');
    return {
      state: { ...state, pending, pendingCsg: request.csg },
      response: respond(request.csg, false, 0, []),
      outcome: 'in-progress',
    };
  }
  const keys = [...state.pending, ...request.keys];

  const firstRequest = state.identity === null;
  const identity = state.identity ?? identify(state.config, request, keys);
  if (!firstRequest) checkSameLogin(identity, request);
  // A target that requires CHAP cannot be entered at the operational stage.
  if (firstRequest && request.csg !== SECURITY && identity.auth.incoming !== null) {
    throw new LoginError(LoginStatus.AuthenticationFailure, 'LOGIN_SECURITY_SKIPPED', 'CHAP required: login must start in the security stage');
  }

  const { security, other } = splitSecurityKeys(keys);
  let auth = state.auth;
  const responses: KeyValue[] = [];
  if (request.csg === SECURITY) {
    const r = processSecurityKeys(auth, security, identity.auth, state.random);
    auth = r.auth;
    responses.push(...r.responses);
  } else if (security.size > 0) {
    throw initiatorError('LOGIN_SECURITY_KEY_IN_OPERATIONAL', 'security keys outside the security stage');
  }

  // The target may only set T when the initiator did (RFC 7143 11.13.1), and leaves the
  // security stage only once authentication is done.
  const transit = request.transit && (request.csg === OPERATIONAL || auth.step === 'authenticated');
  const entersFullFeature = transit && request.nsg === FULL_FEATURE;

  const declare: { targetPortalGroupTag?: number; targetAlias?: string; maxRecvDataSegmentLength?: boolean } = {};
  // RFC 7143 13.9: the target MUST send TargetPortalGroupTag in its first Normal-session response.
  if (identity.sessionType === 'Normal') declare.targetPortalGroupTag = state.config.portalGroupTag;
  // Operational declarations go out in the operational stage, or as the security stage ends
  // straight into full feature (RFC 7143 13.12).
  if (request.csg === OPERATIONAL || entersFullFeature) {
    declare.maxRecvDataSegmentLength = true;
    const alias = identity.target?.alias;
    if (alias !== undefined) declare.targetAlias = alias;
  }
  const options: NegotiateOptions = { leading: identity.tsih === 0, phase: 'login', declare };
  const negotiated = negotiateKeys(other, state.negotiation, state.config.policy, identity.sessionType, options);
  if (negotiated.error !== undefined) {
    throw new LoginError(negotiated.error, negotiated.errorCode ?? 'LOGIN_NEGOTIATION_FAILED', 'operational negotiation failed');
  }
  responses.push(...negotiated.responses);

  const next: LoginState = {
    ...state,
    outcome: entersFullFeature ? 'complete' : 'in-progress',
    stage: transit ? request.nsg : request.csg,
    identity,
    auth,
    negotiation: negotiated.state,
    pending: [],
    pendingCsg: null,
  };
  const response = respond(request.csg, transit, request.nsg, responses);
  if (!entersFullFeature) return { state: next, response, outcome: 'in-progress' };
  return { state: next, response, outcome: 'complete', result: loginResult(identity, auth, negotiated.state) };
}

function loginResult(identity: LoginIdentity, auth: AuthState, negotiation: NegotiationState): LoginResult {
  const alias = negotiation.values.get('InitiatorAlias');
  const chapUser = auth.step === 'authenticated' ? auth.user : undefined;
  return {
    sessionType: identity.sessionType,
    initiatorName: identity.initiatorName,
    ...(alias !== undefined ? { initiatorAlias: alias } : {}),
    ...(identity.targetName !== undefined ? { targetName: identity.targetName } : {}),
    isid: identity.isid,
    tsih: identity.tsih,
    cid: identity.cid,
    ...(chapUser !== undefined ? { chapUser } : {}),
    params: negotiatedParams(negotiation),
  };
}
