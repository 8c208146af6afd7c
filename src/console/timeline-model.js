// @ts-check
// What a machine's boot events mean, as data: which step of the boot each event belongs to,
// where one boot attempt ends and the next begins, each step's state and the words for it.
// Pure (no DOM), so src/console/timeline-model.test.ts runs it under Node.

/** @typedef {import('./api.js').BootEvent} BootEvent */
/** @typedef {import('./api.js').BootEventKind} BootEventKind */
/** @typedef {'dhcp' | 'tftp' | 'script' | 'login' | 'read' | 'logout'} StepId */
/**
 * ok: done; fail: went wrong (see `failure`); active: under way; pending: not yet;
 * skipped: not needed in this boot; unreached: an earlier step failed.
 * @typedef {'ok' | 'fail' | 'active' | 'pending' | 'skipped' | 'unreached'} StepState
 */

/**
 * @typedef {object} Step
 * @property {StepId} id
 * @property {string} label
 * @property {StepState} state
 * @property {number | null} offsetMs first event of the step after the attempt's first event
 * @property {string} summary one short line: address, file, target...
 * @property {string | null} failure what went wrong, in words
 */

/**
 * @typedef {object} Attempt
 * @property {number} startMs
 * @property {number} endMs
 * @property {BootEvent[]} events oldest first
 */

/** The boot, in order: each step and the event kinds that make it up. */
export const STEPS = /** @type {const} */ ([
  { id: 'dhcp', label: 'DHCP', kinds: ['dhcp-discover', 'dhcp-offer', 'dhcp-request', 'dhcp-ack', 'dhcp-nak', 'dhcp-other', 'disk-reset'] },
  { id: 'tftp', label: 'TFTP', kinds: ['tftp'] },
  { id: 'script', label: 'Boot script', kinds: ['script'] },
  { id: 'login', label: 'iSCSI login', kinds: ['iscsi-login', 'iscsi-login-failed'] },
  { id: 'read', label: 'First read (LBA 0)', kinds: ['iscsi-first-read'] },
  { id: 'logout', label: 'Logout', kinds: ['iscsi-logout'] },
]);

/** @type {ReadonlyMap<BootEventKind, StepId>} */
const STEP_OF_KIND = new Map(STEPS.flatMap((s) => s.kinds.map((k) => /** @type {[BootEventKind, StepId]} */ ([k, s.id]))));

/** @param {BootEventKind} kind @returns {StepId} */
export function stepOf(kind) {
  return STEP_OF_KIND.get(kind) ?? 'dhcp';
}

/**
 * Close reasons (src/iscsi/connection.ts) that end a session normally: a Logout request, or
 * the machine dropping the connection (an OS taking over, a power-off). Anything else (a
 * socket error, an unanswered NOP-In, a protocol error) is a failure worth reading.
 */
const NORMAL_CLOSE = new Set(['ok', 'logout', 'peer closed the connection']);

/** Script outcomes (src/http/server.ts) in words; 'served' is the good one. */
const SCRIPT_FAILURES = /** @type {Readonly<Record<string, string>>} */ ({
  'not-registered': 'not registered: add this MAC as a machine',
  ignored: 'ignored: unknown machines get no boot answer',
  refused: 'refused: the script carries a CHAP secret and went only to the address leased to this machine',
});

/** @param {BootEvent} event @returns {boolean} whether this step went as it should */
export function isOk(event) {
  if (event.kind === 'warning') return false;
  if (event.kind === 'script') return event.outcome === 'served';
  if (event.kind === 'iscsi-logout') return NORMAL_CLOSE.has(event.outcome);
  if (event.kind === 'iscsi-login-failed') return false;
  return event.outcome === 'ok';
}

/** @param {BootEvent} event @returns {string} what went wrong, in words */
export function failureText(event) {
  switch (event.kind) {
    case 'script':
      return SCRIPT_FAILURES[event.outcome] ?? `script: ${event.outcome}`;
    case 'iscsi-login-failed':
      return `login failed: ${event.outcome}`;
    case 'iscsi-logout':
      return `connection lost: ${event.outcome}`;
    case 'dhcp-nak':
      return `DHCP refused (NAK): ${event.outcome}`;
    case 'tftp':
      return `TFTP ${str(event.detail.path) ?? ''} failed: ${event.outcome}`.replace('  ', ' ');
    case 'dhcp-discover':
    case 'dhcp-offer':
    case 'dhcp-request':
    case 'dhcp-ack':
    case 'dhcp-other':
      return `DHCP: ${event.outcome}`;
    case 'iscsi-login':
    case 'iscsi-first-read':
    case 'disk-reset':
    case 'warning':
      return event.outcome;
  }
}

/**
 * Codes this event can be explained by (GET /api/explain/:code): a warning's code and the iPXE
 * error the machine shows for it.
 * @param {BootEvent} event
 * @returns {string[]}
 */
