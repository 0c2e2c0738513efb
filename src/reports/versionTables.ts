import type { PipelineDefinition } from '../pipelines/types.js';
import type { SqlExecutor } from './runReport.js';

/** One version's Iceberg table of a lake stream (`lakehouse.orders_v2`) and its columns. */
export interface VersionTable {
  table: string;
  columns: readonly string[];
}

/**
 * Per base table (`lakehouse.orders`): the tables of every version of its stream, oldest
 * first. A base table with one version (or none listed) is read as itself.
 */
export type LakeTables = Readonly<Record<string, readonly VersionTable[]>>;

const PLAIN = /^[a-z_][a-z0-9_]*$/;
const column = (c: string) => (PLAIN.test(c) ? c : `"${c.replaceAll('"', '""')}"`);

/** The qualified base table of a pipeline (version 1): `lakehouse.orders`. */
export const baseTable = (def: PipelineDefinition): string =>
  `${def.destination.namespace}.${def.destination.table}`;

/**
 * What a report or reconcile reads in place of `base`: the table itself (or its stream's
 * only readable version table), or, when its stream has several versions, `(SELECT ... UNION ALL SELECT ...) AS <table>` over every version's
 * table with the union of their columns, a column a version lacks read as NULL. Rows are
 * not deduplicated here: every query folds duplicates itself (by `order_id` / `event_id`), which
 * also folds an event present in two versions. Written in the dialect shared with Basin SQL.
 */
export function readAcrossVersions(base: string, tables?: LakeTables): string {
  const versions = tables?.[base];
  if (!versions || versions.length === 0) return base;
  if (versions.length === 1) return versions[0]!.table;
  const all: string[] = [];
  for (const v of [...versions].reverse()) for (const c of v.columns) if (!all.includes(c)) all.push(c);
  const selects = versions.map(
    (v) =>
      `SELECT ${all.map((c) => (v.columns.includes(c) ? column(c) : `NULL AS ${column(c)}`)).join(', ')} FROM ${v.table}`,
  );
  const alias = base.slice(base.lastIndexOf('.') + 1);
  return `(${selects.join('\n  UNION ALL ')}) AS ${alias}`;
}

/**
 * The versions of `def` among table names of its namespace: `orders` is 1, `orders_v3` is 3
 * (the names `pipelines apply --new-version` gives, see `versionNames`).
 */
export function versionsInTableNames(def: PipelineDefinition, names: readonly string[]): number[] {
  const pattern = new RegExp(`^${def.destination.table}(?:_v(\\d+))?$`);
  const out = new Set<number>();
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m) continue;
    const v = m[1] === undefined ? 1 : Number(m[1]);
    if (Number.isInteger(v) && v >= 1 && (m[1] === undefined || v > 1)) out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * Reads the columns of the version tables of each base table that has more than one (one
 * `SELECT * ... LIMIT 1` each through `execute`, so the same code serves the local engine and
 * Basin SQL). `optional` tables (a retired version's, which may never have been written) are
 * left out when they cannot be read, and returned in `skipped`.
 */
export async function describeVersions(
  tables: Readonly<Record<string, readonly string[]>>,
  execute: SqlExecutor,
  optional: ReadonlySet<string> = new Set(),
): Promise<{ tables: LakeTables; skipped: string[] }> {
  const out: Record<string, VersionTable[]> = {};
  const skipped: string[] = [];
  for (const [base, names] of Object.entries(tables)) {
    if (names.length < 2) continue;
    const found: VersionTable[] = [];
    for (const table of names) {
      try {
        const r = await execute(`SELECT * FROM ${table} LIMIT 1`, {});
        found.push({ table, columns: r.columns });
      } catch (e) {
        if (!optional.has(table)) throw e;
        skipped.push(table);
      }
    }
    out[base] = found;
  }
  return { tables: out, skipped };
}
