import type { Catalog } from '../domain/defineCatalog.js';
import { type Executor, ident } from './executor.js';
import { deleteAndRollUpSql, type RollupSpec } from './rollup.js';

export interface PruneOptions {
  /** Delete delivered events created more than this many seconds ago. */
  olderThanSeconds: number;
  /** Rows deleted per statement (short transactions, little lock time). Default 10,000. */
  batchSize?: number;
  /**
   * Also delete events of event-sourced aggregates. Off by default: those events are the
   * aggregates' source of truth, and `readStream` needs all of them.
   */
  includeAggregates?: boolean;
  /**
   * How to roll up each stream's deleted events into `delivered_rollup` (what `reconcile`
   * still needs after the events are gone). Default: one spec per stream of `catalog`, from
   * its time and money fields and its pipeline's filter. Streams without a spec are deleted
   * without a rollup.
   */
  rollup?: readonly RollupSpec[];
  /** The streams rolled up when `rollup` is not given. Default: the default catalog. */
  catalog?: Catalog;
}

/**
 * The positions of one batch of prunable events: delivered (in neither `pending` nor
 * `parked`), older than `$1` seconds, `$2` at most, and no aggregate's unless `$3`.
 */
function doomedSql(s: string): string {
  return `SELECT ev.position FROM ${s}.events ev
    WHERE ev.created_at < now() - make_interval(secs => $1::float8)
      AND ($3::bool OR ev.aggregate_id IS NULL)
      AND NOT EXISTS (SELECT 1 FROM ${s}.pending p
                       WHERE p.stream = ev.stream AND p.position = ev.position
                         AND p.lane = ${s}.lane_of(ev.partition_key, (SELECT lane_count FROM ${s}.settings)))
      AND NOT EXISTS (SELECT 1 FROM ${s}.parked k WHERE k.position = ev.position)
    ORDER BY ev.position
    LIMIT $2`;
}

async function defaultSpecs(catalog?: Catalog): Promise<readonly RollupSpec[]> {
  // The filters live with the pipeline definitions; loaded only when the caller gave none.
  return (await import('../reports/reconcileSql.js')).catalogRollupSpecs(catalog);
}

/**
 * Deletes delivered events older than a cutoff, in batches. An undelivered event always has
 * a row in `pending` or `parked` (emit inserts both rows in one statement; the relay deletes
 * the pending row only after the sink acknowledged, and moves pending <-> parked in one
 * transaction), and each DELETE checks both under one statement snapshot, so no
 * undelivered event is ever removed, even while the relay runs. The same statement adds
 * what it deleted to `delivered_rollup` (see {@link RollupSpec}).
 */
export async function pruneDelivered(exec: Executor, schema: string, options: PruneOptions): Promise<number> {
  const s = ident(schema);
  const batch = options.batchSize ?? 10_000;
  const specs = options.rollup ?? (await defaultSpecs(options.catalog));
  const text = deleteAndRollUpSql(schema, specs, doomedSql(s));
  const params = [options.olderThanSeconds, batch, options.includeAggregates ?? false];
  let total = 0;
  for (;;) {
    const rows = await exec<{ n: string }>(text, params);
    const n = Number(rows[0]?.n ?? 0);
    total += n;
    if (n < batch) break;
  }
  return total;
}
