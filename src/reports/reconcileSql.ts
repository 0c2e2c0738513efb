import { defaultCatalog } from '../domain/defaultCatalog.js';
import type { Catalog } from '../domain/defineCatalog.js';
import type { LakeStream } from '../domain/defineStream.js';
import { LakehouseError } from '../errors.js';
import { ident } from '../outbox/executor.js';
import type { RollupSpec } from '../outbox/rollup.js';
import { transformFilter } from '../pipelines/transformFilter.js';
import type { PipelineDefinition } from '../pipelines/types.js';
import { sqlLiteral } from './reports.js';
import { baseTable, type LakeTables, readAcrossVersions } from './versionTables.js';

/** The catalog's definition of a stream; `NOT_FOUND` naming the catalog's streams when it has none. */
function streamOf(stream: string, catalog: Catalog): LakeStream {
  const s = catalog.get(stream);
  if (!s) {
    throw new LakehouseError(
      'NOT_FOUND',
      `stream "${stream}" is not in the catalog (${catalog.names.join(', ')})`,
    );
  }
  return s;
}

/** The time field of a catalog's stream (its UTC day is a group's day). */
const timeFieldOf = (stream: string, catalog: Catalog) => streamOf(stream, catalog).timeField;

/**
 * The money fields of a catalog's stream (summed on both sides): the fields whose lake
 * column is a decimal, which only a `money()` field gives, in schema order.
 */
export function moneyFields(stream: string, catalog: Catalog = defaultCatalog): string[] {
  return Object.entries(streamOf(stream, catalog).columns)
    .filter(([, col]) => col.type.startsWith('decimal'))
    .map(([name]) => name);
}

const SIMPLE_FILTER = /^event\.([a-z_][a-z0-9_]*)\s*(>=|<=|<>|!=|=|>|<)\s*(-?\d+(?:\.\d+)?)$/i;

/**
 * The pipeline's filter as a PostgreSQL condition on the outbox payload, when it is a
 * simple comparison of a field with a number (`event.total_amount > 0`); `undefined` when
 * the pipeline keeps everything; `null` when the filter is too complex to translate (the
 * expected counts then include records the transform may have dropped).
 */
export function filterInPostgres(def: PipelineDefinition): string | undefined | null {
  const f = transformFilter(def);
  if (f === undefined) return undefined;
  const m = SIMPLE_FILTER.exec(f);
  if (!m) return null;
  return `(e.payload->>${sqlLiteral(m[1]!)})::numeric ${m[2] === '!=' ? '<>' : m[2]} ${m[3]}`;
}

/**
 * What the outbox delivered for one stream, per tenant and UTC day of the stream's time
 * field: events, events the pipeline's filter keeps, money sums over the events it keeps,
 * and when the tenant's lane last delivered (a lane carries many tenants, so this is the
 * latest moment the tenant can have delivered: "not yet visible" errs on the side of
 * waiting). Delivered = the events `prune` rolled up into `delivered_rollup`, plus the
 * stored events in neither `pending` nor `parked`; one statement reads both, and prune
 * moves events from one to the other in one statement, so nothing is counted twice or
 * missed. Time and money fields are the stream's in `catalog`. Parameter: $1 the stream.
 */
