import { fileURLToPath } from 'node:url';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import pg from 'pg';
import { assertSchemaName, DEFAULT_DB_SCHEMA } from '../config.js';
import { LakehouseError } from '../errors.js';
import { ident } from './executor.js';
import { DEFAULT_LANE_COUNT } from './lanes.js';

/** Folder of the drizzle-kit migrations shipped with the package. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

export interface MigrateOptions {
  /** PostgreSQL schema for the tables. Default `LAKEHOUSE_DB_SCHEMA` or `lakehouse`. */
  schema?: string;
  /** Where the migrations are. Default: the package's `drizzle/` folder. */
  migrationsFolder?: string;
  /**
   * Lanes per stream (1-32,767). Stored in the outbox's settings; default 64 for a new
   * outbox. Changing it is refused while events are pending (a partition key would be in
   * two lanes at once): drain first (`relay --until-idle`), then migrate with the new count.
   */
  lanes?: number;
}

export interface MigrateResult {
  schema: string;
  /** Migrations applied by this call (0 when the schema was up to date). */
  applied: number;
  /** Migrations in the folder. */
  total: number;
  /** Lanes per stream now stored. */
  lanes: number;
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
    const lanes = await applyLaneCount(client, schema, options.lanes);
    await checkPositionSequence(client, schema);
    await client.query('COMMIT');
    return { schema, applied, total: migrations.length, lanes };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    if (e instanceof LakehouseError) throw e;
    throw new LakehouseError('MIGRATION', `Migrating schema "${schema}" failed: ${(e as Error).message}`, {
      cause: e,
    });
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => {});
    await client.end().catch(() => {});
  }
}

/** Stores the lane count when asked; refused while events are pending. Returns the stored count. */
async function applyLaneCount(client: pg.Client, schema: string, lanes: number | undefined): Promise<number> {
  const s = ident(schema);
  const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${s}.settings`]);
  if (!exists.rows[0]?.t) return DEFAULT_LANE_COUNT; // migrations older than lanes (tests of the upgrade)
  const { rows } = await client.query<{ lane_count: number }>(`SELECT lane_count FROM ${s}.settings`);
  const current = rows[0]?.lane_count ?? DEFAULT_LANE_COUNT;
  if (lanes === undefined || lanes === current) return current;
  if (!Number.isInteger(lanes) || lanes < 1 || lanes > 32767) {
    throw new LakehouseError('CONFIG', `lanes must be an integer from 1 to 32767, got ${lanes}`);
  }
  const pending = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${s}.pending`);
  const n = Number(pending.rows[0]?.n ?? 0);
  if (n > 0) {
    throw new LakehouseError(
      'CONFIG',
      `Cannot change the lane count of schema "${schema}" from ${current} to ${lanes} while ${n} event(s) are pending: ` +
        'stop the writers, drain with `lakehouse relay --until-idle`, then migrate again',
    );
  }
  await client.query(`UPDATE ${s}.settings SET lane_count = $1`, [lanes]);
  return lanes;
}

/**
 * Refuses an outbox whose position sequence caches numbers: `CACHE 1` is load-bearing
 * (a cache hands each session its own block, so positions stop following insert order
 * across sessions and events of a partition can be delivered out of order).
 */
async function checkPositionSequence(client: pg.Client, schema: string): Promise<void> {
  const { rows } = await client.query<{ cache_size: string }>(
    `SELECT cache_size FROM pg_sequences WHERE schemaname = $1 AND sequencename = 'events_position_seq'`,
    [schema],
  );
  const cache = Number(rows[0]?.cache_size ?? 1);
  if (cache !== 1) {
    throw new LakehouseError(
      'CONFIG',
      `The sequence ${schema}.events_position_seq has CACHE ${cache}; it must be CACHE 1 or events can be delivered ` +
        `out of order. Run: ALTER SEQUENCE ${ident(schema)}.events_position_seq CACHE 1`,
    );
  }
}
