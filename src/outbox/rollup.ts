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

/**
 * The statement that deletes the batch `doomed` selects (a CTE of positions the caller
 * defines) and adds what it deleted to `delivered_rollup`, in one statement, so a crash
 * leaves both or neither. Concurrent prunes are safe: a row already deleted by another one is
 * not returned by this DELETE, so it is counted once, and the upsert serializes on the key.
 */
export function deleteAndRollUpSql(schema: string, spec: RollupSpec, doomed: string): string {
  const s = ident(schema);
  const keep = spec.keep ?? 'true';
  const sums = spec.moneyFields
    .map((f) => `${lit(f)}, COALESCE(SUM((e.payload->>${lit(f)})::numeric) FILTER (WHERE ${keep}), 0)::text`)
    .join(', ');
  return `WITH doomed AS (${doomed}),
del AS (
  DELETE FROM ${s}.events ev WHERE ev.position IN (SELECT position FROM doomed)
  RETURNING ev.stream, ev.tenant_id, ev.partition_key, ev.payload
),
grouped AS (
  SELECT e.stream, e.tenant_id, (((e.payload->>${lit(spec.timeField)})::timestamptz) AT TIME ZONE 'UTC')::date AS day,
         COUNT(*) AS delivered, COUNT(*) FILTER (WHERE ${keep}) AS expected,
         jsonb_build_object(${sums}) AS sums, MAX(l.last_delivered_at) AS last_delivered_at
    FROM del e
    LEFT JOIN ${s}.lanes l
      ON l.stream = e.stream AND l.lane = ${s}.lane_of(e.partition_key, (SELECT lane_count FROM ${s}.settings))
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
