// Validate once, then freeze (fastify style). Errors name the field and say what to change.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { ZodError } from 'zod';
import { DisklessError } from '../lib/errors.ts';
import { configSchema, type Config, type ConfigInput } from './schema.ts';

export class ConfigError extends DisklessError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
    this.name = 'ConfigError';
  }
}

function describeZodError(error: ZodError, source: string): string {
  const lines = error.issues.map((issue) => `  ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  return `${source} is not valid:\n${lines.join('\n')}`;
}

export function validateConfig(input: unknown, source = 'configuration'): Readonly<Config> {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(describeZodError(parsed.error, source));
  const config = parsed.data;
  const names = new Set<string>();
  for (const target of config.targets) {
    if (names.has(target.iqn)) throw new ConfigError(`${source}: target ${target.iqn} is listed twice; give each target its own IQN`);
    names.add(target.iqn);
    const luns = new Set<number>();
    for (const lun of target.luns) {
      if (luns.has(lun.lun)) throw new ConfigError(`${source}: target ${target.iqn} has LUN ${lun.lun} twice`);
      luns.add(lun.lun);
    }
  }
  return deepFreeze(config);
}

export function loadConfigFile(path: string, overrides: Partial<ConfigInput> = {}): Readonly<Config> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ConfigError(`config file ${path} must be a YAML mapping`);
  return validateConfig({ ...(doc as Record<string, unknown>), ...overrides }, path);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
