// /api/images: golden image versions. A new version is a base file already on the server
// (the CLI converts imports and promotes disks into DATA_DIR/images/ first, with progress,
// then registers the file here); the server checks it and records where it came from.
import type { FastifyInstance } from 'fastify';
import { rm } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { StoreError, StoreErrorCode } from '../store/errors.ts';
import { diskFileInfo } from '../targets/disk-files.ts';
import { requireToken, sendApiError } from './api-common.ts';
import { newImageBody, parseBody } from './api-schemas.ts';
import type { InventoryRouteOptions } from './machines-route.ts';

export function registerImageRoutes(app: FastifyInstance, options: InventoryRouteOptions): void {
  const { store } = options;
  const guard = requireToken(options.apiToken);

  app.get('/api/images', async () => store.images.list());

  app.post<{ Body: unknown }>('/api/images', { preHandler: guard }, async (request, reply) => {
    try {
      const body = parseBody(newImageBody, request.body, 'image');
      const info = await diskFileInfo(body.path);
      if (info.sizeBytes === 0 || info.sizeBytes % 512 !== 0) {
        throw new StoreError(StoreErrorCode.Invalid, `path: ${body.path} is ${info.sizeBytes} bytes, not a whole number of 512-byte blocks; is it a raw disk image? (\`diskless image import\` converts other formats)`);
      }
      const image = await store.images.add({ name: body.name, path: body.path, sizeBytes: info.sizeBytes, source: body.source ?? null });
      return reply.code(201).send(image);
    } catch (err) {
      return sendApiError(reply, err);
    }
  });

  app.delete<{ Params: { name: string; version: string }; Querystring: { deleteFile?: string } }>('/api/images/:name/:version', { preHandler: guard }, async (request, reply) => {
    try {
      const image = await store.images.remove(request.params.name, Number(request.params.version));
      // Only files inside DATA_DIR/images (made by diskless) are deleted, and only when asked.
      const own = resolve(options.dataDir, 'images') + sep;
      if (request.query.deleteFile === 'true' && resolve(image.path).startsWith(own)) await rm(image.path, { force: true });
      return image;
    } catch (err) {
      return sendApiError(reply, err);
    }
  });
}
