// The body of POST /api/machines/:ref/capture (zod): how long, how big, and addresses to know
// the machine by from the start; and the bounds every capture keeps to.
import { z } from 'zod';

export const CAPTURE_LIMITS = {
  defaultSeconds: 120,
  maxSeconds: 3600,
  defaultBytes: 64 * 1024 * 1024,
  maxBytes: 1024 * 1024 * 1024,
  /** Captures running at once. */
  maxRunning: 4,
} as const;

export const captureBody = z.object({
  seconds: z.number().int().min(1).max(CAPTURE_LIMITS.maxSeconds).optional().describe(`Stop after this long (default ${CAPTURE_LIMITS.defaultSeconds})`),
  maxBytes: z.number().int().min(4096).max(CAPTURE_LIMITS.maxBytes).optional().describe(`Stop when the file reaches this size (default ${CAPTURE_LIMITS.defaultBytes})`),
  addresses: z
    .array(z.union([z.ipv4(), z.ipv6()]))
    .max(16)
    .optional()
    .describe("The machine's addresses, when diskless cannot learn them (a static address, another DHCP server): its TFTP and iSCSI traffic is recognised by them"),
});

export type CaptureBody = z.infer<typeof captureBody>;
