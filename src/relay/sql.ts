import { createHash } from 'node:crypto';
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

const names = new Map<string, string>();

/**
 * A named (server-side prepared) statement for one of the relay's hot queries: parsed and
 * planned once per connection instead of on every call (the claim's plan alone cost about
 * as much as running it). Safe because the relay's connections are sessions of their own
 * (a transaction pooler, where prepared statements do not survive, is refused at start).
 * The name is derived from the text, so the same text (schema included) always has the same name.
 */
export function prepared(text: string, values: unknown[]): { name: string; text: string; values: unknown[] } {
  let name = names.get(text);
  if (name === undefined) {
    name = `lakehouse_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, name);
  }
  return { name, text, values };
}
