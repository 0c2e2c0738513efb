import type { Catalog } from '../domain/defineCatalog.js';
import { LakehouseError } from '../errors.js';
import type { PgQueryable } from '../outbox/executor.js';
import type { PipelineDefinition } from '../pipelines/types.js';
import { filterInPostgres, lakeGroupsSql, moneyFields, outboxGroupsSql } from './reconcileSql.js';
import type { SqlExecutor } from './runReport.js';
import type { LakeTables } from './versionTables.js';

/** Options of {@link reconcile}. */
export interface ReconcileOptions {
  /** PostgreSQL of the outbox. */
  db: PgQueryable;
  /** Outbox schema. */
  schema: string;
  /** Runs SQL on the lake (the local `/sql`, or Basin SQL). */
  lake: SqlExecutor;
  /** The pipelines whose tables are compared. */
  pipelines: PipelineDefinition[];
  /** The catalog of their streams (time and money fields). Default: the default catalog. */
  catalog?: Catalog;
  /**
   * A group short of events whose tenant delivered within this many seconds is "not yet
   * visible" (the sink has not rolled a file yet), not "missing". Default 600.
   */
  settleSeconds?: number;
  /** Duplicated events (at-least-once resends) do not fail the check. Default false. */
  allowDuplicates?: boolean;
  /** Version tables of streams with several versions, read together (see `readAcrossVersions`). */
  tables?: LakeTables;
  /** Current time (tests). */
  now?: Date;
}

export type GroupStatus = 'ok' | 'missing' | 'not_yet_visible' | 'extra' | 'duplicated' | 'mismatch';

/** One (table, tenant, UTC day) group whose lake content differs from what was delivered. */
export interface ReconcileGroup {
  table: string;
  tenant_id: string;
  day: string;
  status: GroupStatus;
  /** Events the outbox delivered. */
  delivered: number;
  /** Of those, events the pipeline's filter drops (never reach the table). */
  filtered: number;
  /** Distinct events in the lake, and rows (more rows than events: duplicates). */
  lakeEvents: number;
  lakeRows: number;
  /** Money sums over the expected events and over the lake's distinct events. */
  sums: Record<string, { outbox: string; lake: string }>;
}

export interface ReconcileResult {
  /** True when the lake holds every delivered event exactly (duplicates allowed if asked). */
  ok: boolean;
  /** Groups compared, and how many matched. */
  groups: number;
  matched: number;
  /** Every group that did not match, worst first. */
  problems: ReconcileGroup[];
  /** Tables whose filter could not be translated: their expected counts include filtered events. */
  uncheckedFilters: string[];
  /** Per table: events delivered, dropped by the pipeline's filter, and in the lake (distinct, rows). */
  tables: { table: string; delivered: number; filtered: number; lakeEvents: number; lakeRows: number }[];
}

/** Decimal text without trailing zeros, so `12.5000` and `12.5` compare equal. */
const canon = (v: unknown) => {
  const s = String(v ?? '0');
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
};

const ORDER: GroupStatus[] = ['missing', 'extra', 'mismatch', 'not_yet_visible', 'duplicated', 'ok'];

/**
 * Compares what the outbox delivered (per table, tenant and UTC day of the stream's time
 * field: events, and money sums) with what the lake holds (rows, distinct `event_id`s,
 * sums over distinct events). Groups short of events are `missing`, or `not_yet_visible`
 * when their tenant delivered within the settle window; more distinct events than delivered
 * is `extra`; equal counts with different sums `mismatch`; more rows than events
 * `duplicated` (allowed with `allowDuplicates`).
 */
