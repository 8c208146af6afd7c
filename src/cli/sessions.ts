// `diskless sessions`: live iSCSI sessions of a running server, like IET's /proc/net/iet/session.
import type { Command } from 'commander';
import { readHeaders } from './api-client.ts';

interface SessionRow {
  target: string | null;
  type: string;
  initiator: string;
  isid: string;
  tsih: number;
  cid: number;
  peer: string;
  state: string;
  headerDigest: boolean;
  dataDigest: boolean;
  bytesRead: number;
  bytesWritten: number;
}

export function formatSessions(rows: readonly SessionRow[]): string {
  if (rows.length === 0) return 'no sessions\n';
  const out: string[] = [];
  for (const r of rows) {
    out.push(`target:${r.target ?? '(discovery)'} type:${r.type.toLowerCase()}`);
    out.push(`  initiator:${r.initiator || '(logging in)'} isid:${r.isid} tsih:${r.tsih}`);
    out.push(`  cid:${r.cid} ip:${r.peer} state:${r.state} hd:${r.headerDigest ? 'crc32c' : 'none'} dd:${r.dataDigest ? 'crc32c' : 'none'}`);
    out.push(`  read:${r.bytesRead} written:${r.bytesWritten}`);
  }
  return out.join('\n') + '\n';
}

export function registerSessionsCommand(program: Command): void {
  program
    .command('sessions')
    .description('List the live iSCSI sessions of a running server')
    .option('--server <url>', 'URL of the running server', 'http://127.0.0.1:8080')
    .option('--json', 'print JSON')
    .option('--token <token>', 'API token, for a server that protects reads (default: read from DATA_DIR/api-token)')
    .option('--data-dir <dir>', "the server's data directory", './data')
    .action(async (flags: { server: string; json?: boolean; token?: string; dataDir?: string }) => {
      let response: Response;
      try {
        response = await fetch(new URL('/api/sessions', flags.server), { headers: readHeaders(flags) });
      } catch (err) {
        throw new Error(`cannot reach the server at ${flags.server} (${(err as Error).message}); is 'diskless serve' running? Pass --server URL if it listens elsewhere`, { cause: err });
      }
      if (!response.ok) throw new Error(`server answered ${response.status} ${response.statusText}`);
      const rows = (await response.json()) as SessionRow[];
      process.stdout.write(flags.json === true ? JSON.stringify(rows, null, 2) + '\n' : formatSessions(rows));
    });
}
