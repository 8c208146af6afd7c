// /api/openapi.json: OpenAPI 3.1 generated from API_ROUTES and their zod schemas (zod 4's
// toJSONSchema; OpenAPI 3.1 uses JSON Schema 2020-12, so the schemas go in as they are).
import { z } from 'zod';
import { API_ROUTES } from './api-schemas.ts';

type Json = Record<string, unknown>;

export function openApiDocument(version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of API_ROUTES) {
    const path = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const params = [...route.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const operation: Json = {
      summary: route.summary,
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(route.auth ? { security: [{ bearer: [] }] } : {}),
      responses: {
        [route.method === 'POST' ? '201' : '200']: {
          description: 'OK',
          content: { [route.produces === 'sse' ? 'text/event-stream' : route.produces === 'pcap' ? 'application/vnd.tcpdump.pcap' : 'application/json']: {} },
        },
        ...(route.body !== undefined ? { 400: { description: 'The body is invalid; error names the field', content: { 'application/json': { schema: ERROR } } } } : {}),
        ...(route.auth ? { 401: { description: 'No or wrong API token', content: { 'application/json': { schema: ERROR } } } } : {}),
        ...(route.path.includes(':') ? { 404: { description: 'Not found', content: { 'application/json': { schema: ERROR } } } } : {}),
        ...(route.method !== 'GET' ? { 409: { description: 'Conflicts with what exists (duplicate, in use)', content: { 'application/json': { schema: ERROR } } } } : {}),
      },
    };
    if (route.body !== undefined) {
      const { $schema: _drop, ...schema } = z.toJSONSchema(route.body, { io: 'input', unrepresentable: 'any' }) as Json;
      operation.requestBody = { required: true, content: { 'application/json': { schema } } };
    }
    (paths[path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'diskless', version, description: 'Machines, disks, targets, sessions and boot events of a diskless server. Changes need Authorization: Bearer <token> (DATA_DIR/api-token).' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}

const ERROR = { type: 'object', properties: { error: { type: 'string' }, code: { type: 'string' } }, required: ['error'] };
