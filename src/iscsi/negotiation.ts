// Operational text keys (RFC 7143 section 13) and their negotiation (RFC 7143 sections 6.1-6.2).
// The rules live in KEY_TABLE, tgt style; negotiateKeys() is a pure function from the keys an
// initiator offered, the state so far and the target's policy to the answers and a new state.
import { LoginStatus } from './login-status.ts';

export type SessionType = 'Normal' | 'Discovery';
export type KeyValue = [string, string];

/** What the target offers and accepts. Values are the target's side of each negotiation. */
export interface TargetNegotiationPolicy {
  /** Digests the target accepts, e.g. ['CRC32C', 'None']; the initiator's order decides. */
  readonly headerDigests: readonly string[];
  readonly dataDigests: readonly string[];
  readonly maxConnections: number;
  /** false: the target lets the initiator send unsolicited data without waiting for R2T. */
  readonly initialR2T: boolean;
  readonly immediateData: boolean;
  /** Declared by the target: the largest data segment it accepts in one PDU. */
  readonly maxRecvDataSegmentLength: number;
  readonly maxBurstLength: number;
  readonly firstBurstLength: number;
  readonly defaultTime2Wait: number;
  readonly defaultTime2Retain: number;
  readonly maxOutstandingR2T: number;
  readonly dataPduInOrder: boolean;
  readonly dataSequenceInOrder: boolean;
  /** Only 0 is implemented (no within-command or within-connection recovery). */
  readonly errorRecoveryLevel: number;
}

export const DEFAULT_TARGET_POLICY: TargetNegotiationPolicy = Object.freeze({
  headerDigests: Object.freeze(['CRC32C', 'None']),
  dataDigests: Object.freeze(['CRC32C', 'None']),
  maxConnections: 1,
  initialR2T: false,
  immediateData: true,
  maxRecvDataSegmentLength: 262144,
  maxBurstLength: 16 * 1024 * 1024 - 1,
  firstBurstLength: 16 * 1024 * 1024 - 1,
  defaultTime2Wait: 2,
  defaultTime2Retain: 20,
  maxOutstandingR2T: 32,
  dataPduInOrder: true,
  dataSequenceInOrder: true,
  errorRecoveryLevel: 0,
});

// --- the key table -----------------------------------------------------------------------

interface KeyCommon {
  readonly key: string;
  /** SW (session-wide) or CO (connection-only), RFC 7143 section 13. */
  readonly scope: 'session' | 'connection';
  /** LO: may be negotiated only on the leading connection of a session. */
  readonly leadingOnly: boolean;
  /** IO: login only; ALL: login or text negotiation; FFPO: full-feature phase only. */
  readonly allowedIn: 'login' | 'any' | 'full-feature';
  /** Session types where the key is relevant; elsewhere it is answered Irrelevant. */
  readonly sessionTypes: readonly SessionType[];
  /** Who may send it; an initiator sending a target-only key gets Reject. */
  readonly sender: 'initiator' | 'target' | 'both';
}

export interface BooleanKeyDefinition extends KeyCommon {
  readonly type: 'boolean';
  readonly rule: 'and' | 'or';
  readonly default: boolean;
  readonly target: (policy: TargetNegotiationPolicy) => boolean;
}

export interface NumberKeyDefinition extends KeyCommon {
  readonly type: 'number';
  readonly rule: 'min' | 'max' | 'declarative';
  readonly default: number;
  readonly min: number;
  readonly max: number;
  /** For min/max: the target's value. For declarative: the target's own declaration, if any. */
  readonly target?: (policy: TargetNegotiationPolicy) => number;
  /** The result may not exceed this other key's value (RFC 7143 13.14: FirstBurst ≤ MaxBurst). */
  readonly notAbove?: string;
}

export interface ListKeyDefinition extends KeyCommon {
  readonly type: 'list';
  readonly rule: 'list';
  readonly default: string;
  /** Values the target accepts; the answer is the initiator's first one found here. */
  readonly target: (policy: TargetNegotiationPolicy) => readonly string[];
}

