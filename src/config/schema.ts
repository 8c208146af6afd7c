// One schema for the whole configuration, with defaults (fastify style: validated once at
// start-up, then frozen). A YAML file and the `serve` flags both end up here.
import { z } from 'zod';

const iqnPattern = /^(iqn\.\d{4}-\d{2}\.[^\s]+|eui\.[0-9A-Fa-f]{16}|naa\.[0-9A-Fa-f]{16,32})$/;
export const iqn = z.string().regex(iqnPattern, 'must be an iSCSI name such as iqn.2026-11.org.example:disk1 (RFC 7143 section 4.2.7)');

export const chapCredentials = z.object({
  user: z.string().min(1, 'CHAP user name must not be empty'),
  // RFC 7143 section 12.1.3: secrets of at least 12 bytes; libiscsi and iPXE accept any length,
  // so shorter ones are accepted with a warning at start-up rather than refused.
  secret: z.string().min(1, 'CHAP secret must not be empty').max(255),
});
export type ChapCredentials = z.infer<typeof chapCredentials>;

export const lunConfig = z.object({
  lun: z.number().int().min(0).max(16383),
  path: z.string().min(1),
  readOnly: z.boolean().default(false),
});

export const targetConfig = z.object({
  iqn,
  alias: z.string().max(255).optional(),
  luns: z.array(lunConfig).min(1, 'a target needs at least one LUN'),
  /** Incoming CHAP: the initiator must prove it knows this secret (IET IncomingUser). */
  chap: chapCredentials.optional(),
  /** Outgoing (mutual) CHAP: the target proves itself to the initiator (IET OutgoingUser). */
  mutualChap: chapCredentials.optional(),
  /** Initiator IQNs allowed to log in; absent means any. */
  initiators: z.array(z.string().min(1)).optional(),
});
export type TargetConfig = z.infer<typeof targetConfig>;

const macPattern = /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i;
export const mac = z
  .string()
  .regex(macPattern, 'must be a MAC address such as 52:54:00:12:34:56')
  .transform((value) => value.toLowerCase().replace(/-/g, ':'));

const diskRef = z.object({ target: iqn, lun: z.number().int().min(0).max(16383).default(0) });
/** URLs may be absolute, or paths under this server's /files/ (e.g. /files/vmlinuz). */
const url = z.string().min(1).regex(/^(https?|tftp):\/\/\S+$|^\/\S*$/, 'must be an http://, https:// or tftp:// URL, or a path on this server such as /files/vmlinuz');

const kernelEntry = z.object({ kind: z.literal('kernel'), kernel: url, initrds: z.array(url).default([]), cmdline: z.string().optional() });
const memdiskEntry = z.object({ kind: z.literal('memdisk'), image: url, iso: z.boolean().default(false) });
const chainEntry = z.object({ kind: z.literal('chain'), url });
const installer = z.discriminatedUnion('kind', [kernelEntry, memdiskEntry, chainEntry, z.object({ kind: z.literal('iso'), url })]);

export const bootEntryConfig = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sanboot'), disks: z.array(diskRef).min(1, 'sanboot needs at least one disk'), keepSan: z.boolean().optional() }),
  z.object({ kind: z.literal('install'), disk: diskRef, installer }),
  kernelEntry,
  memdiskEntry,
  chainEntry,
  z.object({ kind: z.literal('pxelinux') }),
  z.object({ kind: z.literal('local') }),
  z.object({ kind: z.literal('shell') }),
]);

export const menuConfig = z.object({
  kind: z.literal('menu'),
  title: z.string().optional(),
  items: z
    .array(z.object({ id: z.string().regex(/^[A-Za-z0-9_-]+$/, 'menu item ids use letters, digits, - and _'), label: z.string().min(1), entry: bootEntryConfig }))
    .min(1, 'a menu needs at least one item'),
  default: z.string().optional(),
  timeoutSeconds: z.number().int().min(0).max(3600).optional(),
});

/**
 * The IQN a machine logs in with unless told otherwise. iSCSI names hold lower-case letters,
 * digits, '-', '.' and ':' (RFC 3722), so anything else in the machine's name becomes '-'.
 */
export function defaultInitiatorIqn(name: string): string {
  return `iqn.2026-11.org.diskless:${name.toLowerCase().replace(/[^a-z0-9.-]+/g, '-')}`;
}

