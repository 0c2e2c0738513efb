import { LakehouseError } from './errors.js';

/** Defaults shared by the CLI, the tests and the library. */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_DB_SCHEMA = 'lakehouse';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Checks a PostgreSQL schema name. Schema names end up in SQL text (they cannot be bind
 * parameters), so only plain lower-case identifiers are accepted: no quoting games.
 */
export function assertSchemaName(name: string): string {
  if (!SCHEMA_NAME.test(name)) {
    throw new LakehouseError(
      'CONFIG',
      `Invalid schema name "${name}" (LAKEHOUSE_DB_SCHEMA): use lower-case letters, digits and _, ` +
        'starting with a letter or _, at most 63 characters.',
    );
  }
  return name;
}

export interface EnvConfig {
  databaseUrl: string;
  redisUrl: string;
  schema: string;
}

/** Reads `DATABASE_URL`, `REDIS_URL` and `LAKEHOUSE_DB_SCHEMA`, with the documented defaults. */
export function envConfig(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  return {
    databaseUrl: env.DATABASE_URL || DEFAULT_DATABASE_URL,
    redisUrl: env.REDIS_URL || DEFAULT_REDIS_URL,
    schema: assertSchemaName(env.LAKEHOUSE_DB_SCHEMA || DEFAULT_DB_SCHEMA),
  };
}
