import { access } from 'node:fs/promises';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { tenantId as tenantIdSchema } from '../domain/fields.js';
import { analyzeParseTree, mayMatch, type TableReference } from './analyzeSql.js';
import { fromFileUri } from './paths.js';
import { cachedLiveDataFiles } from './snapshotCache.js';
import { currentFields } from './tableMetadata.js';
import { duckTypeOf, sqlIdent, sqlString } from './tableSchema.js';
import type { IcebergField, LiveDataFile, TableMetadata } from './types.js';
import { allTables } from './warehouseCatalog.js';

export interface QueryOptions {
  /** Only this tenant's rows are visible, whatever the SQL says. Must be a tenant id when given. */
  tenant?: string;
  /** A result with more rows fails with `TOO_MANY_ROWS`. Default: no limit. */
  maxRows?: number;
  /** DuckDB's memory limit in MiB; a query needing more fails. Default: DuckDB's (80% of RAM). */
  memoryLimitMb?: number;
}

/** The answer of a query, shaped like R2 SQL's. */
export interface QueryResult {
  schema: { name: string; type: string }[];
  rows: Record<string, unknown>[];
  metrics: { files_scanned: number; files_total: number; bytes_scanned: number };
  /** Per table: which files were read and why. */
  plan: {
    table: string;
    snapshotId: number;
    filesScanned: number;
    filesTotal: number;
    predicates: string[];
  }[];
}

export class QueryError extends Error {
  readonly code: 'REJECTED' | 'INVALID' | 'TOO_MANY_ROWS' | 'TIMEOUT' | 'CANCELLED' | 'FAILED';
  constructor(code: QueryError['code'], message: string) {
    super(message);
    this.name = 'QueryError';
    this.code = code;
  }
}

function jsonValue(v: unknown, type: string): unknown {
  if (v === null || v === undefined) return null;
  if (
    /^(DECIMAL|BIGINT|HUGEINT|UBIGINT|UHUGEINT|INTEGER|SMALLINT|TINYINT|UINTEGER|USMALLINT|UTINYINT|DOUBLE|FLOAT)/.test(
      type,
    )
  ) {
    const n = Number(v);
    return Number.isFinite(n) && (!/INT/.test(type) || Number.isSafeInteger(n)) ? n : String(v);
  }
  if (type === 'TIMESTAMP WITH TIME ZONE' && typeof v === 'string') {
    const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d)(?::?(\d\d))?$/.exec(v);
    if (m) return new Date(`${m[1]}T${m[2]}${m[3]}:${m[4] ?? '00'}`).toISOString();
  }
  return v;
}

/**
 * The select list of a table's current schema over its files. A column added by schema
 * evolution is missing from files written before it: per the Iceberg spec it reads as
 * null there, so a column none of the files has becomes a typed NULL.
 */
/**
 * The select list and FROM clause over a table's data files. A table whose schema never
 * changed has every current column in every file, so DuckDB reads the files as they are
 * (one footer at bind time). After a schema change, older files lack the new columns:
 * `union_by_name` aligns them by name (it reads every file's footer to bind, which costs
 * about as much as the scan on many small files, so it is only used then) and the missing
 * ones read as typed NULLs.
 */
async function scanOf(
  conn: DuckDBConnection,
  md: TableMetadata,
  paths: string[],
  fields: IcebergField[],
): Promise<string> {
  const list = `[${paths.map(sqlString).join(', ')}]`;
  if (md.schemas.length <= 1) {
    return `${fields.map((f) => sqlIdent(f.name)).join(', ')} FROM read_parquet(${list}, hive_partitioning = false)`;
  }
  const files = `read_parquet(${list}, union_by_name = true, hive_partitioning = false)`;
  return `${await columnsOver(conn, files, fields)} FROM ${files}`;
}

