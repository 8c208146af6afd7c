// @ts-check
// Numbers and times as people read them. Pure (no DOM), so the tests import it under Node.

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/**
 * 1536 → "1.5 KiB". Binary units, as disk tools print sizes.
 * @param {number} bytes
 * @returns {string}
 */
export function formatBytes(bytes) {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${BYTE_UNITS[unit]}`;
}

/**
 * Bytes per second → "12.3 MiB/s".
 * @param {number} bytesPerSecond
 * @returns {string}
 */
export function formatRate(bytesPerSecond) {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/**
 * A step's time after the first event of its boot: "+0.00 s", "+12.4 s", "+2 min 05 s".
 * @param {number} ms
 * @returns {string}
 */
export function formatOffset(ms) {
  if (ms < 10_000) return `+${(ms / 1000).toFixed(2)} s`;
  if (ms < 60_000) return `+${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `+${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

/**
 * How long ago, coarsely: "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago".
 * @param {number} atMs
 * @param {number} nowMs
 * @returns {string}
 */
export function formatAgo(atMs, nowMs) {
  const seconds = Math.max(0, Math.round((nowMs - atMs) / 1000));
  if (seconds < 3) return 'just now';
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

/**
 * A wall-clock time in the browser's zone, with seconds: boots are seconds long.
 * @param {number} atMs
 * @returns {string}
 */
export function formatClock(atMs) {
  return new Date(atMs).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
