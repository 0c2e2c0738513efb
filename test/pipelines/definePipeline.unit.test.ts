import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { STREAM_NAMES } from '../../src/domain/catalog.js';
import { createEvent, toLakeRecord } from '../../src/domain/envelope.js';
import { isLakehouseError } from '../../src/errors.js';
import { definePipeline, loadPipelines, validatePipeline } from '../../src/pipelines/definePipeline.js';
import { ordersPipeline, pipelineFor, pipelines } from '../../src/pipelines/definitions.js';
import { pipelineSql, sinkName } from '../../src/pipelines/plan.js';
import type { PipelineDefinition } from '../../src/pipelines/types.js';
import { order } from '../support/fixtures.js';

const broken = (
  change: Partial<PipelineDefinition>,
  destination?: Partial<PipelineDefinition['destination']>,
) =>
  ({
    ...ordersPipeline,
    ...change,
    destination: { ...ordersPipeline.destination, ...destination },
  }) as PipelineDefinition;

/** The CONFIG error a call throws (sync or async). */
async function configError(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    expect(isLakehouseError(e) && e.code).toBe('CONFIG');
    return (e as Error).message;
  }
  throw new Error('expected a CONFIG error, nothing was thrown');
}

describe('the six definitions', () => {
  it('load: every transform parses, reads only stream fields and produces its partition columns', async () => {
    const loaded = await loadPipelines();
    expect(loaded.map((p) => p.stream).sort()).toEqual([...STREAM_NAMES].sort());
    expect(loaded.map((p) => p.name)).toEqual([
      'orders_events',
      'products_events',
      'activity_events',
      'agents_events',
      'syncs_events',
      'api_events',
    ]);
  });

  it('partition as the plan says', () => {
    const partitions = Object.fromEntries(STREAM_NAMES.map((s) => [s, pipelines[s].destination.partition]));
    expect(partitions).toEqual({
      orders: ['tenant_id', 'year', 'month'],
      product_changes: ['tenant_id', 'year'],
      user_activity: ['tenant_id', 'date'],
      agent_decisions: ['tenant_id', 'agent_type'],
      sync_events: ['tenant_id', 'source'],
      api_calls: ['tenant_id', 'date'],
    });
    expect(pipelineFor('orders')).toBe(ordersPipeline);
  });

  it('derive year and month as INTEGER and date as DATE, keeping event_id and event_type', async () => {
    const orders = await validatePipeline(pipelines.orders);
    const activity = await validatePipeline(pipelines.user_activity);
    const type = (cols: { name: string; type: string }[], n: string) => cols.find((c) => c.name === n)?.type;
    expect([type(orders, 'year'), type(orders, 'month'), type(orders, 'total_amount')]).toEqual([
      'INTEGER',
      'INTEGER',
      'DECIMAL(18,4)',
    ]);
    expect(type(activity, 'date')).toBe('DATE');
    for (const s of STREAM_NAMES) {
      const cols = (await validatePipeline(pipelines[s])).map((c) => c.name);
      expect(cols.slice(0, 2)).toEqual(['event_id', 'event_type']);
    }
  });

  it('give the Cloudflare SQL rows with UTC partition values and drop zero-amount orders', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      await conn.run(`SET TimeZone = 'UTC'`);
      await conn.run(`CREATE TABLE orders (event_id VARCHAR, event_type VARCHAR, order_id VARCHAR, tenant_id VARCHAR,
        site_id VARCHAR, customer_id VARCHAR, total_amount DECIMAL(18,4), currency VARCHAR, status VARCHAR,
        payment_method VARCHAR, item_count BIGINT, created_at TIMESTAMPTZ)`);
      const rows = [
        order('o-1', 't1', { created_at: '2026-01-31T23:30:00-02:00', total_amount: 19.99 }),
        order('o-2', 't1', { total_amount: 0 }),
      ].map((o) => toLakeRecord(createEvent('orders', o)));
      for (const r of rows) {
        const values = Object.values(r).map((v) => (v === null ? null : String(v)));
        await conn.run(`INSERT INTO orders VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})`, values);
      }
      const sink = sinkName(ordersPipeline);
      await conn.run(
        `CREATE TABLE ${sink} AS ${ordersPipeline.transform.replace('FROM source', 'FROM orders')} LIMIT 0`,
      );
      await conn.run(pipelineSql(ordersPipeline));
      const out = (
        await conn.runAndReadAll(`SELECT order_id, year, month, total_amount::VARCHAR AS amount FROM ${sink}`)
      ).getRowObjectsJS();
      // 23:30 at -02:00 on Jan 31 is 01:30 UTC on Feb 1.
      expect(out).toEqual([{ order_id: 'o-1', year: 2026, month: 2, amount: '19.9900' }]);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});

describe('broken definitions are rejected naming the pipeline and the problem', () => {
  it('a name with "-"', async () => {
    const msg = await configError(() => definePipeline(broken({ name: 'orders-events' })));
    expect(msg).toBe(
      'pipeline orders-events: name "orders-events" is not valid for Cloudflare: use letters, digits and _ only',
    );
  });

  it('a table name with "-"', async () => {
    const msg = await configError(() => definePipeline(broken({}, { table: 'order-lines' })));
    expect(msg).toContain('pipeline orders_events: table "order-lines" is not valid for Cloudflare');
  });

  it('a partition column the transform does not produce', async () => {
    const msg = await configError(() =>
      loadPipelines([broken({}, { partition: ['tenant_id', 'year', 'week'] })]),
    );
    expect(msg).toBe('pipeline orders_events: partition column "week" is not produced by the transform');
  });

  it('a transform reading an unknown field', async () => {
    const transform = ordersPipeline.transform.replace('event.currency AS currency', 'event.foo AS currency');
    const msg = await configError(() => validatePipeline(broken({ name: 'x', transform })));
    expect(msg).toMatch(/^pipeline x: transform reads unknown field "foo"/);
  });

  it('a WHERE clause reading an unknown field', async () => {
    const transform = ordersPipeline.transform.replace('event.total_amount > 0', 'event.discount > 0');
    const msg = await configError(() => validatePipeline(broken({ transform })));
    expect(msg).toMatch(/^pipeline orders_events: transform reads unknown field "discount"/);
  });

  it('a SQL syntax error', async () => {
    const transform = 'SELECT event.event_id AS event_id,, event.event_type FROM source AS event';
    const msg = await configError(() => validatePipeline(broken({ transform })));
    expect(msg).toMatch(/^pipeline orders_events: transform SQL does not parse: syntax error at or near ","/);
  });

  it('two statements', async () => {
    const msg = await configError(() =>
      validatePipeline(broken({ transform: `${ordersPipeline.transform}; SELECT 1` })),
    );
    expect(msg).toBe('pipeline orders_events: transform must be one SELECT statement, found 2');
  });

  it('a transform that drops event_id', async () => {
    const transform = ordersPipeline.transform.replace('event.event_id AS event_id,', '');
    const msg = await configError(() => validatePipeline(broken({ transform })));
    expect(msg).toBe(
      'pipeline orders_events: transform must keep column "event_id" (event.event_id AS event_id)',
    );
  });

  it('a transform that reads files', async () => {
    const transform = `SELECT * FROM read_csv('package.json')`;
    const msg = await configError(() => validatePipeline(broken({ transform })));
    expect(msg).toMatch(/^pipeline orders_events: transform does not run over stream orders: .*disabled/);
  });

  it('an unknown stream', async () => {
    const msg = await configError(() => definePipeline(broken({ stream: 'invoices' as never })));
    expect(msg).toMatch(/^pipeline orders_events: unknown stream "invoices"/);
  });

  it('two definitions with one name', async () => {
    const msg = await configError(() => loadPipelines([ordersPipeline, ordersPipeline]));
    expect(msg).toBe('pipeline orders_events: two definitions have this name');
  });
});
