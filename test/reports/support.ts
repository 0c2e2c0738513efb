import { pino } from 'pino';
import type { RelayOptions } from '../../src/relay/options.js';
import { createRelay } from '../../src/relay/relay.js';
import type { Sink } from '../../src/relay/sink.js';
import { until } from '../lakehouse/support.js';
import type { TestDb } from '../support/db.js';

/** Runs a relay of `db`'s outbox into `sink` until nothing is pending or in flight, then stops it. */
export async function relayUntilDelivered(
  db: TestDb,
  sink: Sink,
  options: Partial<RelayOptions> = {},
  timeoutMs = 60_000,
): Promise<void> {
  const relay = createRelay({
    databaseUrl: db.databaseUrl,
    redisUrl: db.redisUrl,
    schema: db.schema,
    sink,
    sweepIntervalMs: 200,
    logger: pino({ level: 'silent' }),
    ...options,
  });
  await relay.start();
  try {
    await until(
      'the relay to deliver everything',
      async () => {
        const st = await db.outbox.status(db.pool);
        return st.streams.every((x) => x.pending === 0 && x.inFlight === 0) ? true : undefined;
      },
      timeoutMs,
    );
  } finally {
    await relay.stop();
  }
}
