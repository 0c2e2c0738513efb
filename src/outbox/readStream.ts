import type { StreamName } from '../domain/catalog.js';
import type { EventEnvelope } from '../domain/envelope.js';
import { type Executor, ident } from './executor.js';

/** An event of an aggregate stream, with its version. */
export type StoredEvent = EventEnvelope & { version: number; position: number };

/** Reads an aggregate's events in version order (from `fromVersion`, exclusive). */
export async function readStream(
  exec: Executor,
  schema: string,
  aggregate: { type: string; id: string },
  fromVersion = 0,
): Promise<StoredEvent[]> {
  const rows = await exec<{
    event_id: string;
    stream: StreamName;
    event_type: string;
    tenant_id: string;
    partition_key: string;
    occurred_at: Date;
    schema_version: number;
    metadata: EventEnvelope['metadata'];
    payload: EventEnvelope['data'];
    aggregate_version: number;
    position: string;
  }>(
    `SELECT event_id::text, stream, event_type, tenant_id, partition_key, occurred_at, schema_version,
            metadata, payload, aggregate_version, position
       FROM ${ident(schema)}.events
      WHERE aggregate_type = $1 AND aggregate_id = $2 AND aggregate_version > $3
      ORDER BY aggregate_version`,
    [aggregate.type, aggregate.id, fromVersion],
  );
  return rows.map((r) => ({
    event_id: r.event_id,
    stream: r.stream,
    event_type: r.event_type,
    tenant_id: r.tenant_id,
    partition_key: r.partition_key,
    occurred_at: new Date(r.occurred_at).toISOString(),
    schema_version: r.schema_version,
    metadata: r.metadata,
    data: r.payload,
    aggregate,
    version: r.aggregate_version,
    position: Number(r.position),
  }));
}