async function columnsOver(conn: DuckDBConnection, files: string, fields: IcebergField[]): Promise<string> {
  const reader = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${files}`);
  const present = new Set(reader.getRowObjectsJson().map((r) => String(r.column_name)));
  return fields
    .map((f) =>
      present.has(f.name) ? sqlIdent(f.name) : `CAST(NULL AS ${duckTypeOf(f.type)}) AS ${sqlIdent(f.name)}`,
    )
    .join(', ');
}

/**
 * Runs one read-only SELECT over the warehouse's current snapshots. Each query gets a
 * fresh in-memory DuckDB in which every lake table is a view over exactly the data files
 * the query may need (from the manifests, pruned by partition values; for a tenant, only
 * that tenant's files and rows). Then file access is restricted to those files, external
 * access is switched off and the configuration locked, and only then the user's SQL runs:
 * it cannot read other files, other tenants' rows, or change the setup, whatever it says.
 */
export async function runQuery(
  warehouse: string,
  sql: string,
  options: QueryOptions = {},
): Promise<QueryResult> {
  // Strict scoping: a tenant option that is present is a tenant id, never "all tenants".
  if ('tenant' in options && !tenantIdSchema().safeParse(options.tenant).success) {
    throw new QueryError(
      'INVALID',
      `invalid tenant ${JSON.stringify(options.tenant) ?? 'undefined'}: a tenant id is a non-empty string of letters, digits, _ . : -`,
    );
  }
  if (typeof sql !== 'string' || sql.trim() === '') throw new QueryError('INVALID', 'the query is empty');
  if (sql.includes('\0')) throw new QueryError('INVALID', 'the query contains a NUL character');
  const duck = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    ...(options.memoryLimitMb ? { memory_limit: `${options.memoryLimitMb}MiB` } : {}),
  });
  const conn = await duck.connect();
  try {
    let parsed: Awaited<ReturnType<typeof conn.runAndReadAll>>;
    try {
      parsed = await conn.runAndReadAll(`SELECT json_serialize_sql(${sqlString(sql)}) AS j`);
    } catch (e) {
      throw new QueryError('INVALID', (e as Error).message);
    }
    const analysis = analyzeParseTree(String(parsed.getRows()[0]![0]));
    if (!analysis.ok) throw new QueryError('REJECTED', analysis.message);

    const tables = await allTables(warehouse);
    const allowed: string[] = [];
    const namespaces = new Set<string>(['main', 'temp']);
    const plan: QueryResult['plan'] = [];
    let filesScanned = 0;
    let filesTotal = 0;
    let bytesScanned = 0;
    for (const t of tables) {
      const md = t.loaded.metadata;
      const fields = currentFields(md);
      const refs = analysis.references.filter((r) => r.table === t.table.toLowerCase());
      const hasTenant = fields.some((f) => f.name === 'tenant_id');
      if (options.tenant !== undefined && !hasTenant) {
        // A table without tenant_id cannot be scoped to a tenant: it is empty for tenant queries.
        refs.length = 0;
      }
      const { files } = refs.length > 0 ? await cachedLiveDataFiles(md) : { files: [] as LiveDataFile[] };
      const partitionNames = new Set(md['partition-specs'].flatMap((s) => s.fields.map((f) => f.name)));
      const wanted = files.filter((f) => {
        if (
          options.tenant !== undefined &&
          'tenant_id' in f.partition &&
          f.partition.tenant_id !== options.tenant
        ) {
          return false;
        }
        return refs.some((r) => fileMatches(f, r, partitionNames));
      });
      if (refs.length > 0) {
        filesTotal += files.length;
        filesScanned += wanted.length;
        bytesScanned += wanted.reduce((n, f) => n + f.fileSizeInBytes, 0);
        plan.push({
          table: `${t.namespace}.${t.table}`,
          snapshotId: md['current-snapshot-id'],
          filesScanned: wanted.length,
          filesTotal: files.length,
          predicates: [
            ...new Set(
              refs.flatMap((r) =>
                r.predicates
                  .filter((p) => partitionNames.has(p.column))
                  .map((p) => `${p.column} ${p.op} ${JSON.stringify(p.values)}`),
              ),
            ),
            ...(options.tenant !== undefined
              ? [`tenant_id = ${JSON.stringify(options.tenant)} (tenant scope)`]
              : []),
          ],
        });
      }
      const tenantFilter =
        options.tenant !== undefined ? ` WHERE tenant_id = ${sqlString(options.tenant)}` : '';
      let body: string;
      if (wanted.length > 0) {
        const paths = wanted.map((f) => fromFileUri(f.path));
        await assertFilesExist(`${t.namespace}.${t.table}`, wanted, paths);
        allowed.push(...paths);
        body = `SELECT ${await scanOf(conn, md, paths, fields)}${tenantFilter}`;
      } else {
        body = `SELECT ${fields.map((f) => `CAST(NULL AS ${duckTypeOf(f.type)}) AS ${sqlIdent(f.name)}`).join(', ')} WHERE false`;
      }
      await conn.run(`CREATE OR REPLACE TEMP VIEW ${sqlIdent(t.table)} AS ${body}`);
      // `lakehouse.orders` as well as `orders`: Basin SQL requires qualified names, so SQL
      // written for both engines uses them.
      if (!namespaces.has(t.namespace)) {
        namespaces.add(t.namespace);
        await conn.run(`CREATE SCHEMA IF NOT EXISTS ${sqlIdent(t.namespace)}`);
      }
      await conn.run(`CREATE OR REPLACE VIEW ${sqlIdent(t.namespace)}.${sqlIdent(t.table)} AS ${body}`);
    }
    await conn.run(`SET allowed_paths = [${allowed.map(sqlString).join(', ')}]`);
    await conn.run('SET enable_external_access = false');
    await conn.run("SET TimeZone = 'UTC'");
    await conn.run('SET lock_configuration = true');

    let reader: Awaited<ReturnType<typeof conn.runAndReadAll>>;
    try {
      // With a row cap, read only up to it (and one chunk more), never the whole result.
      reader =
        options.maxRows !== undefined
          ? await conn.streamAndReadUntil(sql, options.maxRows + 1)
          : await conn.runAndReadAll(sql);
    } catch (e) {
      const message = (e as Error).message;
      if (/^Out of Memory Error/.test(message)) {
        throw new QueryError(
          'INVALID',
          `the query needs more than its memory limit (${options.memoryLimitMb ?? 'default'} MiB, --query-memory-mb): aggregate more, filter on partition columns or add a LIMIT`,
        );
      }
      throw new QueryError('INVALID', message);
    }
    if (options.maxRows !== undefined && reader.currentRowCount > options.maxRows) {
      throw new QueryError(
        'TOO_MANY_ROWS',
        `the result has more than ${options.maxRows} rows: aggregate, filter or add a LIMIT`,
      );
    }
    const names = reader.columnNames();
    const types = reader.columnTypes().map(String);
    const rows = reader.getRowObjectsJson().map((r) => {
      const o: Record<string, unknown> = {};
      names.forEach((n, i) => {
        o[n] = jsonValue(r[n], types[i]!);
      });
      return o;
    });
    return {
      schema: names.map((name, i) => ({ name, type: types[i]! })),
      rows,
      metrics: { files_scanned: filesScanned, files_total: filesTotal, bytes_scanned: bytesScanned },
      plan,
    };
  } finally {
    conn.closeSync();
    duck.closeSync();
  }
}

/**
 * Fails with a message naming the table, file and partition when a data file the snapshot
 * lists is gone (deleted by hand, a lost disk): the answer would be wrong, not just slow.
 */
async function assertFilesExist(table: string, files: LiveDataFile[], paths: string[]): Promise<void> {
  const missing = (
    await Promise.all(
      paths.map((p, i) =>
        access(p).then(
          () => undefined,
          () => i,
        ),
      ),
    )
  ).filter((i) => i !== undefined);
  if (missing.length === 0) return;
  const f = files[missing[0]!]!;
  const partition = Object.entries(f.partition)
    .map(([k, v]) => `${k}=${v === null ? 'null' : String(v)}`)
    .join(', ');
  throw new QueryError(
    'FAILED',
    `${table}: ${missing.length} data file(s) listed by the current snapshot are missing, e.g. ${paths[missing[0]!]} ` +
      `(partition ${partition}); restore them or remove them from the table`,
  );
}

function fileMatches(f: LiveDataFile, ref: TableReference, partitionNames: Set<string>): boolean {
  return ref.predicates.every(
    (p) => !partitionNames.has(p.column) || mayMatch(f.partition[p.column] ?? null, p),
  );
}

/** A query engine bound to one warehouse: `query(sql)` and `queryTenant(tenant, sql)`. */
export function createQueryEngine(warehouse: string) {
  return {
    query: (sql: string) => runQuery(warehouse, sql),
    queryTenant: (tenantId: string, sql: string) => runQuery(warehouse, sql, { tenant: tenantId }),
  };
}
