// @ts-check
// The boot timeline of one machine drawn as a picture: the steps of a boot left to right
// (DHCP → TFTP → script → iSCSI login → first read → logout), each with its time after the
// first event, coloured by outcome, failures written out; the warnings the server raised, with
// links to their explanations; under it a time axis with one tick per event, and the raw
// events. Above it, the machine's packet capture. Stable data-testid attributes are for
// test/interop/console.test.ts.
import { renderCaptureBar } from './capture.js';
import { h, svg } from './dom.js';
import { explainButtons, renderExplanation } from './explain.js';
import { formatClock, formatOffset } from './format.js';
import { describeSteps, explainCodes, failureText, isOk, splitAttempts, warningsOf } from './timeline-model.js';

/** @typedef {import('./api.js').BootEvent} BootEvent */
/** @typedef {import('./timeline-model.js').Step} Step */
/** @typedef {import('./timeline-model.js').Attempt} Attempt */
/** @typedef {import('./explain.js').ShownExplanation} ShownExplanation */
/** @typedef {import('./api.js').CaptureStatus} CaptureStatus */

/** @type {Readonly<Record<import('./timeline-model.js').StepState, string>>} */
const STATE_MARK = { ok: '✓', fail: '✕', active: '…', pending: '·', skipped: '–', unreached: '·' };

/** @param {Step} step */
function renderStep(step) {
  return h(
    'li',
    { class: `step state-${step.state}`, 'data-testid': `timeline-step-${step.id}`, 'data-state': step.state },
    h('span', { class: 'step-mark', 'aria-hidden': 'true' }, STATE_MARK[step.state]),
    h('span', { class: 'step-label' }, step.label),
    h('span', { class: 'step-time', 'data-testid': `timeline-time-${step.id}` }, step.offsetMs === null ? '' : formatOffset(step.offsetMs)),
    h('span', { class: 'step-summary', title: step.summary }, step.summary),
    step.failure !== null && h('span', { class: 'step-failure', 'data-testid': `timeline-failure-${step.id}` }, step.failure),
  );
}

/**
 * One tick per event along the attempt's duration; failures in the failure colour.
 * @param {Attempt} attempt
 */
function renderAxis(attempt) {
  const spanMs = Math.max(1, attempt.endMs - attempt.startMs);
  const ticks = attempt.events.map((e) => {
    const x = ((e.at - attempt.startMs) / spanMs) * 1000;
    return svg('line', { x1: x, x2: x, y1: 2, y2: 18, class: isOk(e) ? 'tick' : 'tick tick-fail' }, svg('title', {}, `${formatOffset(e.at - attempt.startMs)} ${e.kind} ${e.outcome}`));
  });
  return h(
    'div',
    { class: 'axis' },
    svg('svg', { viewBox: '0 0 1000 20', preserveAspectRatio: 'none', role: 'img', 'aria-label': 'events over time' }, svg('line', { x1: 0, x2: 1000, y1: 10, y2: 10, class: 'axis-line' }), ...ticks),
    h('span', { class: 'axis-end' }, formatOffset(spanMs)),
  );
}

