import { runQuery } from '../lakehouse/query.js';
import { type ReportName, type ReportParams, reportSql } from './reports.js';
import type { LakeTables } from './versionTables.js';

/** Runs one SQL statement somewhere (the local lake, Basin SQL) and returns its rows. */
export type SqlExecutor = (
  sql: string,
  options: { tenant?: string },
) => Promise<{ columns: string[]; rows: Record<string, unknown>[] }>;

/** The answer of a report. */
export interface ReportResult {
  name: ReportName;
  title: string;
  sql: string;
  columns: string[];
  rows: Record<string, unknown>[];
}

/** Runs a report's SQL against the local warehouse (tenant-scoped when `tenant` is given). */
export function localExecutor(warehouse: string): SqlExecutor {
  return async (sql, options) => {
    const r = await runQuery(warehouse, sql, options.tenant !== undefined ? { tenant: options.tenant } : {});
    return { columns: r.schema.map((c) => c.name), rows: r.rows };
  };
}

/**
 * Runs a named report through `execute`. The same SQL text is what Basin SQL would run;
 * locally, a `tenant` also scopes the query so no other tenant's rows are visible. `tables`
 * lists the version tables of streams with several versions (read together).
 */
export async function runReport(
  name: string,
  params: ReportParams,
  execute: SqlExecutor,
  tables?: LakeTables,
): Promise<ReportResult> {
  const { definition, params: resolved, sql } = reportSql(name, params, tables);
  const r = await execute(sql, { tenant: params.tenant });
  return { name: definition.name, title: definition.title(resolved), sql, columns: r.columns, rows: r.rows };
}
