// @ts-check
/* global localStorage, fetch -- browser globals: eslint.config.js has no browser environment (tsc -p src/console checks these names) */
// The REST API of the same origin, and the shapes it answers with (mirrors of the server's
// types: src/events/boot-events.ts, src/iscsi/server.ts SessionSummary, the machines and disks
// repositories, src/doctor/explain-code.ts, src/capture/machine-capture.ts). The API token lives in localStorage: asked for once, sent as a Bearer header.

/**
 * @typedef {'dhcp-discover' | 'dhcp-offer' | 'dhcp-request' | 'dhcp-ack' | 'dhcp-nak' | 'dhcp-other'
 *   | 'tftp' | 'script' | 'iscsi-login' | 'iscsi-login-failed' | 'iscsi-first-read' | 'iscsi-logout' | 'disk-reset'
 *   | 'warning'} BootEventKind
 */

/**
 * @typedef {object} BootEvent
 * @property {number} at milliseconds since the epoch
 * @property {string | null} mac
 * @property {string | null} ip
 * @property {BootEventKind} kind
 * @property {string} outcome 'ok', or what went wrong in words
 * @property {Record<string, string | number | boolean | null>} detail
 */

/**
 * @typedef {object} DiskRef
 * @property {string} target
 * @property {number} [lun]
 */

/**
 * @typedef {object} Machine
 * @property {string} mac
 * @property {string} name
 * @property {string | null} [group]
 * @property {string | null} [initiatorIqn]
 * @property {{ kind: string, disks?: DiskRef[] }} boot
 * @property {{ user: string, secret: string } | null} [chap]
 */

/**
 * @typedef {object} Disk
 * @property {string} name
 * @property {string} path
 * @property {number} sizeBytes
 * @property {number} usedBytes
 * @property {boolean} readOnly
 * @property {DiskRef[]} usedBy
 */

/**
 * @typedef {object} Session
 * @property {string | null} target
 * @property {'Normal' | 'Discovery'} type
 * @property {string} initiator
 * @property {string} isid
 * @property {number} tsih
 * @property {number} cid
 * @property {string} peer
 * @property {'active' | 'login'} state
 * @property {string} connectedAt ISO 8601
 * @property {number} bytesRead
 * @property {number} bytesWritten
 * @property {number} commands
 */

/**
 * GET /api/explain/:code (src/doctor/explain-code.ts)
 * @typedef {object} Explanation
 * @property {'ipxe-error' | 'warning'} kind
 * @property {string} code
 * @property {string} title
 * @property {string} text
 * @property {string | null} url
 * @property {string | null} ipxeError
 */

/**
 * A packet capture (src/capture/machine-capture.ts CaptureStatus)
 * @typedef {object} CaptureStatus
 * @property {string} mac
 * @property {'running' | 'done'} state
 * @property {string} startedAt ISO 8601
 * @property {string} endsAt ISO 8601
 * @property {string | null} reason
 * @property {number} packets
 * @property {number} bytes
 * @property {number} seconds
 * @property {number} maxBytes
 * @property {string[]} addresses
 * @property {string} download
 * @property {string[]} notes
 */

/** What the server answers 401 with is in words; this is the console's own wording. */
export const TOKEN_HINT = 'API token — it is in DATA_DIR/api-token on the server';

const TOKEN_KEY = 'diskless.apiToken';

/** @returns {string} the saved API token, or '' */
export function loadToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return ''; // storage disabled (private mode, file://): ask every time
  }
}

/** @param {string} token '' forgets it */
export function saveToken(token) {
  try {
    if (token === '') localStorage.removeItem(TOKEN_KEY);
    else localStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage disabled: the token lives as long as the field's value.
  }
}

/** An answer that was not 2xx, with the server's `error` text when it sent one. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * @param {Response} response
 * @returns {Promise<string>} the server's `error` field, or the status line
 */
async function errorText(response) {
  try {
    const body = /** @type {unknown} */ (await response.json());
    if (typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'string') return body.error;
  } catch {
    // not JSON: fall through to the status line
  }
  return `${response.status} ${response.statusText}`.trim();
}

/**
 * GET a JSON resource. The caller states the shape it expects; the server is ours.
 * @template T
 * @param {string} path
 * @returns {Promise<T>}
 */
export async function getJson(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
  if (!response.ok) throw new ApiError(response.status, await errorText(response));
  return /** @type {T} */ (await response.json());
}

/**
 * POST JSON with the API token.
 * @template T
 * @param {string} path
 * @param {unknown} body
 * @param {string} token
 * @returns {Promise<T>}
 */
export async function postJson(path, body, token) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new ApiError(response.status, await errorText(response));
  return /** @type {T} */ (await response.json());
}

/**
 * DELETE with the API token.
 * @template T
 * @param {string} path
 * @param {string} token
 * @returns {Promise<T>}
 */
export async function deleteJson(path, token) {
  const response = await fetch(path, { method: 'DELETE', headers: { accept: 'application/json', authorization: `Bearer ${token}` } });
  if (!response.ok) throw new ApiError(response.status, await errorText(response));
  return /** @type {T} */ (await response.json());
}

/**
 * GET a file with the API token (a header, so the token stays out of URLs and history).
 * @param {string} path
 * @param {string} token
 * @returns {Promise<{ blob: Blob, filename: string | null }>}
 */
export async function getFile(path, token) {
  const response = await fetch(path, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
  if (!response.ok) throw new ApiError(response.status, await errorText(response));
  const disposition = response.headers.get('content-disposition') ?? '';
  return { blob: await response.blob(), filename: /filename="([^"]+)"/.exec(disposition)?.[1] ?? null };
}
