// @ts-check
/* global requestAnimationFrame, document, history, console, performance, setTimeout, location, URL -- browser globals: eslint.config.js has no browser environment (tsc -p src/console checks these names) */
// The console's entry point: holds the state, loads it from the API of the same origin, keeps it
// live (boot events over Server-Sent Events; sessions, machines and disks by polling) and redraws
// the views. Every view is a function of this state; nothing else keeps data.
import { ApiError, deleteJson, getFile, getJson, loadToken, postJson } from './api.js';
import { CONSOLE_CAPTURE_SECONDS } from './capture.js';
import { AddMachineForm } from './add-machine.js';
import { byId } from './dom.js';
import { renderDisks } from './disks.js';
import { renderMachines } from './machines.js';
import { addSample, renderSessions } from './sessions.js';
import { renderTimeline } from './timeline.js';

/** @typedef {import('./api.js').BootEvent} BootEvent */
/** @typedef {import('./api.js').Machine} Machine */
/** @typedef {import('./api.js').Disk} Disk */
/** @typedef {import('./api.js').Session} Session */
/** @typedef {import('./api.js').Explanation} Explanation */
/** @typedef {import('./api.js').CaptureStatus} CaptureStatus */
/** @typedef {import('./explain.js').ShownExplanation} ShownExplanation */

const SESSIONS_POLL_MS = 1000;
const MACHINES_POLL_MS = 5000;
const DISKS_POLL_MS = 10_000;
const CAPTURES_POLL_MS = 2000;
/** Per machine, as many as the server keeps (src/events/boot-events.ts) and a little more. */
const EVENTS_PER_MACHINE = 500;

const state = {
  /** @type {Machine[]} */
  machines: [],
  /** Oldest first, per MAC; events not tied to a machine are left out. @type {Map<string, BootEvent[]>} */
  eventsByMac: new Map(),
  /** Events already held, so the stream and a reload can overlap. @type {Set<string>} */
  seen: new Set(),
  /** @type {string | null} */
  selected: null,
  /** The boot attempt picked in the timeline; null follows the latest. @type {number | null} */
  attempt: null,
  /** @type {Session[]} */
  sessions: [],
  /** @type {Map<string, import('./sessions.js').SessionHistory>} */
  histories: new Map(),
  /** The explanation open under the timeline (GET /api/explain/:code). @type {ShownExplanation | null} */
  explanation: null,
  /** Packet captures by MAC (GET /api/captures). @type {Map<string, CaptureStatus>} */
  captures: new Map(),
  /** What went wrong with the last capture action, in words. @type {string | null} */
  captureMessage: null,
};

const view = {
  machines: byId('machines-body', HTMLTableSectionElement),
  timeline: byId('timeline-panel', HTMLElement),
  sessions: byId('sessions-body', HTMLTableSectionElement),
  disks: byId('disks-body', HTMLTableSectionElement),
  live: byId('live', HTMLElement),
};

const form = new AddMachineForm((machine) => {
  select(machine.mac);
  void loadMachines();
  void loadDisks(); // a machine added with a disk now uses it
});

/** @param {BootEvent} e @returns {string} */
function eventKey(e) {
  return `${e.at}|${e.mac}|${e.kind}|${e.ip ?? ''}|${e.outcome}|${JSON.stringify(e.detail)}`;
}

/** @param {readonly BootEvent[]} events */
function addEvents(events) {
  let changed = false;
  for (const event of events) {
    if (event.mac === null) continue;
    const key = eventKey(event);
    if (state.seen.has(key)) continue;
    state.seen.add(key);
    const list = state.eventsByMac.get(event.mac) ?? [];
    list.push(event);
    // Usually already last; the sort only matters when a reload fills a gap behind the stream.
    if (list.length > 1 && (list[list.length - 2]?.at ?? 0) > event.at) list.sort((a, b) => a.at - b.at);
    if (list.length > EVENTS_PER_MACHINE) {
      for (const old of list.splice(0, list.length - EVENTS_PER_MACHINE)) state.seen.delete(eventKey(old));
    }
    state.eventsByMac.set(event.mac, list);
    changed = true;
  }
  if (changed) scheduleRender();
}

