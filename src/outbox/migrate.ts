import { fileURLToPath } from 'node:url';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import pg from 'pg';
import { assertSchemaName, DEFAULT_DB_SCHEMA } from '../config.js';
import { LakehouseError } from '../errors.js';
import { ident } from './executor.js';

/** Folder of the drizzle-kit migrations shipped with the package. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

export interface MigrateOptions {
  /** PostgreSQL schema for the tables. Default `LAKEHOUSE_DB_SCHEMA` or `lakehouse`. */
  schema?: string;
  /** Where the migrations are. Default: the package's `drizzle/` folder. */
  migrationsFolder?: string;
}

export interface MigrateResult {
  schema: string;
  /** Migrations applied by this call (0 when the schema was up to date). */
  applied: number;
  /** Migrations in the folder. */
  total: number;
}

/**
 * The generated SQL names the schema `lakehouse`; the tables can live in any schema, so
 * the name is rewritten here (the name has passed {@link assertSchemaName}).
 */
function rewriteSchema(statement: string, schema: string): string {
  return statement
    .replaceAll('CREATE SCHEMA "lakehouse"', `CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`)
    .replaceAll('"lakehouse".', `${ident(schema)}.`);
}

/**
 * Applies the outbox migrations. Safe to run twice and from several processes at once: a
 * session advisory lock (per schema) serializes runners, and each runner applies what is
 * missing in one transaction, so a crash half way leaves the schema as it was.
 */
export async function migrate(databaseUrl: string, options: MigrateOptions = {}): Promise<MigrateResult> {
  const schema = assertSchemaName(options.schema ?? (process.env.LAKEHOUSE_DB_SCHEMA || DEFAULT_DB_SCHEMA));
  const migrations = readMigrationFiles({ migrationsFolder: options.migrationsFolder ?? MIGRATIONS_FOLDER });
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => {}); // a lost connection surfaces as the failing query
  await client.connect();
  const lockKey = `lakehouse:migrate:${schema}`;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
    await client.query('BEGIN');
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${ident(schema)}.__migrations (
         id serial PRIMARY KEY, hash text NOT NULL, created_at bigint NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ created_at: string }>(
      `SELECT created_at FROM ${ident(schema)}.__migrations ORDER BY created_at DESC LIMIT 1`,
    );
    const lastApplied = rows[0] ? Number(rows[0].created_at) : -1;
    let applied = 0;
    for (const m of migrations) {
      if (m.folderMillis <= lastApplied) continue;
      for (const statement of m.sql) {
        if (statement.trim()) await client.query(rewriteSchema(statement, schema));
      }
      await client.query(`INSERT INTO ${ident(schema)}.__migrations (hash, created_at) VALUES ($1, $2)`, [
        m.hash,
        m.folderMillis,
      ]);
      applied++;
    }
    await client.query('COMMIT');
    return { schema, applied, total: migrations.length };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw new LakehouseError('MIGRATION', `Migrating schema "${schema}" failed: ${(e as Error).message}`, {
      cause: e,
    });
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => {});
    await client.end().catch(() => {});
  }
}
