// @ts-check
// The disks table: size, how much of it holds data, read-only, which targets export it.
import { h } from './dom.js';
import { formatBytes } from './format.js';

/** @typedef {import('./api.js').Disk} Disk */

/**
 * @param {HTMLTableSectionElement} tbody
 * @param {readonly Disk[] | null} disks null: this server has no disk API (404)
 */
export function renderDisks(tbody, disks) {
  if (disks === null || disks.length === 0) {
    const text = disks === null ? 'This server does not list disks (no /api/disks).' : 'No disks yet.';
    tbody.replaceChildren(h('tr', {}, h('td', { colspan: 5, class: 'empty', 'data-testid': 'disks-empty' }, text)));
    return;
  }
  tbody.replaceChildren(
    ...disks.map((d) => {
      const used = d.sizeBytes > 0 ? Math.min(1, d.usedBytes / d.sizeBytes) : 0;
      return h(
        'tr',
        { 'data-testid': `disk-row-${d.name}` },
        h('td', { title: d.path }, d.name),
        h('td', { class: 'num' }, formatBytes(d.sizeBytes)),
        h(
          'td',
          { class: 'num' },
          h('meter', { min: 0, max: 1, value: used, title: `${Math.round(used * 100)} %` }),
          ' ',
          formatBytes(d.usedBytes),
        ),
        h('td', {}, d.readOnly ? 'read-only' : ''),
        h('td', {}, d.usedBy.length === 0 ? h('span', { class: 'muted' }, 'unused') : d.usedBy.map((u) => `${u.target}@${u.lun}`).join(', ')),
      );
    }),
  );
}