export function explainCodes(event) {
  const codes = [event.kind === 'warning' ? str(event.detail.code) : null, str(event.detail.ipxeError)];
  return codes.filter((c) => c !== null);
}

/**
 * The warnings the server raised during an attempt (src/doctor/live-warnings.ts), latest of
 * each code only, oldest first.
 * @param {Attempt} attempt
 * @returns {BootEvent[]}
 */
export function warningsOf(attempt) {
  /** @type {Map<string, BootEvent>} */
  const latest = new Map();
  for (const event of attempt.events) if (event.kind === 'warning') latest.set(str(event.detail.code) ?? event.outcome, event);
  return [...latest.values()].sort((a, b) => a.at - b.at);
}

/** @param {unknown} v @returns {string | null} */
function str(v) {
  return typeof v === 'string' && v !== '' ? v : null;
}

/** Idle time after which a new DHCP round counts as a new boot even before a script was fetched. */
export const NEW_ATTEMPT_GAP_MS = 5 * 60_000;

/**
 * Splits a machine's events into boot attempts. A DHCPDISCOVER starts a new attempt once the
 * current one has fetched its script or reached iSCSI, so a chainload (ROM DHCP → TFTP → iPXE
 * DHCP → script) stays one attempt while a reboot starts another; so does a long silence.
 * A logout goes to the attempt whose login it ends: a machine reset without logging out leaves
 * its session open until the NOP-In timeout, which ends it (tens of seconds) into the next boot.
 * @param {readonly BootEvent[]} events
 * @returns {Attempt[]} oldest first
 */
export function splitAttempts(events) {
  const sorted = [...events].sort((a, b) => a.at - b.at);
  /** @type {Attempt[]} */
  const attempts = [];
  /** Sessions logged in and not yet out, per attempt (same index). @type {number[]} */
  const open = [];
  /** @type {Attempt | null} */
  let current = null;
  let pastDhcp = false;
  for (const event of sorted) {
    if (event.kind === 'iscsi-logout') {
      // Only the running boot can log out or close cleanly; a timeout or a reset ends the
      // oldest session still open, the one whose machine has since rebooted.
      const owners = open.flatMap((n, i) => (n > 0 ? [i] : []));
      const owner = NORMAL_CLOSE.has(event.outcome) ? owners[owners.length - 1] : owners[0];
      const attempt = owner === undefined || owner === attempts.length - 1 ? undefined : attempts[owner];
      if (owner !== undefined && attempt !== undefined) {
        attempt.events.push(event);
        open[owner] = (open[owner] ?? 1) - 1;
        continue;
      }
    }
    const rebooted = event.kind === 'dhcp-discover' && pastDhcp;
    if (current === null || rebooted || event.at - current.endMs > NEW_ATTEMPT_GAP_MS) {
      current = { startMs: event.at, endMs: event.at, events: [] };
      attempts.push(current);
      open.push(0);
      pastDhcp = false;
    }
    current.events.push(event);
    current.endMs = event.at;
    const last = open.length - 1;
    if (event.kind === 'iscsi-login') open[last] = (open[last] ?? 0) + 1;
    if (event.kind === 'iscsi-logout') open[last] = (open[last] ?? 0) - 1;
    if (event.kind === 'script' || event.kind.startsWith('iscsi-')) pastDhcp = true;
  }
  return attempts;
}

/** Where an unfinished DHCP exchange stands. @type {Readonly<Record<string, string>>} */
const DHCP_WORDS = { 'dhcp-discover': 'asked', 'dhcp-offer': 'offered', 'dhcp-request': 'requested', 'dhcp-nak': 'refused', 'dhcp-other': 'other', 'disk-reset': 'disk back to its image' };

/**
 * @param {BootEvent} e
 * @returns {string}
 */
function dhcpSummary(e) {
  const parts = [e.ip, str(e.detail.firmware) ?? str(e.detail.userClass)];
  return parts.filter((p) => p !== null).join(' · ');
}

/**
 * The steps of one attempt, in boot order, for the picture.
 * @param {Attempt} attempt
 * @returns {Step[]}
 */
