// CHAP secrets leave the store wrapped, so that no log line, error or JSON reply can show one by
// accident: JSON.stringify (pino, fastify) and util.inspect (console, node:test diffs) both print
// a placeholder. Code that needs the value (the iSCSI login, `machine show --secrets`) calls
// reveal(), which is easy to grep for.
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';

export const REDACTED = '[redacted]';

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  equals(other: Secret): boolean {
    return this.#value === other.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

export interface Credentials {
  readonly user: string;
  readonly secret: Secret;
}

/** What the API and the console show instead of credentials: who, and that a secret is set. */
export interface PublicCredentials {
  readonly user: string;
  readonly secret: typeof REDACTED;
}

export function toPublicCredentials(c: Credentials | null): PublicCredentials | null {
  return c === null ? null : { user: c.user, secret: REDACTED };
}

/**
 * A new CHAP secret: 16 characters from 12 random bytes. RFC 7143 section 12.1.3 asks for at
 * least 96 bits when the secret is not a strong password; base64url keeps it printable and
 * free of characters that need quoting in iPXE scripts or shell commands.
 */
export function generateSecret(): Secret {
  return new Secret(randomBytes(12).toString('base64url'));
}

/** Paths for pino's `redact` option, for objects that carry plain-text credentials (config). */
export const SECRET_LOG_PATHS: readonly string[] = [
  'chap.secret',
  'mutualChap.secret',
  '*.chap.secret',
  '*.mutualChap.secret',
  'chap_secret',
  'mutual_chap_secret',
  '*.chap_secret',
  '*.mutual_chap_secret',
];
