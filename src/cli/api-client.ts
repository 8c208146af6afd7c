// How the CLI talks to a running server: its REST API, with the token from --token or from
// the server's data directory for anything that changes something.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';

export interface ApiFlags {
  server: string;
  token?: string;
  dataDir: string;
  json?: boolean;
}

function token(flags: ApiFlags): string {
  if (flags.token !== undefined) return flags.token;
  const path = join(flags.dataDir, 'api-token');
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    throw new Error(`no API token: pass --token, or --data-dir pointing at the server's data directory (looked for ${path})`);
  }
}

/**
 * Headers for a read: the token when one is at hand, so reads work against a server with
 * http.protectReads; without one the read is tried anyway (reads are open by default).
 */
export function readHeaders(flags: { token?: string | undefined; dataDir?: string | undefined }): Record<string, string> {
  if (flags.token !== undefined) return { authorization: `Bearer ${flags.token}` };
  if (flags.dataDir === undefined) return {};
  try {
    return { authorization: `Bearer ${readFileSync(join(flags.dataDir, 'api-token'), 'utf8').trim()}` };
  } catch {
    return {};
  }
}

/** A refused API call: the server's words, its HTTP status and its error code. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** One API call; a non-2xx answer becomes an ApiError carrying the server's own words. */
export async function callApi(flags: ApiFlags, method: string, path: string, body?: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(new URL(path, flags.server), {
      method,
      headers: { ...(method !== 'GET' ? { authorization: `Bearer ${token(flags)}` } : readHeaders(flags)), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new Error(`cannot reach the server at ${flags.server} (${(err as Error).message}); is 'diskless serve' running? Pass --server URL if it listens elsewhere`, { cause: err });
  }
  const answer = (await response.json()) as { error?: string; code?: string };
  if (!response.ok) throw new ApiError(answer.error ?? `server answered ${response.status}`, response.status, answer.code);
  return answer;
}

/** The options every API-backed subcommand takes. */
export function withApiOptions(command: Command): Command {
  return command
    .option('--server <url>', 'URL of the running server', 'http://127.0.0.1:8080')
    .option('--token <token>', 'API token (default: read from DATA_DIR/api-token)')
    .option('--data-dir <dir>', "the server's data directory", './data')
    .option('--json', 'print JSON');
}

/** Prints JSON with --json, else the text. */
export function print(flags: { json?: boolean }, value: unknown, text: string): void {
  process.stdout.write(flags.json === true ? JSON.stringify(value, null, 2) + '\n' : text.endsWith('\n') || text === '' ? text : text + '\n');
}
