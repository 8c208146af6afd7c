// @ts-check
// The machines table: one row per registered machine with its live state (from its latest boot
// event), plus rows for MACs that tried to boot but are not registered, with a button that puts
// the MAC into the add form.
import { h } from './dom.js';
import { formatAgo } from './format.js';
import { liveState } from './timeline-model.js';

/** @typedef {import('./api.js').Machine} Machine */
/** @typedef {import('./api.js').BootEvent} BootEvent */

/**
 * @param {Machine} m
 * @returns {string}
 */
function bootText(m) {
  const disks = m.boot.disks ?? [];
  if (disks.length === 0) return m.boot.kind;
  return `${m.boot.kind} ${disks.map((d) => `${d.target}${d.lun !== undefined && d.lun !== 0 ? `@${d.lun}` : ''}`).join(', ')}`;
}

/**
 * @param {string} mac
 * @param {BootEvent | undefined} latest
 * @param {number} nowMs
 */
function stateCell(mac, latest, nowMs) {
  const attrs = { class: 'state', 'data-testid': `machine-state-${mac}` };
  if (latest === undefined) return h('td', attrs, h('span', { class: 'muted' }, 'no boot seen'));
  const state = liveState(latest);
  return h('td', { ...attrs, 'data-tone': state.tone }, h('span', { class: `badge tone-${state.tone}` }, state.text), ' ', h('span', { class: 'muted' }, formatAgo(latest.at, nowMs)));
}

/**
 * @param {HTMLTableSectionElement} tbody
 * @param {{ machines: readonly Machine[], latestByMac: ReadonlyMap<string, BootEvent>, selected: string | null,
 *   nowMs: number, onSelect: (mac: string) => void, onRegister: (mac: string) => void }} view
 */
export function renderMachines(tbody, view) {
  const known = new Set(view.machines.map((m) => m.mac));
  const rows = view.machines.map((m) =>
    h(
      'tr',
      {
        class: m.mac === view.selected ? 'selected' : '',
        'data-testid': `machine-row-${m.mac}`,
        tabindex: 0,
        'aria-current': m.mac === view.selected ? 'true' : null,
        onclick: () => view.onSelect(m.mac),
        onkeydown: (e) => {
          if (e instanceof KeyboardEvent && (e.key === 'Enter' || e.key === ' ')) view.onSelect(m.mac);
        },
      },
      h('td', {}, m.name, m.group !== null && m.group !== undefined && h('span', { class: 'muted' }, ` (${m.group})`)),
      h('td', {}, h('code', {}, m.mac)),
      h('td', { class: 'boot', title: bootText(m) }, bootText(m)),
      stateCell(m.mac, view.latestByMac.get(m.mac), view.nowMs),
    ),
  );
  const strangers = [...view.latestByMac.entries()]
    .filter(([mac]) => !known.has(mac))
    .sort(([, a], [, b]) => b.at - a.at)
    .map(([mac, latest]) =>
      h(
        'tr',
        { class: `stranger ${mac === view.selected ? 'selected' : ''}`, 'data-testid': `machine-row-${mac}`, tabindex: 0, onclick: () => view.onSelect(mac) },
        h('td', {}, h('span', { class: 'muted' }, 'not registered '), h('button', { type: 'button', class: 'link', onclick: (e) => (e.stopPropagation(), view.onRegister(mac)) }, 'add…')),
        h('td', {}, h('code', {}, mac)),
        h('td', {}, ''),
        stateCell(mac, latest, view.nowMs),
      ),
    );
  if (rows.length === 0 && strangers.length === 0) {
    tbody.replaceChildren(h('tr', {}, h('td', { colspan: 4, class: 'empty', 'data-testid': 'machines-empty' }, 'No machines yet: add one with the form, or boot one and it shows up here.')));
    return;
  }
  tbody.replaceChildren(...rows, ...strangers);
}
