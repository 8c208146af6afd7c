// `diskless serve`: quick mode (one disk from the command line), a YAML config, or with neither
// the embedded default: a demo disk in the data directory.
import { basename, join, resolve } from 'node:path';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import pino from 'pino';
import { loadConfigFile, validateConfig } from '../config/load.ts';
import type { Config, ConfigInput } from '../config/schema.ts';
import { startServer, type RunningServer } from '../main.ts';
import { formatIscsiRootPath } from '../boot/ipxe-script.ts';
import { renderDhcpSnippets } from '../boot/dhcp-snippets.ts';
import { advertisedAddress } from '../lib/net.ts';
import { ensureDemoDisk } from './demo-disk.ts';

interface ServeFlags {
  config?: string;
  disk?: string;
  listen?: string;
  advertise?: string;
  iscsiPort?: string;
  httpPort?: string;
  iqn?: string;
  chap?: string;
  mutualChap?: string;
  readOnly?: boolean;
  dataDir?: string;
  logLevel?: string;
  dhcp?: string;
  interface?: string;
  pool?: string;
  tftpPort?: string;
}

function parseCredentials(flag: string, value: string): { user: string; secret: string } {
  const colon = value.indexOf(':');
  if (colon <= 0 || colon === value.length - 1) throw new Error(`${flag} takes USER:SECRET, for example ${flag} pc1:a-long-secret`);
  return { user: value.slice(0, colon), secret: value.slice(colon + 1) };
}

function parsePool(value: string): { first: string; last: string } {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3})-(\d{1,3}(?:\.\d{1,3}){3})$/.exec(value);
  if (match === null) throw new Error(`--pool takes FIRST-LAST, for example --pool 10.0.0.100-10.0.0.199, not "${value}"`);
  return { first: match[1] ?? '', last: match[2] ?? '' };
}