export async function reconcile(o: ReconcileOptions): Promise<ReconcileResult> {
  const now = (o.now ?? new Date()).getTime();
  const settleMs = (o.settleSeconds ?? 600) * 1000;
  const problems: ReconcileGroup[] = [];
  const uncheckedFilters: string[] = [];
  const tables: ReconcileResult['tables'] = [];
  let groups = 0;
  for (const def of o.pipelines) {
    const table = `${def.destination.namespace}.${def.destination.table}`;
    if (filterInPostgres(def) === null) uncheckedFilters.push(table);
    const money = moneyFields(def.stream, o.catalog);
    const outbox = (await o.db.query(outboxGroupsSql(o.schema, def, o.catalog), [def.stream])).rows as Record<
      string,
      unknown
    >[];
    const lake = (await o.lake(lakeGroupsSql(def, o.tables, o.catalog), {})).rows;
    const key = (r: Record<string, unknown>) => JSON.stringify([String(r.tenant_id), String(r.day)]);
    const lakeByKey = new Map(lake.map((r) => [key(r), r]));
    const keys = new Set([...outbox.map(key), ...lakeByKey.keys()]);
    const outboxByKey = new Map(outbox.map((r) => [key(r), r]));
    const total = (rows: Record<string, unknown>[], f: string) =>
      rows.reduce((n, r) => n + Number(r[f] ?? 0), 0);
    tables.push({
      table,
      delivered: total(outbox, 'delivered'),
      filtered: total(outbox, 'delivered') - total(outbox, 'expected'),
      lakeEvents: total(lake, 'lake_events'),
      lakeRows: total(lake, 'lake_rows'),
    });
    for (const k of keys) {
      groups++;
      const ob = outboxByKey.get(k);
      const lk = lakeByKey.get(k);
      const [tenant, day] = JSON.parse(k) as [string, string];
      const delivered = Number(ob?.delivered ?? 0);
      const expected = Number(ob?.expected ?? 0);
      const lakeEvents = Number(lk?.lake_events ?? 0);
      const lakeRows = Number(lk?.lake_rows ?? 0);
      const sums = Object.fromEntries(
        money.map((f) => [f, { outbox: canon(ob?.[`sum_${f}`]), lake: canon(lk?.[`sum_${f}`]) }]),
      );
      let status: GroupStatus = 'ok';
      if (lakeEvents < expected) {
        const last = ob?.last_delivered_at ? new Date(String(ob.last_delivered_at)).getTime() : 0;
        status = now - last < settleMs ? 'not_yet_visible' : 'missing';
      } else if (lakeEvents > expected) status = 'extra';
      else if (Object.values(sums).some((x) => x.outbox !== x.lake)) status = 'mismatch';
      else if (lakeRows > lakeEvents) status = 'duplicated';
      if (status === 'ok') continue;
      problems.push({
        table,
        tenant_id: tenant,
        day,
        status,
        delivered,
        filtered: delivered - expected,
        lakeEvents,
        lakeRows,
        sums,
      });
    }
  }
  problems.sort(
    (a, b) =>
      ORDER.indexOf(a.status) - ORDER.indexOf(b.status) ||
      a.table.localeCompare(b.table) ||
      a.day.localeCompare(b.day),
  );
  const failing = problems.filter((p) => !(p.status === 'duplicated' && o.allowDuplicates));
  return {
    ok: failing.length === 0,
    groups,
    matched: groups - problems.length,
    problems,
    uncheckedFilters,
    tables,
  };
}

/** A {@link SqlExecutor} over a local platform's `POST /sql`. */
export function httpSqlExecutor(baseUrl: string): SqlExecutor {
  return async (sql, options) => {
    const url = `${baseUrl.replace(/\/$/, '')}/sql`;
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        // The platform asks for its access token on /sql whenever one is set.
        ...(process.env.LAKEHOUSE_DASHBOARD_TOKEN
          ? { authorization: `Bearer ${process.env.LAKEHOUSE_DASHBOARD_TOKEN}` }
          : {}),
      },
      body: JSON.stringify(
        options.tenant === undefined ? { query: sql } : { query: sql, tenant: options.tenant },
      ),
      signal: AbortSignal.timeout(300_000),
    }).catch((e: unknown) => {
      throw new LakehouseError(
        'NOT_FOUND',
        `cannot reach the lake's SQL at ${url} (${String((e as Error)?.cause ?? e)}); is lakehouse serve running? (--url)`,
      );
    });
    const body = (await res.json().catch(() => undefined)) as
      | {
          success?: boolean;
          errors?: { message: string }[];
          result?: { schema: { name: string }[]; rows: Record<string, unknown>[] };
        }
      | undefined;
    if (!res.ok || !body?.success || !body.result) {
      throw new LakehouseError(
        'NOT_FOUND',
        `the lake's SQL at ${url} failed (HTTP ${res.status}): ${body?.errors?.[0]?.message ?? 'no answer'}`,
      );
    }
    return { columns: body.result.schema.map((c) => c.name), rows: body.result.rows };
  };
}