/** @param {BootEvent['detail']} detail */
function detailText(detail) {
  return Object.entries(detail)
    .filter(([, v]) => v !== null && v !== '' && v !== false)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(1) : String(v)}`)
    .join(' ');
}

/**
 * The warnings the server raised during this boot, each with its fix and explanation links.
 * @param {Attempt} attempt
 * @param {(code: string) => void} onExplain
 */
function renderWarnings(attempt, onExplain) {
  const warnings = warningsOf(attempt);
  if (warnings.length === 0) return null;
  return h(
    'ul',
    { class: 'warnings', 'data-testid': 'timeline-warnings' },
    warnings.map((w) => {
      const fix = typeof w.detail.fix === 'string' ? w.detail.fix : null;
      return h(
        'li',
        { class: 'warning', 'data-testid': `timeline-warning-${String(w.detail.code)}` },
        h('span', { class: 'warning-mark', 'aria-hidden': 'true' }, '⚠'),
        h('span', { class: 'warning-text' }, w.outcome),
        fix !== null && h('span', { class: 'warning-fix' }, `Fix: ${fix}`),
        h('span', { class: 'warning-links' }, explainButtons(explainCodes(w), onExplain)),
      );
    }),
  );
}

/**
 * @param {Attempt} attempt
 * @param {boolean} open keep the list open across redraws once the reader opened it
 * @param {(code: string) => void} onExplain
 */
function renderEvents(attempt, open, onExplain) {
  return h(
    'details',
    { class: 'events', open },
    h('summary', {}, `${attempt.events.length} events`),
    h(
      'table',
      { 'data-testid': 'timeline-events' },
      h('thead', {}, h('tr', {}, h('th', {}, 'time'), h('th', {}, 'step'), h('th', {}, 'address'), h('th', {}, 'outcome'), h('th', {}, 'detail'), h('th', {}, ''))),
      h(
        'tbody',
        {},
        attempt.events.map((e) =>
          h(
            'tr',
            { class: isOk(e) ? '' : 'row-fail' },
            h('td', { class: 'num' }, formatOffset(e.at - attempt.startMs)),
            h('td', {}, e.kind),
            h('td', {}, e.ip ?? ''),
            h('td', {}, isOk(e) ? e.outcome : failureText(e)),
            h('td', { class: 'detail' }, detailText(e.detail)),
            h('td', {}, explainButtons(explainCodes(e), onExplain)),
          ),
        ),
      ),
    ),
  );
}

/**
 * Draws a machine's timeline into `container`, replacing what was there.
 * @param {HTMLElement} container
 * @param {{ mac: string, name: string | null, events: readonly BootEvent[], attempt: number | null,
 *   onPickAttempt: (index: number | null) => void,
 *   explanation: ShownExplanation | null, onExplain: (code: string) => void, onCloseExplanation: () => void,
 *   capture: { status: CaptureStatus | null, message: string | null, onStart: () => void, onStop: () => void, onDownload: () => void } }} view
 *   `attempt` null: the latest
 */
export function renderTimeline(container, view) {
  const attempts = splitAttempts(view.events);
  const title = h('h3', {}, view.name ?? 'unregistered machine', ' ', h('code', {}, view.mac));
  const capture = renderCaptureBar(view.capture);
  const explanation = renderExplanation(view.explanation, view.onCloseExplanation);
  if (attempts.length === 0) {
    container.replaceChildren(title, capture, h('p', { class: 'empty', 'data-testid': 'timeline-empty' }, 'No boot seen yet. Events appear here live as the machine boots.'));
    return;
  }
  const index = view.attempt !== null && view.attempt < attempts.length ? view.attempt : attempts.length - 1;
  const attempt = /** @type {Attempt} */ (attempts[index]);
  const picker =
    attempts.length > 1 &&
    h(
      'select',
      { 'aria-label': 'boot attempt', 'data-testid': 'timeline-attempt', onchange: (e) => view.onPickAttempt(pickedIndex(e, attempts.length)) },
      attempts.map((a, i) => h('option', { value: i, selected: i === index }, `${i === attempts.length - 1 ? 'latest: ' : ''}boot at ${formatClock(a.startMs)}`)),
    );
  const eventsOpen = container.querySelector('details.events')?.hasAttribute('open') ?? false;
  container.replaceChildren(
    ...[
      h('div', { class: 'timeline-head' }, title, h('span', { class: 'muted' }, `started ${formatClock(attempt.startMs)}`), picker),
      capture,
      h('ol', { class: 'steps', 'data-testid': 'timeline', 'data-mac': view.mac }, describeSteps(attempt).map(renderStep)),
      renderWarnings(attempt, view.onExplain),
      explanation,
      renderAxis(attempt),
      renderEvents(attempt, eventsOpen, view.onExplain),
    ].filter((node) => node !== null),
  );
}

/**
 * The picked attempt; the last one means "follow the latest" (null), so new boots show up.
 * @param {Event} event
 * @param {number} count
 * @returns {number | null}
 */
function pickedIndex(event, count) {
  const value = event.target instanceof HTMLSelectElement ? Number(event.target.value) : count - 1;
  return value >= count - 1 ? null : value;
}