export function outboxGroupsSql(
  schema: string,
  def: PipelineDefinition,
  catalog: Catalog = defaultCatalog,
): string {
  const s = ident(schema);
  const time = sqlLiteral(timeFieldOf(def.stream, catalog));
  const keep = filterInPostgres(def) ?? 'true';
  const money = moneyFields(def.stream, catalog);
  const liveSums = money.map(
    (f) =>
      `, COALESCE(SUM((e.payload->>${sqlLiteral(f)})::numeric) FILTER (WHERE ${keep}), 0) AS ${ident(`sum_${f}`)}`,
  );
  const rolledSums = money.map((f) => `, COALESCE((r.sums->>${sqlLiteral(f)})::numeric, 0)`);
  const totals = money.map((f) => `, SUM(${ident(`sum_${f}`)})::text AS ${ident(`sum_${f}`)}`);
  return `WITH live AS (
  SELECT e.tenant_id, (((e.payload->>${time})::timestamptz) AT TIME ZONE 'UTC')::date AS day,
         COUNT(*) AS delivered, COUNT(*) FILTER (WHERE ${keep}) AS expected,
         MAX(l.last_delivered_at) AS last_delivered_at${liveSums.join('')}
    FROM ${s}.events e
    LEFT JOIN ${s}.lanes l
      ON l.stream = e.stream AND l.lane = ${s}.lane_of(e.partition_key, (SELECT lane_count FROM ${s}.settings))
   WHERE e.stream = $1
     AND NOT EXISTS (SELECT 1 FROM ${s}.pending x
                      WHERE x.stream = e.stream AND x.partition_key = e.partition_key AND x.position = e.position)
     AND NOT EXISTS (SELECT 1 FROM ${s}.parked k WHERE k.position = e.position)
   GROUP BY 1, 2
), groups AS (
  SELECT * FROM live
  UNION ALL
  SELECT r.tenant_id, r.day, r.delivered, r.expected, r.last_delivered_at${rolledSums.join('')}
    FROM ${s}.delivered_rollup r
   WHERE r.stream = $1
)
SELECT tenant_id, day::text AS day, SUM(delivered)::int AS delivered, SUM(expected)::int AS expected,
       MAX(last_delivered_at) AS last_delivered_at${totals.join('')}
  FROM groups
 GROUP BY 1, 2`;
}

/**
 * The {@link RollupSpec} of each pipeline's stream (time and money fields from `catalog`):
 * what prune keeps for {@link outboxGroupsSql}.
 */
export function rollupSpecs(
  defs: readonly PipelineDefinition[],
  catalog: Catalog = defaultCatalog,
): RollupSpec[] {
  return defs.map((def) => {
    const keep = filterInPostgres(def);
    return {
      stream: def.stream,
      timeField: timeFieldOf(def.stream, catalog),
      moneyFields: moneyFields(def.stream, catalog),
      ...(keep ? { keep } : {}),
    };
  });
}

/** {@link rollupSpecs} of the pipelines of a catalog's streams (prune's default). */
export async function catalogRollupSpecs(catalog: Catalog = defaultCatalog): Promise<RollupSpec[]> {
  return rollupSpecs((await import('../pipelines/catalogPipelines.js')).pipelinesOf(catalog), catalog);
}

/**
 * What the lake holds for one table, per tenant and UTC day: rows, distinct events, and
 * money sums over distinct events (duplicates folded by `event_id` first). Written in the
 * dialect shared with Basin SQL; sums as text so no precision is lost on the way. With
 * `tables`, a stream with several versions is read across its version tables. Time and
 * money fields are the stream's in `catalog`.
 */
export function lakeGroupsSql(
  def: PipelineDefinition,
  tables?: LakeTables,
  catalog: Catalog = defaultCatalog,
): string {
  const table = readAcrossVersions(baseTable(def), tables);
  const time = timeFieldOf(def.stream, catalog);
  const money = moneyFields(def.stream, catalog);
  return `WITH by_event AS (
  SELECT event_id, MAX(tenant_id) AS tenant_id, MAX(CAST(${time} AS DATE)) AS day, COUNT(*) AS copies${money
    .map((f) => `, MAX(${f}) AS ${f}`)
    .join('')}
  FROM ${table}
  GROUP BY event_id
)
SELECT tenant_id, CAST(day AS VARCHAR) AS day, SUM(copies) AS lake_rows, COUNT(*) AS lake_events${money
    .map((f) => `, CAST(COALESCE(SUM(${f}), 0) AS VARCHAR) AS sum_${f}`)
    .join('')}
FROM by_event
GROUP BY tenant_id, day`;
}
