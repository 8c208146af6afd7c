// `diskless events`: the boot timeline of a running server, once or live (--follow).
import type { Command } from 'commander';
import { readHeaders } from './api-client.ts';

interface EventRow {
  at: number;
  mac: string | null;
  ip: string | null;
  kind: string;
  outcome: string;
  detail: Record<string, unknown>;
}

export function formatEvent(e: EventRow): string {
  const detail = Object.entries(e.detail)
    .filter(([, v]) => v !== null && v !== '' && v !== false)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  return `${new Date(e.at).toISOString()} ${e.mac ?? '-'} ${e.ip ?? '-'} ${e.kind} ${e.outcome}${detail !== '' ? ` ${detail}` : ''}`;
}

async function get(url: URL, headers: Record<string, string>): Promise<Response> {
  try {
    return await fetch(url, { headers });
  } catch (err) {
    throw new Error(`cannot reach the server at ${url.origin} (${(err as Error).message}); is 'diskless serve' running? Pass --server URL if it listens elsewhere`, { cause: err });
  }
}

export function registerEventsCommand(program: Command): void {
  program
    .command('events')
    .description('Show the boot timeline: DHCP, TFTP, script, iSCSI login and first read, per machine')
    .option('--server <url>', 'URL of the running server', 'http://127.0.0.1:8080')
    .option('--mac <mac>', 'only this machine')
    .option('-f, --follow', 'keep printing new events as they happen')
    .option('--json', 'print JSON (one object per line with --follow)')
    .option('--token <token>', 'API token, for a server that protects reads (default: read from DATA_DIR/api-token)')
    .option('--data-dir <dir>', "the server's data directory", './data')
    .action(async (flags: { server: string; mac?: string; follow?: boolean; json?: boolean; token?: string; dataDir?: string }) => {
      const headers = readHeaders(flags);
      const query = flags.mac !== undefined ? `?mac=${encodeURIComponent(flags.mac)}` : '';
      const print = (e: EventRow) => process.stdout.write((flags.json === true ? JSON.stringify(e) : formatEvent(e)) + '\n');
      const response = await get(new URL(`/api/events${query}`, flags.server), headers);
      if (!response.ok) throw new Error(`server answered ${response.status}: ${await response.text()}`);
      const rows = (await response.json()) as EventRow[];
      if (flags.follow !== true) {
        if (flags.json === true) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        else for (const row of rows) print(row);
        return;
      }
      for (const row of rows) print(row);
      const stream = await get(new URL(`/api/events/stream${query}`, flags.server), headers);
      if (stream.body === null) throw new Error('the server sent no event stream');
      const decoder = new TextDecoder();
      let buffered = '';
      for await (const chunk of stream.body) {
        buffered += decoder.decode(chunk as Uint8Array, { stream: true });
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const message = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = message.split('\n').find((line) => line.startsWith('data: '));
          if (data !== undefined) print(JSON.parse(data.slice(6)) as EventRow);
        }
      }
    });
}
