import { type SQL, sql } from 'drizzle-orm';

/** Anything with pg's `query(text, params)`: a `pg` Client, PoolClient or Pool. */
export interface PgQueryable {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** A drizzle database or transaction (node-postgres, postgres-js, pglite drivers). */
export interface DrizzleExecutable {
  execute(query: SQL): Promise<unknown>;
}

/** What the outbox functions accept as a connection or transaction. */
export type Queryable = PgQueryable | DrizzleExecutable;

/** A minimal executor: parameterized SQL text in, rows out. */
export type Executor = <R = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<R[]>;

/**
 * Turns `$1`-style SQL text into a drizzle `SQL` object with bound parameters, so one SQL
 * text serves both pg and drizzle callers and parameters are never interpolated.
 */
function toDrizzleSql(text: string, params: unknown[]): SQL {
  const chunks: SQL[] = [];
  const re = /\$(\d+)/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    chunks.push(sql.raw(text.slice(last, m.index)));
    const i = Number(m[1]) - 1;
    if (i < 0 || i >= params.length)
      throw new Error(`SQL references $${m[1]} but ${params.length} parameters were given`);
    chunks.push(sql`${params[i]}`);
    last = m.index + m[0].length;
  }
  chunks.push(sql.raw(text.slice(last)));
  return sql.join(chunks);
}

export function isPgQueryable(db: unknown): db is PgQueryable {
  return typeof (db as PgQueryable)?.query === 'function';
}

/** Wraps a pg client/pool or a drizzle db/transaction as an {@link Executor}. */
export function toExecutor(db: Queryable): Executor {
  if (isPgQueryable(db)) {
    return async <R>(text: string, params: unknown[] = []) => (await db.query(text, params)).rows as R[];
  }
  if (typeof (db as DrizzleExecutable)?.execute === 'function') {
    return async <R>(text: string, params: unknown[] = []) => {
      const res = await (db as DrizzleExecutable).execute(toDrizzleSql(text, params));
      return (Array.isArray(res) ? res : ((res as { rows?: unknown[] }).rows ?? [])) as R[];
    };
  }
  throw new TypeError('Expected a pg Client/Pool/PoolClient or a drizzle database/transaction');
}

/** Quotes a schema name that {@link assertSchemaName} has accepted. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
