import { InvalidArgumentError } from 'commander';
import pg from 'pg';
import {
  DEFAULT_DATABASE_URL,
  DEFAULT_DB_SCHEMA,
  DEFAULT_REDIS_URL,
  type EnvConfig,
  envConfig,
} from '../config.js';
import { LakehouseError } from '../errors.js';
import { printError } from './errors.js';

export { EXIT } from './errors.js';

/** Fails fast on a URL that is not one of `protocols` (pg and ioredis would guess a host from garbage). */
function checkUrl(name: string, value: string, protocols: string[], example: string): void {
  let protocol: string | undefined;
  try {
    protocol = new URL(value).protocol;
  } catch {
    protocol = undefined;
  }
  if (!protocol || !protocols.includes(protocol))
    throw new LakehouseError('CONFIG', `${name} "${value}" is not a valid URL: expected ${example}`);
}

/** Per-command resources, created lazily and closed once. */
export class CliContext {
  readonly config: EnvConfig;
  #pool: pg.Pool | undefined;
  #closers: (() => Promise<void>)[] = [];
  /** Registers cleanup to run when the command ends. */
  onClose(fn: () => Promise<void>): void {
    this.#closers.push(fn);
  }
  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.config = envConfig(env);
    checkUrl(
      'DATABASE_URL',
      this.config.databaseUrl,
      ['postgres:', 'postgresql:', 'socket:'],
      'postgres://user[:password]@host[:port]/database',
    );
    checkUrl(
      'REDIS_URL',
      this.config.redisUrl,
      ['redis:', 'rediss:'],
      'redis://[:password@]host[:port][/db]',
    );
  }
  get pool(): pg.Pool {
    if (!this.#pool) {
      this.#pool = new pg.Pool({ connectionString: this.config.databaseUrl, max: 10 });
      this.#pool.on('error', () => {}); // idle client errors surface on the next query instead
    }
    return this.#pool;
  }
  async close(): Promise<void> {
    for (const fn of this.#closers.splice(0)) await fn().catch(() => {});
    await this.#pool?.end();
    this.#pool = undefined;
  }
}

/** Prints an error the way every command does (one line with a hint, no stack) and returns its exit code. */
export function reportError(e: unknown, env: NodeJS.ProcessEnv = process.env): number {
  return printError(e, {
    databaseUrl: env.DATABASE_URL || DEFAULT_DATABASE_URL,
    redisUrl: env.REDIS_URL || DEFAULT_REDIS_URL,
    schema: env.LAKEHOUSE_DB_SCHEMA || DEFAULT_DB_SCHEMA,
  });
}

/**
 * Parses a duration such as `45s`, `30m`, `12h`, `7d` or `4w` into seconds. The unit is
 * required: a bare `7` (seconds? days?) is a usage error rather than a guess.
 */
export function parseDuration(text: string, option = 'duration'): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/.exec(text.trim());
  if (!m) {
    const bare = /^\d+(?:\.\d+)?$/.test(text.trim());
    throw new InvalidArgumentError(
      `${option}: ${bare ? `"${text}" has no unit` : `invalid duration "${text}"`}; ` +
        `use a number with s, m, h, d or w (e.g. ${bare ? `${text.trim()}d for days` : '7d'})`,
    );
  }
  const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as 's'];
  return Number(m[1]) * unit;
}

/** A commander parser for a duration option, in seconds: a bare number exits 2 naming the option. */
export function durationSeconds(name: string) {
  return (value: string): number => parseDuration(value, name);
}

/** Parses a positive integer option, naming the option when it is not one. */
export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be a positive integer, got "${value}"`);
    return n;
  };
}
