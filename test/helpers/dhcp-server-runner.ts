// Runs startDhcpServer in its own process, so that interop tests can put it in a network
// namespace: `ip netns exec NS node --import tsx test/helpers/dhcp-server-runner.ts '<json>'`.
// Prints "READY" on stdout once listening; SIGTERM closes it (flushing the lease journal).
import pino from 'pino';
import type { BootDecision, BootPolicy, PxeClient } from '../../src/boot/types.ts';
import type { SubnetConfig } from '../../src/dhcp/addressing.ts';
import type { DhcpPorts } from '../../src/dhcp/server.ts';
import { startDhcpServer } from '../../src/dhcp/server.ts';

export interface RunnerConfig {
  readonly mode: 'full' | 'proxy';
  readonly serverAddress: string;
  readonly subnets?: readonly SubnetConfig[];
  readonly leaseDir?: string;
  readonly ports?: DhcpPorts;
  readonly logLevel?: string;
  /** iPXE gets this script URL; PXE ROMs get undionly.kpxe or ipxe.efi. */
  readonly scriptUrl: string;
  readonly rootPath?: string;
  readonly initiatorIqn?: string;
}

/** The same shape of answer as src/boot/policy.ts, without an inventory. */
export function fixedPolicy(config: RunnerConfig): BootPolicy {
  return {
    decide(client: PxeClient, server: string): BootDecision | null {
      const extra = {
        ...(config.rootPath !== undefined ? { rootPath: config.rootPath } : {}),
        ...(config.initiatorIqn !== undefined ? { initiatorIqn: config.initiatorIqn } : {}),
      };
      switch (client.firmware) {
        case 'ipxe':
          return { bootFile: config.scriptUrl, nextServer: server, ipxe: { keepSan: true }, ...extra };
        case 'pxe':
          return { bootFile: client.platform === 'bios' ? 'undionly.kpxe' : 'ipxe.efi', nextServer: server, vendorClass: 'PXEClient' };
        case 'http-boot':
          return { bootFile: `http://${server}/ipxe.efi`, nextServer: server, vendorClass: 'HTTPClient' };
        default:
          return null;
      }
    },
  };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as RunnerConfig;
  const log = pino({ level: config.logLevel ?? 'info' }, pino.destination(2));
  const server = await startDhcpServer({
    mode: config.mode,
    serverAddress: config.serverAddress,
    subnets: config.subnets ?? [],
    policy: fixedPolicy(config),
    log,
    ...(config.leaseDir !== undefined ? { leaseDir: config.leaseDir } : {}),
    ...(config.ports !== undefined ? { ports: config.ports } : {}),
  });
  const stop = (): void => {
    void server.close().then(() => {
      process.stdout.write(`STATS ${JSON.stringify(server.stats)}\n`);
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write('READY\n');
}

if (process.argv[1]?.endsWith('dhcp-server-runner.ts') === true) await main();
