import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDb, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';
import { type SinkServer, startSinkServer } from '../support/sinkServer.js';

/** `lakehouse relay --until-idle` as a process: its exit code tells a script whether everything went out. */
let db: TestDb;
const sinks: SinkServer[] = [];
beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
});
afterAll(async () => {
  for (const s of sinks) await s.close();
  await db.close();
});

async function emit(tenant: string, count: number): Promise<void> {
  const lines = Array.from({ length: count }, (_, i) => JSON.stringify(order(`${tenant}-${i}`, tenant)));
  const r = await runCli(['emit', 'orders', '-', '--json'], { env: db.env, input: `${lines.join('\n')}\n` });
  expect(r.code, r.stderr).toBe(0);
}

describe('relay --until-idle', () => {
  it('exits 1 naming the lane, its partition and the error when a batch is parked as failed, and 0 once it is delivered', async () => {
    const failing = await startSinkServer({ failRate: 1 });
    sinks.push(failing);
    await emit('idle-fail', 3);
    const env = { ...db.env, LAKEHOUSE_SINK_URL: failing.url, LAKEHOUSE_LOG_LEVEL: 'error' };
    const failed = await runCli(
      [
        'relay',
        '--until-idle',
        '--retry-attempts',
        '2',
        '--retry-delay',
        '0.05s',
        '--sweep-interval-ms',
        '100',
      ],
      { env },
    );
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/1 batch\(es\) parked as failed/);
    expect(failed.stderr).toMatch(/orders lane \d+: 3 event\(s\) held \(partition idle-fail\)/);
    expect(failed.stderr).toMatch(/500/);
    const status = JSON.parse((await runCli(['status', '--json'], { env: db.env })).stdout);
    expect(status.streams.find((s: { stream: string }) => s.stream === 'orders').pending).toBe(3);

    const healthy = await startSinkServer();
    sinks.push(healthy);
    expect((await runCli(['replay', '--stream', 'orders'], { env: db.env })).code).toBe(0);
    const ok = await runCli(['relay', '--until-idle'], { env: { ...env, LAKEHOUSE_SINK_URL: healthy.url } });
    expect(ok.code, ok.stderr).toBe(0);
    expect(healthy.received().map((r) => r.record.order_id)).toEqual([
      'idle-fail-0',
      'idle-fail-1',
      'idle-fail-2',
    ]);
  });

  it('rejects a retry delay without a unit as a usage error', async () => {
    const r = await runCli(['relay', '--until-idle', '--retry-delay', '5'], { env: db.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--retry-delay: "5" has no unit/);
  });
});