let renderQueued = false;
/** Coalesces bursts (a boot sends a dozen events in a second) into one redraw per frame. */
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    drawMachines();
    drawTimeline();
  });
}

function drawMachines() {
  /** @type {Map<string, BootEvent>} */
  const latestByMac = new Map();
  for (const [mac, events] of state.eventsByMac) {
    const last = events[events.length - 1];
    if (last !== undefined) latestByMac.set(mac, last);
  }
  // Redrawing replaces the rows; keep keyboard focus on the same machine.
  const row = document.activeElement?.closest('tr');
  const focused = row !== null && row !== undefined && view.machines.contains(row) ? row.dataset.testid : undefined;
  renderMachines(view.machines, {
    machines: state.machines,
    latestByMac,
    selected: state.selected,
    nowMs: Date.now(),
    onSelect: select,
    onRegister: (mac) => form.prefill(mac),
  });
  if (focused !== undefined) view.machines.querySelector(`tr[data-testid="${CSS.escape(focused)}"]`)?.closest('tr')?.focus();
}

/** What the timeline was last drawn from: redrawing an unchanged one would close an open select. */
let drawnTimeline = '';

function drawTimeline() {
  const mac = state.selected;
  if (mac === null) return;
  const machine = state.machines.find((m) => m.mac === mac);
  const events = state.eventsByMac.get(mac) ?? [];
  const capture = state.captures.get(mac) ?? null;
  const shown = state.explanation;
  const drawn = [
    mac,
    machine?.name ?? '',
    state.attempt,
    events.length,
    events[events.length - 1]?.at ?? 0,
    shown === null ? '' : `${shown.code}:${'loading' in shown ? 'loading' : 'error' in shown ? 'error' : 'text'}`,
    capture === null ? '' : `${capture.state}:${capture.packets}:${capture.notes.length}`,
    state.captureMessage ?? '',
  ].join('|');
  if (drawn === drawnTimeline) return;
  drawnTimeline = drawn;
  renderTimeline(view.timeline, {
    mac,
    name: machine?.name ?? null,
    events,
    attempt: state.attempt,
    onPickAttempt: (index) => {
      state.attempt = index;
      drawTimeline();
    },
    explanation: state.explanation,
    onExplain: (code) => void explain(code),
    onCloseExplanation: () => {
      state.explanation = null;
      drawTimeline();
    },
    capture: {
      status: capture,
      message: state.captureMessage,
      onStart: () => void captureAction(mac, 'start'),
      onStop: () => void captureAction(mac, 'stop'),
      onDownload: () => void downloadCapture(mac),
    },
  });
}

/** @param {string} code */
async function explain(code) {
  state.explanation = { code, loading: true };
  drawTimeline();
  try {
    state.explanation = { code, explanation: await getJson(`/api/explain/${encodeURIComponent(code)}`) };
  } catch (err) {
    state.explanation = { code, error: err instanceof Error ? err.message : String(err) };
  }
  drawTimeline();
}

/** The saved API token, or null after saying where to enter it. */
function captureToken() {
  const token = loadToken();
  if (token !== '') return token;
  state.captureMessage = 'captures need the API token: enter it under "Add a machine"';
  drawTimeline();
  return null;
}

/**
 * @param {string} mac
 * @param {'start' | 'stop'} action
 */
async function captureAction(mac, action) {
  const token = captureToken();
  if (token === null) return;
  const path = `/api/machines/${encodeURIComponent(mac)}/capture`;
  try {
    /** @type {CaptureStatus} */
    const status = action === 'start' ? await postJson(path, { seconds: CONSOLE_CAPTURE_SECONDS }, token) : await deleteJson(path, token);
    state.captures.set(mac, status);
    state.captureMessage = null;
  } catch (err) {
    state.captureMessage = err instanceof Error ? err.message : String(err);
  }
  drawTimeline();
}

