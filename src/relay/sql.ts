import type pg from 'pg';
import { ident } from '../outbox/executor.js';

/** A connection the relay's operations run on: the one holding the lane lock. */
export type Conn = Pick<pg.PoolClient, 'query'>;

/** Quoted schema name (validated by `assertSchemaName` when options are resolved). */
export const q = (schema: string) => ident(schema);

/** A stream partition: the unit of ordered delivery. */
export interface Partition {
  stream: string;
  partitionKey: string;
}

/**
 * A lane of a stream: the unit that is locked and drained. Each partition key hashes into
 * one lane for good (see `laneOf`), so one batch in flight per lane keeps each partition
 * in order while one request carries many partitions.
 */
export interface Lane {
  stream: string;
  lane: number;
}

export const partitionName = (p: Partition) => `${p.stream}/${p.partitionKey}`;
export const laneName = (l: Lane) => `${l.stream}#${l.lane}`;