export function describeSteps(attempt) {
  /** @type {Map<StepId, BootEvent[]>} */
  const byStep = new Map();
  for (const event of attempt.events) {
    if (event.kind === 'warning') continue; // listed beside the steps (warningsOf), not a step
    const id = stepOf(event.kind);
    byStep.set(id, [...(byStep.get(id) ?? []), event]);
  }
  const reachedLater = (/** @type {number} */ index) => STEPS.slice(index + 1).some((s) => byStep.has(s.id));
  /** @type {Step[]} */
  const steps = [];
  let failedBefore = false;
  STEPS.forEach((def, index) => {
    const events = byStep.get(def.id) ?? [];
    const first = events[0];
    const last = events[events.length - 1];
    /** @type {Step} */
    const step = { id: def.id, label: def.label, state: 'pending', offsetMs: null, summary: 'waiting', failure: null };
    if (first === undefined || last === undefined) {
      if (failedBefore) Object.assign(step, { state: 'unreached', summary: 'not reached' });
      else if (reachedLater(index)) {
        const why = def.id === 'tftp' ? 'not needed: the firmware runs iPXE itself' : 'not seen';
        Object.assign(step, { state: 'skipped', summary: why });
      } else if (def.id === 'logout' && byStep.has('login')) Object.assign(step, { state: 'active', summary: 'session open' });
      steps.push(step);
      return;
    }
    step.offsetMs = first.at - attempt.startMs;
    describeStep(step, events, last);
    if (step.state === 'fail') failedBefore = true;
    steps.push(step);
  });
  return steps;
}

/**
 * Fills a step that has events: its state from the last one, its summary from the useful ones.
 * @param {Step} step
 * @param {BootEvent[]} events
 * @param {BootEvent} last
 */
function describeStep(step, events, last) {
  if (!isOk(last)) {
    step.state = 'fail';
    step.failure = failureText(last);
  } else {
    step.state = 'ok';
  }
  switch (step.id) {
    case 'dhcp': {
      const acks = events.filter((e) => e.kind === 'dhcp-ack');
      const lastAck = acks[acks.length - 1];
      // Until the exchange ends in an ACK the machine is still asking (or waiting for us).
      if (step.state === 'ok' && last.kind !== 'dhcp-ack') step.state = 'active';
      const rounds = acks.length > 1 ? ` · ${acks.length} rounds` : '';
      step.summary = lastAck !== undefined ? `${dhcpSummary(lastAck)}${rounds}` : [DHCP_WORDS[last.kind] ?? last.kind, dhcpSummary(last)].filter((p) => p !== '').join(' · ');
      break;
    }
    case 'tftp': {
      const transfers = events.filter((e) => e.detail.probe !== true);
      const shown = transfers[transfers.length - 1] ?? last;
      const bytes = typeof shown.detail.bytes === 'number' ? shown.detail.bytes : null;
      const ms = typeof shown.detail.ms === 'number' ? Math.round(shown.detail.ms) : null;
      step.summary = [str(shown.detail.path), bytes !== null ? `${bytes} bytes` : null, ms !== null ? `${ms} ms` : null].filter((p) => p !== null).join(' · ');
      break;
    }
    case 'script':
      step.summary = last.outcome === 'served' ? 'served' : ''; // the failure line says it
      break;
    case 'login': {
      const target = str(last.detail.target);
      step.summary = target ?? str(last.detail.initiator) ?? '';
      if (events.length > 1) step.summary += ` · ${events.length} logins`;
      break;
    }
    case 'read':
      step.summary = 'the boot sector was read';
      break;
    case 'logout':
      step.summary = last.outcome === 'peer closed the connection' ? 'the machine closed the connection' : last.outcome === 'logout' ? 'logged out' : last.outcome;
      break;
  }
}

/**
 * A machine's live state from its latest event: "DHCP offered", "reading disk"...
 * @param {BootEvent} event
 * @returns {{ text: string, tone: 'ok' | 'fail' | 'active' | 'idle' | 'warn' }}
 */
export function liveState(event) {
  if (event.kind === 'warning') return { text: `warning: ${event.outcome}`, tone: 'warn' };
  if (!isOk(event)) return { text: failureText(event), tone: 'fail' };
  switch (event.kind) {
    case 'dhcp-discover':
      return { text: 'DHCP discover', tone: 'active' };
    case 'dhcp-offer':
      return { text: 'DHCP offered', tone: 'active' };
    case 'dhcp-request':
      return { text: 'DHCP requested', tone: 'active' };
    case 'dhcp-ack':
      return { text: `DHCP acknowledged${event.ip !== null ? ` (${event.ip})` : ''}`, tone: 'active' };
    case 'dhcp-nak':
    case 'dhcp-other':
      return { text: 'DHCP', tone: 'active' };
    case 'tftp':
      return { text: `TFTP sent ${str(event.detail.path) ?? 'a file'}`, tone: 'active' };
    case 'script':
      return { text: 'script fetched', tone: 'active' };
    case 'iscsi-login':
      return { text: 'iSCSI logged in', tone: 'active' };
    case 'iscsi-login-failed':
      return { text: failureText(event), tone: 'fail' };
    case 'iscsi-first-read':
      return { text: 'reading disk', tone: 'ok' };
    case 'iscsi-logout':
      return { text: 'logged out', tone: 'idle' };
    case 'disk-reset':
      return { text: 'disk back to its image', tone: 'active' };
  }
}
