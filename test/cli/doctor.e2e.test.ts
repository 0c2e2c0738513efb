import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kill9, killAll, serve } from '../lakehouse/processes.js';
import { runCli } from '../support/cli.js';
import { createTestDb, type TestDb } from '../support/db.js';
import { startServer, type TestServer } from '../support/httpServer.js';
import { freePort } from '../support/services.js';

let db: TestDb;
let sink: TestServer;
let warehouse: string;
beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
  // A sink that accepts only the token "right", as Cloudflare's ingest endpoint would.
  sink = await startServer((req, res) => {
    res.statusCode = req.headers.authorization === 'Bearer right' ? 200 : 401;
    res.end('{}');
  });
  warehouse = await mkdtemp(join(tmpdir(), 'lh-doctor-'));
});
afterEach(async () => {
  await killAll();
});
afterAll(async () => {
  if (warehouse) await rm(warehouse, { recursive: true, force: true });
  await sink?.close();
  await db?.close();
});

interface DoctorJson {
  ok: boolean;
  checks: { name: string; ok: boolean; detail: string; fix?: string }[];
}

const doctor = async (env: NodeJS.ProcessEnv = {}) => {
  const r = await runCli(['doctor', '--json', '--warehouse', warehouse], {
    env: {
      ...db.env,
      LAKEHOUSE_SINK_URL: `${sink.url}/ingest/{stream}`,
      LAKEHOUSE_SINK_TOKEN: 'right',
      ...env,
    },
  });
  const out = JSON.parse(r.stdout) as DoctorJson;
  const failed = out.checks.filter((c) => !c.ok).map((c) => c.name);
  return { code: r.code, out, failed };
};

describe('lakehouse doctor', () => {
  it('passes on a healthy installation with exit 0', async () => {
    const r = await doctor();
    expect(r.failed).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'Node.js',
        'PostgreSQL',
        `schema "${db.schema}"`,
        'Redis',
        'Redis eviction',
        'warehouse',
        'warehouse lock',
        'sink',
      ]),
    );
    expect(r.out.checks.find((c) => c.name === 'warehouse lock')!.detail).toContain('free');
  });

  it('names the live holder of the warehouse lock, and fails on a lock its dead holder left', async () => {
    const s = await serve(warehouse);
    const held = await doctor();
    expect(held.failed).toEqual([]);
    const detail = held.out.checks.find((c) => c.name === 'warehouse lock')!.detail;
    expect(detail).toContain(`held by "lakehouse serve" (pid ${s.child.pid} on `);
    expect(detail).toContain(s.url);

    await kill9(s.child); // the lock file stays behind
    const stale = await doctor();
    expect(stale.code).toBe(1);
    expect(stale.failed).toEqual(['warehouse lock']);
    const check = stale.out.checks.find((c) => c.name === 'warehouse lock')!;
    expect(check.detail).toContain(`pid ${s.child.pid}`);
    expect(check.detail).toContain('no longer runs');
    expect(check.fix).toContain(join(warehouse, '.lock'));
    await unlink(join(warehouse, '.lock'));
  });

  it('names PostgreSQL with a fix and exits 1 when it is down', async () => {
    const port = await freePort();
    const r = await doctor({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres` });
    expect(r.code).toBe(1);
    expect(r.failed).toEqual(['PostgreSQL']);
    expect(r.out.checks.find((c) => c.name === 'PostgreSQL')!.fix).toContain('DATABASE_URL');
  });

  it('names Redis when it is down', async () => {
    const port = await freePort();
    const r = await doctor({ REDIS_URL: `redis://127.0.0.1:${port}` });
    expect(r.code).toBe(1);
    expect(r.failed).toEqual(['Redis']);
  });

  it('names the sink when it is down, and when it refuses the token', async () => {
    const port = await freePort();
    const down = await doctor({ LAKEHOUSE_SINK_URL: `http://127.0.0.1:${port}/ingest/{stream}` });
    expect(down.code).toBe(1);
    expect(down.failed).toEqual(['sink']);
    const refused = await doctor({ LAKEHOUSE_SINK_TOKEN: 'wrong' });
    expect(refused.failed).toEqual(['sink']);
    expect(refused.out.checks.find((c) => c.name === 'sink')!.detail).toContain(
      'refused the token (HTTP 401)',
    );
  });

  it('names an unmigrated schema with `lakehouse migrate` as the fix', async () => {
    const r = await doctor({ LAKEHOUSE_DB_SCHEMA: `${db.schema}_none` });
    expect(r.failed).toEqual([`schema "${db.schema}_none"`]);
    expect(r.out.checks.find((c) => !c.ok)!.fix).toContain('lakehouse migrate');
  });
});
