// @ts-check
// The packet capture of the selected machine (POST/DELETE/GET /api/machines/:ref/capture): a
// button that starts one (two minutes, the server's bounds), its state, and a download button.
// Starting and downloading need the API token (the file holds the machine's disk blocks), so
// the download is fetched with the token in a header and handed to the browser as a file.
import { h } from './dom.js';
import { formatBytes } from './format.js';

/** @typedef {import('./api.js').CaptureStatus} CaptureStatus */

/** How long a capture started from the console runs (the server stops it then). */
export const CONSOLE_CAPTURE_SECONDS = 120;

/**
 * @param {{ status: CaptureStatus | null, message: string | null, onStart: () => void, onStop: () => void, onDownload: () => void }} view
 */
export function renderCaptureBar(view) {
  const status = view.status;
  const running = status?.state === 'running';
  const summary =
    status === null
      ? 'no capture yet'
      : running
        ? `capturing until ${new Date(status.endsAt).toLocaleTimeString()}: ${status.packets} packets, ${formatBytes(status.bytes)}`
        : `captured ${status.packets} packets, ${formatBytes(status.bytes)} (${status.reason ?? 'done'})`;
  return h(
    'div',
    { class: 'capture', 'data-testid': 'capture' },
    running
      ? h('button', { type: 'button', 'data-testid': 'capture-stop', onclick: view.onStop }, 'Stop capture')
      : h('button', { type: 'button', 'data-testid': 'capture-start', title: 'DHCP, TFTP and iSCSI of this machine, as a pcap file', onclick: view.onStart }, 'Capture boot traffic'),
    h('span', { class: 'muted', 'data-testid': 'capture-status', 'data-state': status?.state ?? 'none' }, summary),
    status !== null && h('button', { type: 'button', class: 'link', 'data-testid': 'capture-download', onclick: view.onDownload }, 'Download pcap'),
    status !== null && status.notes.length > 0 && h('span', { class: 'muted capture-notes' }, status.notes.join('; ')),
    view.message !== null && h('span', { class: 'message message-error', role: 'status' }, view.message),
  );
}