export const machineConfig = z.object({
  mac,
  name: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/, 'machine names use letters, digits, ., - and _'),
  /** The initiator IQN the machine logs in with (default iqn.2026-11.org.diskless:<name>). */
  initiatorIqn: iqn.optional(),
  boot: z.union([bootEntryConfig, menuConfig]),
});
export type MachineConfig = z.infer<typeof machineConfig>;
export type BootEntryConfig = z.infer<typeof bootEntryConfig>;
export type MenuConfig = z.infer<typeof menuConfig>;

const ipv4 = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}$/, 'must be an IPv4 address such as 10.0.0.1');

export const configSchema = z.object({
  /** Data directory: the embedded store and the demo disk live here. */
  dataDir: z.string().default('./data'),
  /** The inventory store: a SQLite file (default DATA_DIR/diskless.db) or postgres://... */
  store: z.string().optional(),
  listen: z.string().default('0.0.0.0'),
  /** The address written into boot scripts (what clients use to reach this server). */
  advertise: z.string().optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  iscsi: z
    .object({
      port: z.number().int().min(0).max(65535).default(3260),
      portalGroupTag: z.number().int().min(1).max(65535).default(1),
      discoveryAuth: chapCredentials.optional(),
      /** Ping an idle initiator with NOP-In after this long, and drop it if no answer follows. */
      nopIntervalMs: z.number().int().min(0).default(15000),
      nopTimeoutMs: z.number().int().min(100).default(30000),
      maxConnections: z.number().int().min(1).default(1024),
      /**
       * Read data one connection may hold, from its storage read until the socket has handed it to
       * the kernel, before its further READs wait their turn: bounds what an initiator that stops
       * reading pins until nopTimeoutMs drops it. One larger READ still runs, alone.
       */
      dataInBudgetBytes: z.number().int().min(65536).default(16 * 1024 * 1024),
    })
    .prefault({}),
  http: z
    .object({
      port: z.number().int().min(0).max(65535).default(8080),
      apiToken: z.string().min(8).optional(),
      /** Reads of /api/ need the token too (Authorization: Bearer, or ?token= for EventSource). */
      protectReads: z.boolean().default(false),
      /**
       * Who gets a /boot.ipxe script that carries a CHAP secret. lease-holder: when this
       * server's DHCP has bound an address to the machine's MAC, only a request from that
       * address (or from this host) gets it, others get 403; with no such lease it is served as
       * to anyone. anyone: whoever asks with the MAC.
       */
      scriptSecretsTo: z.enum(['lease-holder', 'anyone']).default('lease-holder'),
    })
    .prefault({}),
  targets: z.array(targetConfig).default([]),
  machines: z.array(machineConfig).default([]),
  /**
   * What a machine that is not in `machines` gets: the "not registered" screen, nothing at all,
   * or a boot entry or menu of its own. Quick mode boots its disk for everyone.
   */
  unknownMachines: z.union([z.literal('not-registered'), z.literal('ignore'), bootEntryConfig, menuConfig]).default('not-registered'),
  dhcp: z
    .object({
      /** full: a DHCP server with address pools; proxy: boot answers beside an existing one; off. */
      mode: z.enum(['off', 'full', 'proxy']).default('off'),
      /** The interface to serve; its IPv4 address is advertised to clients. */
      interface: z.string().optional(),
      pool: z.object({ first: ipv4, last: ipv4 }).optional(),
      subnetMask: ipv4.optional(),
      router: ipv4.optional(),
      dns: z.array(ipv4).default([]),
      leaseSeconds: z.number().int().min(60).default(3600),
      port: z.number().int().min(0).max(65535).default(67),
      proxyPort: z.number().int().min(0).max(65535).default(4011),
      /**
       * Answer IPv6 router solicitations on `interface` with an advertisement that routes nothing
       * (router lifetime 0), so iPXE need not wait ~10 s for IPv6 at each boot
       * (docs/ROUTER-ADVERTISEMENTS.md). Default: on in full mode with an interface, else off.
       */
      routerAdvertisements: z.boolean().optional(),
    })
    .prefault({}),
  tftp: z
    .object({
      enabled: z.boolean().optional(),
      port: z.number().int().min(0).max(65535).default(69),
      /** Files served by TFTP and under HTTP /files/ before Debian's iPXE and syslinux binaries. */
      root: z.string().optional(),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