export interface StringKeyDefinition extends KeyCommon {
  readonly type: 'string';
  /** declarative: stored, no answer. irrelevant: always answered Irrelevant. */
  readonly rule: 'declarative' | 'irrelevant';
  readonly default: string;
  /** Longest value in bytes (RFC 7143 4.2.7.1: iSCSI names ≤ 223; 6.1: text values ≤ 255). */
  readonly maxLength: number;
  /** Login keys some initiators repeat in every stage (libiscsi does); same value is tolerated. */
  readonly repeatable: boolean;
}

export type KeyDefinition = BooleanKeyDefinition | NumberKeyDefinition | ListKeyDefinition | StringKeyDefinition;

const BOTH: readonly SessionType[] = ['Normal', 'Discovery'];
const NORMAL: readonly SessionType[] = ['Normal'];
const MAX_24 = 2 ** 24 - 1;

/** RFC 7143 section 13 (and 13.25's obsolete marker keys), one row per key. */
export const KEY_TABLE: readonly KeyDefinition[] = [
  // 13.1 Digests: CO, IO; list; answer the initiator's first value we accept.
  { key: 'HeaderDigest', type: 'list', rule: 'list', default: 'None', target: (p) => p.headerDigests, scope: 'connection', leadingOnly: false, allowedIn: 'login', sessionTypes: BOTH, sender: 'both' },
  { key: 'DataDigest', type: 'list', rule: 'list', default: 'None', target: (p) => p.dataDigests, scope: 'connection', leadingOnly: false, allowedIn: 'login', sessionTypes: BOTH, sender: 'both' },
  // 13.2 MaxConnections: LO, minimum, 1..65535, irrelevant for discovery.
  { key: 'MaxConnections', type: 'number', rule: 'min', default: 1, min: 1, max: 65535, target: (p) => p.maxConnections, scope: 'session', leadingOnly: true, allowedIn: 'login', sessionTypes: NORMAL, sender: 'both' },
  // 13.3 SendTargets is a full-feature command, handled by the text handler, not negotiated.
  { key: 'SendTargets', type: 'string', rule: 'declarative', default: '', maxLength: 255, repeatable: true, scope: 'session', leadingOnly: false, allowedIn: 'full-feature', sessionTypes: BOTH, sender: 'initiator' },
  // 13.4-13.7 Names and aliases: declarative.
  { key: 'TargetName', type: 'string', rule: 'declarative', default: '', maxLength: 223, repeatable: true, scope: 'session', leadingOnly: false, allowedIn: 'login', sessionTypes: BOTH, sender: 'both' },
  { key: 'InitiatorName', type: 'string', rule: 'declarative', default: '', maxLength: 223, repeatable: true, scope: 'session', leadingOnly: false, allowedIn: 'login', sessionTypes: BOTH, sender: 'initiator' },
  { key: 'TargetAlias', type: 'string', rule: 'declarative', default: '', maxLength: 255, repeatable: false, scope: 'session', leadingOnly: false, allowedIn: 'any', sessionTypes: NORMAL, sender: 'target' },
  { key: 'InitiatorAlias', type: 'string', rule: 'declarative', default: '', maxLength: 255, repeatable: true, scope: 'session', leadingOnly: false, allowedIn: 'any', sessionTypes: BOTH, sender: 'initiator' },
  // 13.8-13.9 Target-declared addressing.
  { key: 'TargetAddress', type: 'string', rule: 'declarative', default: '', maxLength: 255, repeatable: false, scope: 'session', leadingOnly: false, allowedIn: 'any', sessionTypes: BOTH, sender: 'target' },
  { key: 'TargetPortalGroupTag', type: 'number', rule: 'declarative', default: 1, min: 0, max: 65535, scope: 'session', leadingOnly: false, allowedIn: 'login', sessionTypes: NORMAL, sender: 'target' },
  // 13.10 InitialR2T: LO, OR.  13.11 ImmediateData: LO, AND.
  { key: 'InitialR2T', type: 'boolean', rule: 'or', default: true, target: (p) => p.initialR2T, scope: 'session', leadingOnly: true, allowedIn: 'login', sessionTypes: NORMAL, sender: 'both' },
  { key: 'ImmediateData', type: 'boolean', rule: 'and', default: true, target: (p) => p.immediateData, scope: 'session', leadingOnly: true, allowedIn: 'login', sessionTypes: NORMAL, sender: 'both' },
  // 13.12 MaxRecvDataSegmentLength: CO, declarative by each side, 512..2^24-1.
  { key: 'MaxRecvDataSegmentLength', type: 'number', rule: 'declarative', default: 8192, min: 512, max: MAX_24, target: (p) => p.maxRecvDataSegmentLength, scope: 'connection', leadingOnly: false, allowedIn: 'any', sessionTypes: BOTH, sender: 'both' },
  // 13.13-13.14 Bursts: LO, minimum; FirstBurstLength MUST NOT exceed MaxBurstLength.
  { key: 'MaxBurstLength', type: 'number', rule: 'min', default: 262144, min: 512, max: MAX_24, target: (p) => p.maxBurstLength, scope: 'session', leadingOnly: true, allowedIn: 'login', sessionTypes: NORMAL, sender: 'both' },
  { key: 'FirstBurstLength', type: 'number', rule: 'min', default: 65536, min: 512, max: MAX_24, target: (p) => p.firstBurstLength, notAbove: 'MaxBurstLength', scope: 'session', leadingOnly: true, allowedIn: 'login', sessionTypes: NORMAL, sender: 'both' },
  // 13.15-13.16 Time2Wait: maximum; Time2Retain: minimum; 0..3600 seconds.
  { key: 'DefaultTime2Wait', type: 'number', rule: 'max', default: 2, min: 0, max: 3600, target: (p) => p.defaultTime2Wait, scope: 'session', leadingOnly: true, allowedIn: 'login', sessionTypes: BOTH, sender: 'both' },
  { key: 'DefaultTime2Retain', type: 'number', rule: 'min', default: 20, min: 0, max: 3600, target: (p) => p.defaultTime2Retain, scope: 'session', leadingOnly: true, allowedIn: 'login', sessionTypes: BOTH, sender: 'both' },
  // 13.17 MaxOutstandingR2T: LO, minimum, 1..65535.
  { key: 'MaxOutstandingR2T', type: 'number', rule: 'min', default: 1, min: 1, max: 65535, target: (p) => p.maxOutstandingR2T, scope: 'session', leadingOnly: true, allowedIn: 'login', sessionTypes: NORMAL, sender: 'both' },
  // 13.18-13.19 Ordering: LO, OR.
  { key: 'DataPDUInOrder', type: 'boolean', rule: 'or', default: true, target: (p) => p.dataPduInOrder, scope: 'session', leadingOnly: true, allowedIn: 'login', sessionTypes: NORMAL, sender: 'both' },
  { key: 'DataSequenceInOrder', type: 'boolean', rule: 'or', default: true, target: (p) => p.dataSequenceInOrder, scope: 'session', leadingOnly: true, allowedIn: 'login', sessionTypes: NORMAL, sender: 'both' },
  // 13.20 ErrorRecoveryLevel: LO, minimum, 0..2.
  { key: 'ErrorRecoveryLevel', type: 'number', rule: 'min', default: 0, min: 0, max: 2, target: (p) => p.errorRecoveryLevel, scope: 'session', leadingOnly: true, allowedIn: 'login', sessionTypes: BOTH, sender: 'both' },
  // 13.21 SessionType: LO, declarative; its value is checked by the login machine.
  { key: 'SessionType', type: 'string', rule: 'declarative', default: 'Normal', maxLength: 63, repeatable: true, scope: 'session', leadingOnly: true, allowedIn: 'login', sessionTypes: BOTH, sender: 'initiator' },
  // 13.23 TaskReporting: LO; we implement only the RFC 3720 behaviour.
  { key: 'TaskReporting', type: 'list', rule: 'list', default: 'RFC3720', target: () => ['RFC3720'], scope: 'session', leadingOnly: true, allowedIn: 'login', sessionTypes: NORMAL, sender: 'both' },
  // Markers (RFC 3720 A.3, obsoleted by RFC 7143): never used, so AND with No; intervals Irrelevant.
  { key: 'OFMarker', type: 'boolean', rule: 'and', default: false, target: () => false, scope: 'connection', leadingOnly: false, allowedIn: 'login', sessionTypes: BOTH, sender: 'both' },
  { key: 'IFMarker', type: 'boolean', rule: 'and', default: false, target: () => false, scope: 'connection', leadingOnly: false, allowedIn: 'login', sessionTypes: BOTH, sender: 'both' },
  { key: 'OFMarkInt', type: 'string', rule: 'irrelevant', default: '2048', maxLength: 255, repeatable: false, scope: 'connection', leadingOnly: false, allowedIn: 'login', sessionTypes: BOTH, sender: 'both' },
  { key: 'IFMarkInt', type: 'string', rule: 'irrelevant', default: '2048', maxLength: 255, repeatable: false, scope: 'connection', leadingOnly: false, allowedIn: 'login', sessionTypes: BOTH, sender: 'both' },
];

