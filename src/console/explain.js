// @ts-check
// Links from a failed boot's events to their explanation: a button per code (an iPXE error the
// machine shows, or a warning the server raised), and the explanation itself, fetched from
// GET /api/explain/:code and shown as text under the timeline. Buttons with listeners, no
// inline script and no innerHTML: the console's CSP stays strict.
import { h } from './dom.js';

/** @typedef {import('./api.js').Explanation} Explanation */

/**
 * @typedef {{ code: string, explanation: Explanation } | { code: string, error: string } | { code: string, loading: true }} ShownExplanation
 */

/**
 * One small button per code.
 * @param {readonly string[]} codes
 * @param {(code: string) => void} onExplain
 */
export function explainButtons(codes, onExplain) {
  return codes.map((code) =>
    h('button', { type: 'button', class: 'link explain', 'data-testid': `explain-${code}`, title: `what ${code} means`, onclick: () => onExplain(code) }, `explain ${code}`),
  );
}

/**
 * The explanation panel, or nothing.
 * @param {ShownExplanation | null} shown
 * @param {() => void} onClose
 */
export function renderExplanation(shown, onClose) {
  if (shown === null) return null;
  const body =
    'explanation' in shown
      ? [h('h4', {}, `${shown.explanation.code}: ${shown.explanation.title}`), h('pre', { 'data-testid': 'explanation-text' }, shown.explanation.text)]
      : 'error' in shown
        ? [h('p', { class: 'message message-error' }, `${shown.code}: ${shown.error}`)]
        : [h('p', { class: 'muted' }, `${shown.code}: loading…`)];
  return h(
    'section',
    { class: 'explanation', 'data-testid': 'timeline-explanation', 'data-code': shown.code, 'aria-live': 'polite' },
    ...body,
    h('button', { type: 'button', class: 'link', 'data-testid': 'explanation-close', onclick: onClose }, 'close'),
  );
}
