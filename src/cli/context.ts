import { InvalidArgumentError } from 'commander';
import pg from 'pg';
import { type EnvConfig, envConfig } from '../config.js';
import { isLakehouseError } from '../errors.js';

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

/** Exit codes: 0 ok, 1 rejected input or failed operation, 2 usage or configuration error. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Prints an error the way every command does and returns its exit code. */
export function reportError(e: unknown): number {
  if (isLakehouseError(e)) {
    process.stderr.write(`lakehouse: ${e.message}\n`);
    return e.code === 'CONFIG' ? EXIT.usage : EXIT.failed;
  }
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ECONNREFUSED') {
    process.stderr.write(
      `lakehouse: cannot connect (${err.message}); is the service running? See DATABASE_URL / REDIS_URL.\n`,
    );
    return EXIT.failed;
  }
  process.stderr.write(`lakehouse: ${err?.stack ?? String(e)}\n`);
  return EXIT.failed;
}

/** Parses a duration such as `30s`, `15m`, `12h`, `7d` into seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?$/.exec(text.trim());
  if (!m)
    throw new InvalidArgumentError(`invalid duration "${text}": use a number with s, m, h, d or w (e.g. 7d)`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[(m[2] ?? 's') as 's'];
  return Number(m[1]) * unit;
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
