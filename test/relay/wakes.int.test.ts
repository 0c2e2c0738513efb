import { beforeAll, describe, expect, it } from 'vitest';
import { createEvent } from '../../src/domain/envelope.js';
import { createRelayTrigger } from '../../src/relay/trigger.js';
import { parseWake } from '../../src/relay/wakes.js';
import { inTransaction, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';
import { relayTestFile, testRelay } from '../support/relay.js';
import { waitFor } from '../support/sinkServer.js';

const file = relayTestFile(import.meta.filename);
let db: TestDb;
beforeAll(() => {
  db = file.db();
});

describe('wakes', () => {
  it('a commit woken by another process reaches the sink at once, long before the next sweep', async () => {
    const sink = await file.sinkWith();
    // The sweep runs at start and then once a minute: only the wake can deliver sooner.
    const relay = testRelay(db, sink, { sweepIntervalMs: 60_000 });
    const trigger = createRelayTrigger({ redisUrl: db.redisUrl, schema: db.schema });
    await relay.start();
    try {
      const events = ['w-1', 'w-2', 'w-3'].map((t) => createEvent('orders', order(`wake-${t}`, t)));
      const result = await inTransaction(db.pool, (c) => db.outbox.emit(c, ...events));
      const woken = Date.now();
      expect(await trigger.wake(result.partitions)).toBe(true);
      await waitFor(() => sink.received().length === 3, { timeoutMs: 20_000 });
      expect(Date.now() - woken).toBeLessThan(10_000);
      expect(new Set(sink.received().map((r) => r.record.event_id))).toEqual(
        new Set(events.map((e) => e.event_id)),
      );
    } finally {
      await trigger.close();
      await relay.stop();
    }
  });

  it('keeps the lanes and partitions of a wake message and ignores anything malformed', () => {
    expect(parseWake('[{"stream":"orders","lane":3},{"stream":"orders","partitionKey":"t1"}]')).toEqual([
      { stream: 'orders', lane: 3 },
      { stream: 'orders', partitionKey: 't1' },
    ]);
    expect(parseWake('not json')).toEqual([]);
    expect(parseWake('{"stream":"orders","lane":3}')).toEqual([]);
    expect(parseWake('[null, 7, {"stream":"orders","lane":-1}, {"lane":2}, {"stream":"orders"}]')).toEqual(
      [],
    );
  });
});
