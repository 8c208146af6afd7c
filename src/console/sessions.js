// @ts-check
// Live iSCSI sessions with throughput. The server reports byte counters only, so the rate is the
// counter difference between two polls over the time between them; the last minute of rates is
// drawn as a sparkline (SVG, so it stays sharp at any zoom and needs no drawing loop).
import { h, svg } from './dom.js';
import { formatBytes, formatRate } from './format.js';

/** @typedef {import('./api.js').Session} Session */

/** Samples kept per session: a minute at the console's poll interval (sessions.js callers). */
export const HISTORY = 60;

/**
 * @typedef {object} SessionHistory
 * @property {number} atMs when the counters were last seen
 * @property {number} bytesRead
 * @property {number} bytesWritten
 * @property {number[]} readRates bytes per second, oldest first
 * @property {number[]} writeRates
 */

/** One session across polls: the same connection of the same session. */
/** @param {Session} s */
export function sessionKey(s) {
  return `${s.peer}|${s.isid}|${s.tsih}|${s.cid}`;
}

/**
 * Folds one poll into the histories (pure: returns a new map; sessions gone are dropped).
 * @param {ReadonlyMap<string, SessionHistory>} before
 * @param {readonly Session[]} sessions
 * @param {number} nowMs
 * @returns {Map<string, SessionHistory>}
 */
export function addSample(before, sessions, nowMs) {
  /** @type {Map<string, SessionHistory>} */
  const after = new Map();
  for (const s of sessions) {
    const key = sessionKey(s);
    const old = before.get(key);
    if (old === undefined) {
      after.set(key, { atMs: nowMs, bytesRead: s.bytesRead, bytesWritten: s.bytesWritten, readRates: [], writeRates: [] });
      continue;
    }
    const seconds = Math.max(0.001, (nowMs - old.atMs) / 1000);
    // A counter that went backwards belongs to a reinstated session: count from zero again.
    const read = Math.max(0, s.bytesRead - old.bytesRead) / seconds;
    const written = Math.max(0, s.bytesWritten - old.bytesWritten) / seconds;
    after.set(key, {
      atMs: nowMs,
      bytesRead: s.bytesRead,
      bytesWritten: s.bytesWritten,
      readRates: [...old.readRates, read].slice(-HISTORY),
      writeRates: [...old.writeRates, written].slice(-HISTORY),
    });
  }
  return after;
}

/**
 * Two polylines (read, write) scaled to the larger peak, on a fixed 60-sample width.
 * @param {SessionHistory | undefined} history
 */
function sparkline(history) {
  const width = 120;
  const height = 28;
  const read = history?.readRates ?? [];
  const write = history?.writeRates ?? [];
  const peak = Math.max(1, ...read, ...write);
  const points = (/** @type {number[]} */ rates) =>
    rates.map((r, i) => `${((HISTORY - rates.length + i) / (HISTORY - 1)) * width},${height - 1 - (r / peak) * (height - 2)}`).join(' ');
  return svg(
    'svg',
    { class: 'sparkline', viewBox: `0 0 ${width} ${height}`, width, height, 'data-testid': 'session-sparkline', role: 'img', 'aria-label': `peak ${formatRate(peak)}` },
    svg('title', {}, `last minute, peak ${formatRate(peak)}`),
    svg('polyline', { class: 'spark-read', points: points(read) }),
    svg('polyline', { class: 'spark-write', points: points(write) }),
  );
}

/**
 * @param {readonly number[] | undefined} rates
 * @returns {string}
 */
function latest(rates) {
  const r = rates?.[rates.length - 1];
  return r === undefined ? '—' : formatRate(r);
}

/**
 * @param {HTMLTableSectionElement} tbody
 * @param {readonly Session[]} sessions
 * @param {ReadonlyMap<string, SessionHistory>} histories
 */
export function renderSessions(tbody, sessions, histories) {
  if (sessions.length === 0) {
    tbody.replaceChildren(h('tr', {}, h('td', { colspan: 7, class: 'empty', 'data-testid': 'sessions-empty' }, 'No iSCSI sessions right now.')));
    return;
  }
  tbody.replaceChildren(
    ...sessions.map((s) => {
      const history = histories.get(sessionKey(s));
      return h(
        'tr',
        { 'data-testid': 'session-row' },
        h('td', { title: s.initiator }, s.initiator),
        h('td', { title: s.target ?? '' }, s.target ?? (s.type === 'Discovery' ? 'discovery' : '—')),
        h('td', {}, h('code', {}, s.peer)),
        h('td', {}, s.state === 'active' ? 'logged in' : 'logging in'),
        h('td', { class: 'num' }, h('span', { class: 'read' }, latest(history?.readRates)), h('br'), h('span', { class: 'write' }, latest(history?.writeRates))),
        h('td', { class: 'num' }, formatBytes(s.bytesRead), h('br'), formatBytes(s.bytesWritten)),
        h('td', {}, sparkline(history)),
      );
    }),
  );
}