function parsePort(flag: string, value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${flag} must be a port number from 0 to 65535, not "${value}"`);
  return port;
}

/** A readable, valid IQN for a quick-mode disk: iqn.2026-11.org.diskless:<host>.<file>. */
export function defaultIqn(diskPath: string): string {
  const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '') || 'disk';
  return `iqn.2026-11.org.diskless:${clean(hostname())}.${clean(basename(diskPath).replace(/\.[^.]+$/, ''))}`;
}

export function buildServeConfig(flags: ServeFlags): Readonly<Config> {
  const overrides: Partial<ConfigInput> = {};
  if (flags.listen !== undefined) overrides.listen = flags.listen;
  if (flags.advertise !== undefined) overrides.advertise = flags.advertise;
  if (flags.dataDir !== undefined) overrides.dataDir = flags.dataDir;
  if (flags.logLevel !== undefined) overrides.logLevel = flags.logLevel as Config['logLevel'];
  const iscsi: Record<string, unknown> = {};
  if (flags.iscsiPort !== undefined) iscsi.port = parsePort('--iscsi-port', flags.iscsiPort);
  const http: Record<string, unknown> = {};
  if (flags.httpPort !== undefined) http.port = parsePort('--http-port', flags.httpPort);
  const dhcp: Record<string, unknown> = {};
  if (flags.dhcp !== undefined) {
    if (!['full', 'proxy', 'off'].includes(flags.dhcp)) throw new Error(`--dhcp takes full, proxy or off, not "${flags.dhcp}"`);
    dhcp.mode = flags.dhcp;
  }
  if (flags.interface !== undefined) dhcp.interface = flags.interface;
  if (flags.pool !== undefined) dhcp.pool = parsePool(flags.pool);
  const tftp: Record<string, unknown> = {};
  if (flags.tftpPort !== undefined) {
    // Naming a TFTP port asks for TFTP, also when DHCP is off (another DHCP server points here).
    tftp.port = parsePort('--tftp-port', flags.tftpPort);
    tftp.enabled = true;
  }

  if (flags.config !== undefined) {
    if (flags.disk !== undefined) throw new Error('use either --config or --disk, not both');
    const base = loadConfigFile(flags.config);
    return validateConfig(
      { ...base, ...overrides, iscsi: { ...base.iscsi, ...iscsi }, http: { ...base.http, ...http }, dhcp: { ...base.dhcp, ...dhcp }, tftp: { ...base.tftp, ...tftp } },
      flags.config,
    );
  }
  const dataDir = flags.dataDir ?? './data';
  const disk = flags.disk ?? join(dataDir, 'demo.img');
  const target: Record<string, unknown> = {
    iqn: flags.iqn ?? defaultIqn(disk),
    alias: basename(disk),
    luns: [{ lun: 0, path: resolve(disk), readOnly: flags.readOnly ?? false }],
  };
  if (flags.chap !== undefined) target.chap = parseCredentials('--chap', flags.chap);
  if (flags.mutualChap !== undefined) {
    if (flags.chap === undefined) throw new Error('--mutual-chap needs --chap too: the initiator must authenticate before the target does');
    target.mutualChap = parseCredentials('--mutual-chap', flags.mutualChap);
  }
  // Quick mode: every machine that asks boots this disk.
  const unknownMachines = { kind: 'sanboot', disks: [{ target: target.iqn, lun: 0 }] };
  return validateConfig({ ...overrides, iscsi, http, dhcp, tftp, targets: [target], unknownMachines }, 'command line');
}

function printHowToBoot(server: RunningServer, config: Readonly<Config>): void {
  const host = advertisedAddress({ advertise: config.advertise, interface: config.dhcp.interface, listen: config.listen }) ?? '<this-server>';
  const lines = ['', 'diskless is serving:'];
  for (const target of server.targets.list()) lines.push(`  iSCSI target ${target.name} on port ${server.iscsiPort}${target.chap ? ' (CHAP required)' : ''}`);
  const first = config.targets[0];
  if (first !== undefined) {
    const root = formatIscsiRootPath({ server: host, port: server.iscsiPort, lun: first.luns[0]?.lun ?? 0, target: first.iqn });
    lines.push(
      `  boot script  http://${host}:${server.httpPort}/boot.ipxe`,
      '',
      'At an iPXE prompt (Ctrl-B), type:',
      '  dhcp',
      `  chain http://${host}:${server.httpPort}/boot.ipxe`,
      `or boot the disk directly: sanboot ${root}`,
      '',
    );
    if (config.dhcp.mode === 'off') {
      lines.push('diskless is not answering DHCP (--dhcp full or --dhcp proxy would). To let your DHCP server send machines here:', '');
      lines.push(renderDhcpSnippets({ server: host, httpPort: server.httpPort }));
    } else {
      lines.push(`DHCP: ${config.dhcp.mode} mode${config.dhcp.interface !== undefined ? ` on ${config.dhcp.interface}` : ''}; machines that network-boot here get iPXE and then their script.`, '');
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Start the server: iSCSI target and HTTP boot scripts. With no --disk or --config it serves a demo disk it creates in the data directory.')
    .option('-c, --config <file>', 'YAML configuration file (several targets, LUNs, CHAP, allowed initiators)')
    .option('-d, --disk <path>', 'quick mode: serve this image file or block device as LUN 0')
    .option('--listen <addr>', 'address to listen on (default 0.0.0.0)')
    .option('--advertise <addr>', 'address written into boot scripts, e.g. 10.0.2.2 for QEMU user-mode networking')
    .option('--iscsi-port <port>', 'iSCSI port (default 3260)')
    .option('--http-port <port>', 'HTTP port (default 8080)')
    .option('--iqn <name>', 'target name for quick mode (default iqn.2026-11.org.diskless:<host>.<file>)')
    .option('--chap <user:secret>', 'require one-way CHAP from initiators')
    .option('--mutual-chap <user:secret>', 'credentials the target presents back (mutual CHAP)')
    .option('--read-only', 'export the disk read-only')
    .option('--dhcp <mode>', 'full (DHCP server with a pool), proxy (beside your router) or off (default)')
    .option('--interface <name>', 'network interface for DHCP; its address goes into boot scripts')
    .option('--pool <first-last>', 'address pool for --dhcp full, e.g. 10.0.0.100-10.0.0.199')
    .option('--tftp-port <port>', 'serve TFTP on this port (default 69; on by default with --dhcp full or proxy)')
    .option('--data-dir <dir>', 'data directory (default ./data)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug or trace')
    .action(async (flags: ServeFlags) => {
      const config = buildServeConfig(flags);
      const log = pino({ level: config.logLevel });
      if (flags.config === undefined && flags.disk === undefined) {
        const demo = config.targets[0]?.luns[0]?.path ?? join(config.dataDir, 'demo.img');
        if (ensureDemoDisk(demo)) log.info({ path: demo }, 'created the demo disk');
      }
      for (const target of config.targets) {
        for (const creds of [target.chap, target.mutualChap]) {
          if (creds !== undefined && creds.secret.length < 12) log.warn({ target: target.iqn }, 'CHAP secret shorter than 12 characters: RFC 7143 asks for at least 12, and some initiators (Windows) refuse shorter ones');
        }
      }
      const server = await startServer(config, log);
      printHowToBoot(server, config);
      const stop = () => {
        log.info('shutting down');
        server.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