const KEYS_BY_NAME: ReadonlyMap<string, KeyDefinition> = new Map(KEY_TABLE.map((d) => [d.key, d]));

export function findKeyDefinition(key: string): KeyDefinition | undefined {
  return KEYS_BY_NAME.get(key);
}

// --- state and result --------------------------------------------------------------------

export interface NegotiationState {
  /** Agreed (or initiator-declared) values, in wire form, by key. */
  readonly values: ReadonlyMap<string, string>;
  /** Keys the initiator has sent in this login, to catch a second negotiation (RFC 7143 6.1). */
  readonly seen: ReadonlySet<string>;
  /** Declarations the target has already sent, so each goes out once. */
  readonly declared: ReadonlyMap<string, string>;
}

export function createNegotiation(): NegotiationState {
  return { values: new Map(), seen: new Set(), declared: new Map() };
}

/** Session and connection parameters after login, with RFC defaults for keys never negotiated. */
export interface NegotiatedParams {
  readonly headerDigest: boolean;
  readonly dataDigest: boolean;
  /** The initiator's declaration: the most we may send in one PDU. */
  readonly maxRecvDataSegmentLengthInitiator: number;
  /** The target's declaration: the most the initiator will send us in one PDU. */
  readonly maxRecvDataSegmentLengthTarget: number;
  readonly maxBurstLength: number;
  readonly firstBurstLength: number;
  readonly initialR2T: boolean;
  readonly immediateData: boolean;
  readonly maxOutstandingR2T: number;
  readonly dataPduInOrder: boolean;
  readonly dataSequenceInOrder: boolean;
  readonly errorRecoveryLevel: number;
  readonly defaultTime2Wait: number;
  readonly defaultTime2Retain: number;
  readonly maxConnections: number;
}

