import type pg from 'pg';
import type { EventInput } from '../../domain/envelope.js';
import { ident } from '../../outbox/executor.js';
import type { Outbox } from '../../outbox/outbox.js';
import type { PartitionRef } from '../../outbox/rows.js';
import type { Rng } from '../random.js';

/** Options of the simulated Company Manager. */
export interface SimulatorOptions {
  pool: pg.Pool;
  outbox: Outbox;
  /** Schema of the simulated application's own tables. */
  demoSchema: string;
  rng: Rng;
  /** Called after each COMMIT with the partitions that got events (the relay's wake). */
  wake: (partitions: PartitionRef[]) => Promise<void>;
  /** Number of this run of the demo world (1 for the first): keeps order ids unique across runs. */
  run?: number;
}

/** What every simulated operation uses: the pool, the outbox, the random source and the counters. */
export interface SimContext {
  readonly pool: pg.Pool;
  readonly outbox: Outbox;
  readonly rng: Rng;
  /** The application schema, quoted for SQL text. */
  readonly s: string;
  /** Events written so far. */
  emitted: number;
  /** Runs `fn` in one transaction, then wakes the relay for the partitions it returns. */
  tx(fn: (c: pg.PoolClient) => Promise<PartitionRef[]>): Promise<void>;
  /** Emits events through the outbox in the caller's transaction and counts them. */
  emit(c: pg.PoolClient, events: EventInput[]): Promise<PartitionRef[]>;
  /** A new order id, unique across runs of the same world. */
  nextOrderId(tenantId: string): string;
}

export function createSimContext(options: SimulatorOptions): SimContext {
  let orderSeq = 0;
  const run = options.run ?? 1;
  const ctx: SimContext = {
    pool: options.pool,
    outbox: options.outbox,
    rng: options.rng,
    s: ident(options.demoSchema),
    emitted: 0,
    async tx(fn) {
      const client = await ctx.pool.connect();
      let partitions: PartitionRef[];
      try {
        await client.query('BEGIN');
        partitions = await fn(client);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        client.release();
      }
      // Not awaited: a wake only saves latency (the relay's sweep finds the events anyway), and
      // waiting on Redis for every commit would halve the simulated load.
      void options.wake(partitions);
    },
    async emit(c, events) {
      const r = await ctx.outbox.emit(c, ...events);
      ctx.emitted += r.written;
      return r.partitions;
    },
    nextOrderId(tenantId) {
      // The run number keeps ids of a continued world apart from the ones already written.
      const seq = `${run > 1 ? `r${run}.` : ''}${(++orderSeq).toString(36)}`;
      return `ord-${tenantId.slice(0, 8)}-${seq}-${ctx.rng.hex(6)}`;
    },
  };
  return ctx;
}
