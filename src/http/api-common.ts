// What every /api route shares: the token check for changes, and errors turned into HTTP
// answers that carry the store's own words (which name the field and say what to do).
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { StoreError, StoreErrorCode } from '../store/errors.ts';
import { DisklessError } from '../lib/errors.ts';

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  [StoreErrorCode.Invalid]: 400,
  [StoreErrorCode.DuplicateMac]: 409,
  [StoreErrorCode.DuplicateName]: 409,
  [StoreErrorCode.DuplicateIqn]: 409,
  [StoreErrorCode.DuplicateLun]: 409,
  [StoreErrorCode.NotFound]: 404,
  [StoreErrorCode.InUse]: 409,
};

/** Store errors and DisklessErrors (bad input the services found) become 4xx; the rest is thrown on. */
export function sendApiError(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof StoreError) return reply.code(STATUS_BY_CODE[err.code] ?? 500).send({ error: err.message, code: err.code });
  if (err instanceof DisklessError) return reply.code(400).send({ error: err.message, code: err.code });
  throw err;
}

export function tokenMatches(request: FastifyRequest, token: string, allowQuery = false): boolean {
  const header = request.headers.authorization ?? '';
  const query = allowQuery ? new URL(request.url, 'http://x').searchParams.get('token') : null;
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : (query ?? ''));
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** preHandler for every route that changes something. */
export function requireToken(token: string): preHandlerAsyncHookHandler {
  return async (request, reply) => {
    if (!tokenMatches(request, token)) {
      await reply.code(401).send({ error: 'this change needs the API token: Authorization: Bearer <token> (the token is in DATA_DIR/api-token)' });
    }
  };
}

/**
 * onRequest hook for `http.protectReads`: every /api/ read needs the token as well. EventSource
 * cannot set headers, so reads may also pass it as ?token= (changes may not: a token in a URL
 * ends up in logs and browser history).
 */
export function requireTokenForReads(token: string): preHandlerAsyncHookHandler {
  return async (request, reply) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return;
    if (!request.url.startsWith('/api/') || request.url.startsWith('/api/openapi.json')) return;
    if (!tokenMatches(request, token, true)) {
      await reply.code(401).send({ error: 'this server protects reads too (http.protectReads): send Authorization: Bearer <token> or ?token=<token> (the token is in DATA_DIR/api-token)' });
    }
  };
}