export interface NegotiateOptions {
  /** false on a connection added to an existing session: LO keys are then refused. */
  readonly leading?: boolean;
  readonly phase?: 'login' | 'full-feature';
  /** Declarations to add once, after the answers (RFC 7143 13.9, 13.12, 13.6). */
  readonly declare?: {
    readonly targetPortalGroupTag?: number;
    readonly targetAlias?: string;
    readonly maxRecvDataSegmentLength?: boolean;
  };
}

export interface NegotiateResult {
  readonly responses: KeyValue[];
  readonly state: NegotiationState;
  readonly error?: LoginStatus;
  /** A stable code naming the failure site, when `error` is set. */
  readonly errorCode?: string;
}

// --- value parsing (RFC 7143 section 6.1) ------------------------------------------------

/** RFC 7143 6.1: key names are letters, digits and . - + @ _, at most 63 bytes. */
const KEY_NAME = /^[A-Za-z0-9.\-+@_]{1,63}$/;

/** numerical-value: decimal-constant or hex-constant; null if malformed. */
export function parseNumber(value: string): number | null {
  if (/^[0-9]{1,16}$/.test(value)) return Number.parseInt(value, 10);
  if (/^0[xX][0-9a-fA-F]{1,13}$/.test(value)) return Number.parseInt(value.slice(2), 16);
  return null;
}

/** boolean-value: exactly "Yes" or "No". */
export function parseBoolean(value: string): boolean | null {
  if (value === 'Yes') return true;
  if (value === 'No') return false;
  return null;
}

function formatBoolean(b: boolean): string {
  return b ? 'Yes' : 'No';
}

function isTextValue(value: string, maxLength: number): boolean {
  return value.length > 0 && !value.includes('\0') && Buffer.byteLength(value, 'utf8') <= maxLength;
}

// --- negotiation -------------------------------------------------------------------------

/** null: declarative, nothing to send back; REPEATED: a second negotiation of the key. */
type Answer = string | null | typeof REPEATED;
const REPEATED: unique symbol = Symbol('repeated');