/** @param {string} mac */
async function downloadCapture(mac) {
  const token = captureToken();
  if (token === null) return;
  try {
    const { blob, filename } = await getFile(`/api/machines/${encodeURIComponent(mac)}/capture`, token);
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = filename ?? `diskless-${mac.replace(/:/g, '')}.pcap`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    state.captureMessage = null;
  } catch (err) {
    state.captureMessage = err instanceof Error ? err.message : String(err);
  }
  drawTimeline();
}

async function pollCaptures() {
  try {
    const captures = /** @type {CaptureStatus[]} */ (await getJson('/api/captures'));
    state.captures = new Map(captures.map((c) => [c.mac, c]));
  } catch (err) {
    // 404: a server without captures: nothing to show.
    if (!(err instanceof ApiError && err.status === 404)) console.warn('captures', err);
  }
  drawTimeline();
}

/** @param {string} mac */
function select(mac) {
  state.selected = mac;
  state.attempt = null;
  state.explanation = null;
  state.captureMessage = null;
  history.replaceState(null, '', `#mac=${mac}`);
  scheduleRender();
  getJson(`/api/events?mac=${encodeURIComponent(mac)}`).then(
    (events) => addEvents(/** @type {BootEvent[]} */ (events)),
    (err) => console.warn('boot events of', mac, err),
  );
}

async function loadMachines() {
  try {
    state.machines = await getJson('/api/machines');
  } catch (err) {
    console.warn('machines', err);
  }
  scheduleRender();
}

async function loadDisks() {
  /** @type {Disk[] | null} */
  let disks;
  try {
    disks = await getJson('/api/disks');
  } catch (err) {
    // 404: this server has no disk API (yet): an empty state, not an error.
    if (!(err instanceof ApiError && err.status === 404)) console.warn('disks', err);
    disks = null;
  }
  renderDisks(view.disks, disks);
  form.setDisks(disks);
}

async function pollSessions() {
  try {
    const sessions = /** @type {Session[]} */ (await getJson('/api/sessions'));
    state.histories = addSample(state.histories, sessions, performance.now());
    state.sessions = sessions;
  } catch (err) {
    console.warn('sessions', err);
  }
  renderSessions(view.sessions, state.sessions, state.histories);
}

/**
 * Live boot events. EventSource reconnects by itself; each (re)connection reloads the list,
 * so events sent while the stream was down are not lost (duplicates are dropped).
 */
function followEvents() {
  const stream = new EventSource('/api/events/stream');
  const setLive = (/** @type {'live' | 'connecting'} */ s) => {
    view.live.textContent = s === 'live' ? 'live' : 'reconnecting…';
    view.live.className = `live live-${s}`;
    view.live.dataset.state = s;
  };
  setLive('connecting');
  stream.addEventListener('open', () => {
    setLive('live');
    getJson('/api/events').then(
      (events) => addEvents(/** @type {BootEvent[]} */ (events)),
      (err) => console.warn('boot events', err),
    );
  });
  stream.addEventListener('error', () => setLive('connecting'));
  stream.addEventListener('boot', (e) => {
    if (e instanceof MessageEvent && typeof e.data === 'string') addEvents([/** @type {BootEvent} */ (JSON.parse(e.data))]);
  });
}

/**
 * @param {() => Promise<void>} task
 * @param {number} everyMs
 */
function every(task, everyMs) {
  // Chained rather than setInterval, so a slow server never has two polls in flight.
  const loop = () => void task().finally(() => setTimeout(loop, everyMs));
  loop();
}

const fromHash = /^#mac=([0-9a-f:]{17})$/.exec(location.hash);
if (fromHash?.[1] !== undefined) select(fromHash[1]);
followEvents();
every(loadMachines, MACHINES_POLL_MS);
every(loadDisks, DISKS_POLL_MS);
every(pollSessions, SESSIONS_POLL_MS);
every(pollCaptures, CAPTURES_POLL_MS);
