import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDb, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';
import { type SinkServer, startSinkServer } from '../support/sinkServer.js';

let db: TestDb;
let sink: SinkServer;
let poisoned = true;
beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
  sink = await startSinkServer({ poison: (r) => poisoned && r.order_id === 'ops-2' });
});
afterAll(async () => {
  await sink.close();
  await db.close();
});

const env = () => ({ ...db.env, LAKEHOUSE_SINK_URL: sink.url, LAKEHOUSE_LOG_LEVEL: 'error' });
const status = async () =>
  JSON.parse((await runCli(['status', '--json'], { env: env() })).stdout).streams.find(
    (s: { stream: string }) => s.stream === 'orders',
  );

describe('lakehouse relay, replay and prune from the shell', () => {
  it('parks a poison record, shows it in status, replays it in order once fixed, and prunes what was delivered', async () => {
    const input = `${[1, 2, 3].map((i) => JSON.stringify(order(`ops-${i}`, 'ops'))).join('\n')}\n`;
    expect((await runCli(['emit', 'orders', '--no-wake'], { env: env(), input })).code).toBe(0);

    const relay = await runCli(['relay', '--until-idle'], { env: env() });
    expect(relay.code, relay.stderr).toBe(0);
    expect(sink.received().map((r) => r.record.order_id)).toEqual(['ops-1', 'ops-3']);
    expect(await status()).toMatchObject({ pending: 0, parked: 1, delivered: 2 });

    const usage = await runCli(['replay'], { env: env() });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--all');

    poisoned = false;
    const replay = await runCli(['replay', '--stream', 'orders', '--json'], { env: env() });
    expect(replay.code, replay.stderr).toBe(0);
    expect(JSON.parse(replay.stdout).requeued).toEqual([
      { stream: 'orders', partitionKey: 'ops', events: 1 },
    ]);
    expect(await status()).toMatchObject({ pending: 1, parked: 0 });

    expect((await runCli(['relay', '--until-idle'], { env: env() })).code).toBe(0);
    expect(sink.received().map((r) => r.record.order_id)).toEqual(['ops-1', 'ops-3', 'ops-2']);
    expect(await status()).toMatchObject({ pending: 0, parked: 0, delivered: 3 });

    const prune = await runCli(['prune', '--older-than', '0s', '--json'], { env: env() });
    expect(prune.code, prune.stderr).toBe(0);
    expect(JSON.parse(prune.stdout)).toEqual({ deleted: 3 });
    const bad = await runCli(['prune', '--older-than', 'soon'], { env: env() });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('invalid duration "soon"');
  });
});
