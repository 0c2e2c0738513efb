import {
  DatabaseSetup,
  type GeneralMessageHandler,
  getDisabledLogger,
  initializePollingMessageListener,
  type PollingListenerConfig,
  type TransactionalMessage,
} from 'pg-transactional-outbox';
import { createHttpSink } from '../src/pipelines/httpSink.js';
import {
  type BenchConfig,
  type BenchSink,
  type Figure,
  progress,
  q,
  round,
  sleep,
  withClient,
} from './lib.js';

/**
 * Figure 3: the same drain with `pg-transactional-outbox` 0.5 in polling mode, configured as
 * its README's example (batch size 5, polling every 250 ms, attempts/poison protection off
 * for the outbox), tables/function/indexes from its own `DatabaseSetup`. Its publisher sends
 * one message per request to the same sink. Its run time is capped.
 */
export async function benchPeer(
  cfg: BenchConfig,
  sink: BenchSink,
  schema: string,
  figures: Record<string, Figure>,
): Promise<Record<string, Figure>> {
  const total = cfg.quick ? 100_000 : 1_000_000;
  const capSeconds = cfg.quick ? 30 : 60;
  const s = q(schema);
  const setup = {
    outboxOrInbox: 'outbox' as const,
    database: 'postgres',
    schema,
    table: 'outbox',
    listenerRole: 'postgres',
    nextMessagesName: 'next_outbox_messages',
    nextMessagesSchema: schema,
  };
  progress(`peer: pg-transactional-outbox, prefilling ${total.toLocaleString('en')} messages`);
  await withClient(cfg.databaseUrl, async (c) => {
    await c.query(`CREATE SCHEMA ${s}`);
    await c.query(DatabaseSetup.dropAndCreateTable(setup));
    await c.query(DatabaseSetup.createPollingFunction(setup));
    await c.query(DatabaseSetup.setupPollingIndexes(setup));
    await c.query(
      `INSERT INTO ${s}.outbox (id, aggregate_type, aggregate_id, message_type, segment, concurrency, payload)
       SELECT gen_random_uuid(), 'order', 'o' || g, 'order.recorded', 'tenant-' || (g % 200), 'sequential',
              jsonb_build_object('order_id', 'o' || g, 'tenant_id', 'tenant-' || (g % 200), 'site_id', 's1',
                'customer_id', 'c' || (g % 997), 'total_amount', 10.5, 'currency', 'EUR', 'status', 'placed',
                'payment_method', 'card', 'item_count', 1, 'created_at', '2026-02-01T10:00:00.000Z')
         FROM generate_series(1, $1::int) g`,
      [total],
    );
    await c.query(`VACUUM ANALYZE ${s}.outbox`);
  });
  const http = createHttpSink({ url: sink.url, check: false });
  const handler: GeneralMessageHandler = {
    handle: async (m: TransactionalMessage) => {
      const out = await http.send({
        stream: 'orders',
        records: [JSON.stringify({ event_id: m.id, event_type: m.messageType, ...(m.payload as object) })],
      });
      if (out.kind !== 'ok') throw new Error(`sink: ${out.kind}`);
    },
  };
  const url = new URL(cfg.databaseUrl);
  const config: PollingListenerConfig = {
    outboxOrInbox: 'outbox',
    dbListenerConfig: {
      host: url.hostname,
      port: Number(url.port || 5432),
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      database: url.pathname.slice(1) || 'postgres',
    },
    settings: {
      dbSchema: schema,
      dbTable: 'outbox',
      enableMaxAttemptsProtection: false,
      enablePoisonousMessageProtection: false,
      nextMessagesBatchSize: 5,
      nextMessagesFunctionName: 'next_outbox_messages',
      nextMessagesFunctionSchema: schema,
      nextMessagesPollingIntervalInMs: 250,
    },
  };
  sink.reset();
  progress(`peer: draining for at most ${capSeconds}s`);
  const t0 = performance.now();
  const [shutdown] = initializePollingMessageListener(config, handler, getDisabledLogger());
  while (sink.received < total && performance.now() - t0 < capSeconds * 1000) await sleep(100);
  const elapsed = (performance.now() - t0) / 1000;
  const delivered = sink.received;
  await shutdown();
  await http.close?.();
  const rate = delivered / elapsed;
  progress(`peer: ${delivered} messages in ${round(elapsed, 1)}s = ${round(rate, 1)} msg/s`);
  const ours = figures.drainOneRelay?.value;
  return {
    peerDrain: {
      value: round(rate, 1),
      unit: 'events/s',
      ...(ours
        ? {
            baseline: ours,
            ratio: round(rate / ours, 4),
            goal: 'our relay ahead (ratio < 1)',
            goalMet: rate < ours,
          }
        : {}),
      note: `pg-transactional-outbox polling, README settings (batch 5, 250 ms); ${delivered} of ${total.toLocaleString('en')} delivered in ${round(elapsed, 1)}s (capped); baseline = our one-relay drain`,
    },
  };
}
