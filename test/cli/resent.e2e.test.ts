import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDb, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';
import { type SinkServer, startSinkServer } from '../support/sinkServer.js';

let db: TestDb;
let sink: SinkServer;
beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
  // Half of the requests fail with 500: the sink may have stored them, so a retry is a resend.
  sink = await startSinkServer({ failRate: 0.5, seed: 7 });
});
afterAll(async () => {
  await sink.close();
  await db.close();
});

describe('relay resends', () => {
  it('logs a warning line for every resend, adding up to duplicatesResent', async () => {
    const env = { ...db.env, LAKEHOUSE_SINK_URL: sink.url, LAKEHOUSE_LOG_LEVEL: 'warn' };
    const input = `${Array.from({ length: 6 }, (_, i) => JSON.stringify(order(`rs-${i}`, `t${i % 3}`))).join('\n')}\n`;
    expect((await runCli(['emit', 'orders', '--no-wake'], { env, input })).code).toBe(0);
    const relay = await runCli(['relay', '--until-idle'], { env });
    expect(relay.code, relay.stderr).toBe(0);
    const lines = relay.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; resent?: number });
    const logged = lines
      .filter((l) => l.msg.startsWith('resending events'))
      .reduce((n, l) => n + l.resent!, 0);
    const status = JSON.parse((await runCli(['status', '--json'], { env })).stdout);
    const resent = status.streams.find((s: { stream: string }) => s.stream === 'orders').duplicatesResent;
    expect(resent).toBeGreaterThan(0);
    expect(logged).toBe(resent);
  });
});
