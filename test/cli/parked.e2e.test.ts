import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDb, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';
import { type SinkServer, startSinkServer } from '../support/sinkServer.js';

let db: TestDb;
let sink: SinkServer;
beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
  sink = await startSinkServer({ poison: (r) => r.order_id === 'bad-2' });
});
afterAll(async () => {
  await sink.close();
  await db.close();
});

const env = () => ({ ...db.env, LAKEHOUSE_SINK_URL: sink.url, LAKEHOUSE_LOG_LEVEL: 'error' });

interface ParkedJson {
  totalParked: number;
  parked: {
    position: number;
    stream: string;
    partition: string;
    error: string;
    ageSeconds: number;
    eventId: string;
  }[];
  failed: unknown[];
}

describe('lakehouse parked', () => {
  it('lists a parked event with its error and age, shows its record, and status fills lastError', async () => {
    const input = `${[1, 2, 3].map((i) => JSON.stringify(order(`bad-${i}`, 'shop-a'))).join('\n')}\n`;
    expect((await runCli(['emit', 'orders', '--no-wake'], { env: env(), input })).code).toBe(0);
    const relay = await runCli(['relay', '--until-idle'], { env: env() });
    expect(relay.code, relay.stderr).toBe(0);

    const list = await runCli(['parked', '--json'], { env: env() });
    expect(list.code, list.stderr).toBe(0);
    const out = JSON.parse(list.stdout) as ParkedJson;
    expect(out.totalParked).toBe(1);
    const [p] = out.parked;
    expect(p).toMatchObject({ stream: 'orders', partition: 'shop-a' });
    expect(p!.error.length).toBeGreaterThan(0);
    expect(p!.ageSeconds).toBeGreaterThanOrEqual(0);

    const filtered = JSON.parse(
      (await runCli(['parked', '--json', '--partition', 'other'], { env: env() })).stdout,
    );
    expect(filtered.totalParked).toBe(0);

    const table = await runCli(['parked'], { env: env() });
    expect(table.stdout).toContain('parked events: 1');
    expect(table.stdout).toContain(String(p!.position));

    const show = await runCli(['parked', 'show', String(p!.position)], { env: env() });
    expect(show.code, show.stderr).toBe(0);
    const shown = JSON.parse(show.stdout);
    expect(shown.record.payload.order_id).toBe('bad-2');
    expect(shown.eventId).toBe(p!.eventId);

    const missing = await runCli(['parked', 'show', '999999'], { env: env() });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no parked event at position 999999');

    const status = JSON.parse((await runCli(['status', '--json'], { env: env() })).stdout);
    const orders = status.streams.find((s: { stream: string }) => s.stream === 'orders');
    expect(orders.parked).toBe(1);
    expect(orders.lastError).toBe(p!.error);
  });
});
