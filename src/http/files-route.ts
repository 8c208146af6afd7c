// GET /files/<path>: the same boot files TFTP serves (iPXE for UEFI HTTP boot, memdisk,
// kernels, ISOs), with byte ranges, which iPXE uses to sanboot an ISO over HTTP.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { TftpError, type FileSource, type TftpFileProvider } from '../tftp/files.ts';

const CHUNK_BYTES = 256 * 1024;

/** Parses a single "bytes=a-b" range (RFC 9110 section 14.1.2); null = whole file, 'bad' = 416. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'bad' {
  if (header === undefined) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null) return null; // multiple or odd ranges: serve the whole file, as allowed
  const [, from = '', to = ''] = match;
  if (from === '' && to === '') return 'bad';
  let start: number;
  let end: number;
  if (from === '') {
    const suffix = Number(to);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(from);
    end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  }
  if (start >= size || start > end) return 'bad';
  return { start, end };
}

function streamSource(source: FileSource, start: number, end: number): Readable {
  let position = start;
  return new Readable({
    read() {
      if (position > end) {
        source.close();
        this.push(null);
        return;
      }
      const length = Math.min(CHUNK_BYTES, end - position + 1);
      const buffer = Buffer.allocUnsafe(length);
      source.read(position, length, buffer, (err, bytesRead) => {
        if (err !== null || bytesRead === 0) {
          source.close();
          this.destroy(err ?? new Error('file ended early'));
          return;
        }
        position += bytesRead;
        this.push(buffer.subarray(0, bytesRead));
      });
    },
    destroy(err, callback) {
      source.close();
      callback(err);
    },
  });
}

export function registerFilesRoute(app: FastifyInstance, provider: TftpFileProvider): void {
  app.get<{ Params: { '*': string } }>('/files/*', async (request, reply) => {
    const opened = await provider.open(request.params['*'], { address: request.ip, port: request.socket.remotePort ?? 0 });
    if (opened instanceof TftpError) {
      reply.code(opened.code === 2 ? 403 : 404).type('text/plain');
      return `${opened.message}\n`;
    }
    const range = parseRange(request.headers.range, opened.size);
    reply.header('accept-ranges', 'bytes').type('application/octet-stream');
    if (range === 'bad') {
      opened.close();
      reply.code(416).header('content-range', `bytes */${opened.size}`);
      return '';
    }
    const { start, end } = range ?? { start: 0, end: opened.size - 1 };
    if (range !== null) reply.code(206).header('content-range', `bytes ${start}-${end}/${opened.size}`);
    reply.header('content-length', String(Math.max(0, end - start + 1)));
    if (opened.size === 0) {
      opened.close();
      return '';
    }
    return reply.send(streamSource(opened, start, end));
  });
}
