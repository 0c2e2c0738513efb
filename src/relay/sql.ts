import type pg from 'pg';
import { ident } from '../outbox/executor.js';

/** A connection the relay's operations run on: the one holding the partition lock. */
export type Conn = Pick<pg.PoolClient, 'query'>;

/** Quoted schema name (validated by `assertSchemaName` when options are resolved). */
export const q = (schema: string) => ident(schema);

/** A stream partition, the unit of ordered delivery. */
export interface Partition {
  stream: string;
  partitionKey: string;
}

export const partitionName = (p: Partition) => `${p.stream}/${p.partitionKey}`;