interface Working {
  values: Map<string, string>;
  seen: Set<string>;
  declared: Map<string, string>;
}

/** The current value of a key: negotiated, or the RFC default. */
function currentNumber(values: ReadonlyMap<string, string>, key: string): number {
  const def = KEYS_BY_NAME.get(key);
  const fallback = def?.type === 'number' ? def.default : 0;
  const stored = values.get(key);
  if (stored === undefined) return fallback;
  return parseNumber(stored) ?? fallback;
}

function answerBoolean(def: BooleanKeyDefinition, value: string, policy: TargetNegotiationPolicy, w: Working): Answer {
  const offered = parseBoolean(value);
  if (offered === null) return 'Reject';
  const mine = def.target(policy);
  const result = def.rule === 'and' ? offered && mine : offered || mine;
  w.values.set(def.key, formatBoolean(result));
  return formatBoolean(result);
}

function answerNumber(def: NumberKeyDefinition, value: string, policy: TargetNegotiationPolicy, w: Working): Answer {
  const offered = parseNumber(value);
  if (offered === null || offered < def.min || offered > def.max) return 'Reject';
  if (def.rule === 'declarative') {
    w.values.set(def.key, String(offered));
    // A key both sides declare (MaxRecvDataSegmentLength): our declaration is the reply.
    if (def.target === undefined || def.sender !== 'both' || w.declared.has(def.key)) return null;
    const mine = String(def.target(policy));
    w.declared.set(def.key, mine);
    return mine;
  }
  const mine = def.target?.(policy) ?? def.default;
  let result = def.rule === 'min' ? Math.min(offered, mine) : Math.max(offered, mine);
  if (def.notAbove !== undefined) result = Math.min(result, currentNumber(w.values, def.notAbove));
  w.values.set(def.key, String(result));
  return String(result);
}

function answerList(def: ListKeyDefinition, value: string, policy: TargetNegotiationPolicy, w: Working): Answer {
  if (!isTextValue(value, 255)) return 'Reject';
  const accepted = def.target(policy);
  const choice = value.split(',').find((v) => accepted.includes(v));
  if (choice === undefined) return 'Reject';
  w.values.set(def.key, choice);
  return choice;
}

function answerString(def: StringKeyDefinition, value: string, w: Working): Answer {
  if (def.rule === 'irrelevant') return 'Irrelevant';
  if (!isTextValue(value, def.maxLength)) return 'Reject';
  w.values.set(def.key, value);
  return null;
}

function answerKey(
  key: string,
  value: string,
  w: Working,
  policy: TargetNegotiationPolicy,
  sessionType: SessionType,
  leading: boolean,
  phase: 'login' | 'full-feature',
): Answer {
  const def = KEYS_BY_NAME.get(key);
  // RFC 7143 6.2: a key the acceptor does not know is answered NotUnderstood.
  if (def === undefined) return 'NotUnderstood';
  // RFC 7143 6.1: a key may be negotiated or declared only once per login; libiscsi repeats
  // its names in each stage, so an identical re-declaration of those is tolerated.
  if (w.seen.has(key)) {
    if (def.type === 'string' && def.repeatable && w.values.get(key) === value) return null;
    return REPEATED;
  }
  w.seen.add(key);
  if (phase === 'login' && def.allowedIn === 'full-feature') return 'Irrelevant';
  if (phase === 'full-feature' && def.allowedIn === 'login') return 'Reject';
  if (def.leadingOnly && !leading) return 'Reject';
  if (def.sender === 'target') return 'Reject';
  // RFC 7143 6.2: keys irrelevant to this session type (e.g. burst sizes in discovery).
  if (!def.sessionTypes.includes(sessionType)) return 'Irrelevant';
  switch (def.type) {
    case 'boolean':
      return answerBoolean(def, value, policy, w);
    case 'number':
      return answerNumber(def, value, policy, w);
    case 'list':
      return answerList(def, value, policy, w);
    case 'string':
      return answerString(def, value, w);
  }
}

/**
 * Answer the keys an initiator offered in one (complete) request. Keys whose result is bounded
 * by another key (FirstBurstLength by MaxBurstLength) are settled after the rest, so the order
 * inside one request does not matter; answers keep the initiator's order.
 */
