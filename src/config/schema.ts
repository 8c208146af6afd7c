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

export const configSchema = z.object({
  /** Data directory: the embedded store and the demo disk live here. */
  dataDir: z.string().default('./data'),
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
    })
    .prefault({}),
  http: z
    .object({
      port: z.number().int().min(0).max(65535).default(8080),
      apiToken: z.string().min(8).optional(),
    })
    .prefault({}),
  targets: z.array(targetConfig).default([]),
  /** The target (and LUN) that /boot.ipxe sanboots; defaults to the first target's first LUN. */
  boot: z
    .object({
      target: iqn.optional(),
      lun: z.number().int().min(0).optional(),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
