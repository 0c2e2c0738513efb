import { ident } from './executor.js';

/**
 * How `prune` rolls up the delivered events of one stream before deleting them: the UTC day
 * of `timeField` (of the payload) is the group's day, `moneyFields` are summed exactly over
 * the events `keep` accepts, and `keep` (a PostgreSQL condition on the payload, alias `e`,
 * e.g. `(e.payload->>'total_amount')::numeric > 0`) counts the events the stream's pipeline
 * lets reach the lake. These are the groups and figures `reconcile` compares.
 */
export interface RollupSpec {
  stream: string;
  timeField: string;
  moneyFields: readonly string[];
  /** Trusted SQL built from a pipeline definition, never from user input. Default: every event. */
  keep?: string;
}

const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** `CASE e.stream WHEN 'a' THEN <of a> ... ELSE <otherwise> END` over the specs. */
const perStream = (specs: readonly RollupSpec[], of: (s: RollupSpec) => string, otherwise: string) =>
  `CASE e.stream ${specs.map((s) => `WHEN ${lit(s.stream)} THEN ${of(s)}`).join(' ')} ELSE ${otherwise} END`;

/**
 * The statement that deletes the batch `doomed` selects (a SELECT of positions) and adds
 * what it deleted of the streams in `specs` to `delivered_rollup`, in one statement, so a
 * crash leaves both or neither; events of other streams are deleted without a rollup.
 * Concurrent prunes are safe: a row already deleted by another one is not returned by this
 * DELETE, so it is counted once, and the upsert serializes on the key. Returns `n`, the
 * number of events deleted.
 */
export function deleteAndRollUpSql(schema: string, specs: readonly RollupSpec[], doomed: string): string {
  const s = ident(schema);
  if (specs.length === 0) {
    return `WITH doomed AS (${doomed}),
del AS (DELETE FROM ${s}.events WHERE position IN (SELECT position FROM doomed) RETURNING 1)
SELECT count(*) AS n FROM del`;
  }
  const keep = perStream(specs, (x) => `(${x.keep ?? 'true'})`, 'true');
  const time = perStream(specs, (x) => `e.payload->>${lit(x.timeField)}`, 'NULL');
  // The stream is a grouping column, so each branch aggregates only its own stream's events.
  const sums = perStream(
    specs,
    (x) =>
      `jsonb_build_object(${x.moneyFields
        .map(
          (f) => `${lit(f)}, COALESCE(SUM((e.payload->>${lit(f)})::numeric) FILTER (WHERE ${keep}), 0)::text`,
        )
        .join(', ')})`,
    "'{}'::jsonb",
  );
  return `WITH doomed AS (${doomed}),
del AS (
  DELETE FROM ${s}.events ev WHERE ev.position IN (SELECT position FROM doomed)
  RETURNING ev.stream, ev.tenant_id, ev.partition_key, ev.payload
),
grouped AS (
  SELECT e.stream, e.tenant_id, (((${time})::timestamptz) AT TIME ZONE 'UTC')::date AS day,
         COUNT(*) AS delivered, COUNT(*) FILTER (WHERE ${keep}) AS expected,
         ${sums} AS sums, MAX(l.last_delivered_at) AS last_delivered_at
    FROM del e
    LEFT JOIN ${s}.lanes l
      ON l.stream = e.stream AND l.lane = ${s}.lane_of(e.partition_key, (SELECT lane_count FROM ${s}.settings))
   WHERE e.stream IN (${specs.map((x) => lit(x.stream)).join(', ')})
   GROUP BY 1, 2, 3
),
rolled AS (
  INSERT INTO ${s}.delivered_rollup AS r (stream, tenant_id, day, delivered, expected, sums, last_delivered_at)
  SELECT stream, tenant_id, day, delivered, expected, sums, last_delivered_at FROM grouped
  ON CONFLICT (stream, tenant_id, day) DO UPDATE SET
    delivered = r.delivered + excluded.delivered,
    expected = r.expected + excluded.expected,
    sums = COALESCE((SELECT jsonb_object_agg(k, (COALESCE((r.sums->>k)::numeric, 0)
                                                 + COALESCE((excluded.sums->>k)::numeric, 0))::text)
                       FROM (SELECT jsonb_object_keys(r.sums) UNION SELECT jsonb_object_keys(excluded.sums)) AS x(k)),
                    '{}'::jsonb),
    last_delivered_at = GREATEST(r.last_delivered_at, excluded.last_delivered_at),
    updated_at = now()
)
SELECT count(*) AS n FROM del`;
}