export function negotiateKeys(
  offered: ReadonlyArray<readonly [string, string]>,
  state: NegotiationState,
  policy: TargetNegotiationPolicy,
  sessionType: SessionType,
  options: NegotiateOptions = {},
): NegotiateResult {
  const w: Working = { values: new Map(state.values), seen: new Set(state.seen), declared: new Map(state.declared) };
  const leading = options.leading ?? true;
  const phase = options.phase ?? 'login';
  const answers: Array<string | null | undefined> = new Array<string | null | undefined>(offered.length);
  // Every failure here is a protocol error by the initiator (RFC 7143 6.1): status 0x0200.
  const fail = (code: string): NegotiateResult => ({ responses: [], state, error: LoginStatus.InitiatorError, errorCode: code });

  const order = offered.map((_, i) => i);
  const deferred = (i: number): boolean => {
    const def = KEYS_BY_NAME.get(offered[i]?.[0] ?? '');
    return def?.type === 'number' && def.notAbove !== undefined;
  };
  order.sort((a, b) => Number(deferred(a)) - Number(deferred(b)) || a - b);

  for (const i of order) {
    const pair = offered[i];
    if (pair === undefined) continue;
    const [key, value] = pair;
    // A malformed key name cannot be echoed back safely: a protocol error (RFC 7143 6.1).
    if (!KEY_NAME.test(key)) return fail('NEGOTIATION_BAD_KEY_NAME');
    const answer = answerKey(key, value, w, policy, sessionType, leading, phase);
    if (answer === REPEATED) return fail('NEGOTIATION_KEY_REPEATED');
    answers[i] = answer;
  }

  const responses: KeyValue[] = [];
  offered.forEach(([key], i) => {
    const a = answers[i];
    if (a !== null && a !== undefined) responses.push([key, a]);
  });

  const declare = (key: string, value: string): void => {
    if (w.declared.has(key)) return;
    w.declared.set(key, value);
    responses.push([key, value]);
  };
  const d = options.declare ?? {};
  if (d.targetPortalGroupTag !== undefined) declare('TargetPortalGroupTag', String(d.targetPortalGroupTag));
  if (d.targetAlias !== undefined) declare('TargetAlias', d.targetAlias);
  if (d.maxRecvDataSegmentLength === true) declare('MaxRecvDataSegmentLength', String(policy.maxRecvDataSegmentLength));

  return { responses, state: { values: w.values, seen: w.seen, declared: w.declared } };
}

function booleanValue(state: NegotiationState, key: string, fallback: boolean): boolean {
  const v = state.values.get(key);
  return v === undefined ? fallback : v === 'Yes';
}

/** The operational parameters in force after login (RFC defaults where nothing was said). */
export function negotiatedParams(state: NegotiationState): NegotiatedParams {
  const num = (key: string): number => currentNumber(state.values, key);
  const maxBurstLength = num('MaxBurstLength');
  const declaredMrdsl = state.declared.get('MaxRecvDataSegmentLength');
  return {
    headerDigest: state.values.get('HeaderDigest') === 'CRC32C',
    dataDigest: state.values.get('DataDigest') === 'CRC32C',
    maxRecvDataSegmentLengthInitiator: num('MaxRecvDataSegmentLength'),
    maxRecvDataSegmentLengthTarget: declaredMrdsl === undefined ? 8192 : (parseNumber(declaredMrdsl) ?? 8192),
    maxBurstLength,
    // RFC 7143 13.14: FirstBurstLength MUST NOT exceed MaxBurstLength, whatever order they came in.
    firstBurstLength: Math.min(num('FirstBurstLength'), maxBurstLength),
    initialR2T: booleanValue(state, 'InitialR2T', true),
    immediateData: booleanValue(state, 'ImmediateData', true),
    maxOutstandingR2T: num('MaxOutstandingR2T'),
    dataPduInOrder: booleanValue(state, 'DataPDUInOrder', true),
    dataSequenceInOrder: booleanValue(state, 'DataSequenceInOrder', true),
    errorRecoveryLevel: num('ErrorRecoveryLevel'),
    defaultTime2Wait: num('DefaultTime2Wait'),
    defaultTime2Retain: num('DefaultTime2Retain'),
    maxConnections: num('MaxConnections'),
  };
}
