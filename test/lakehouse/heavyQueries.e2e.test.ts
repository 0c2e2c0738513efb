import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { runQuery } from '../../src/lakehouse/query.js';
import { killAll, serve } from './processes.js';
import { order, postJson, TENANT_A, TENANT_B, tempWarehouse, until } from './support.js';

afterEach(async () => {
  await killAll();
});

/** Five-way self join of 100 rows: 10^10 row combinations, far longer than any timeout here. */
const HEAVY =
  'SELECT COUNT(*) AS n FROM orders a, orders b, orders c, orders d, orders e WHERE a.item_count + b.item_count + c.item_count + d.item_count + e.item_count > 0';

const batch = (n: number) =>
  Array.from({ length: n }, (_, i) => order(i % 2 ? TENANT_A : TENANT_B, '2026-02-01T10:00:00Z', 1 + i, 'c'));

async function loaded(args: string[]) {
  const warehouse = await tempWarehouse();
  const s = await serve(warehouse, ['--roll-interval-ms', '50', ...args]);
  expect((await postJson(`${s.url}/ingest/orders`, batch(100))).status).toBe(200);
  await until('the rows to be committed', async () =>
    Number((await runQuery(warehouse, 'SELECT COUNT(*) AS n FROM orders')).rows[0]!.n) === 100
      ? true
      : undefined,
  );
  return { s, warehouse };
}

/** Child processes of `pid` (the query processes of a server); ps exits 1 when there are none. */
function childrenOf(pid: number): string[] {
  try {
    return execFileSync('ps', ['--ppid', String(pid), '-o', 'pid='], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.trim());
  } catch {
    return [];
  }
}

describe('queries cannot take the server down', () => {
  it('keeps acknowledging ingest while four heavy queries run, times them out with a clear error, and stops on SIGTERM within 10 s', async () => {
    const { s } = await loaded(['--query-timeout', '4s']);
    const started = Date.now();
    const queries = Array.from({ length: 4 }, () => postJson(`${s.url}/sql`, { query: HEAVY }));
    let acks = 0;
    let slowest = 0;
    while (Date.now() - started < 3000) {
      const t0 = Date.now();
      expect(await postJson(`${s.url}/ingest/orders`, batch(2))).toEqual({
        status: 200,
        body: { committed: 2 },
      });
      slowest = Math.max(slowest, Date.now() - t0);
      acks++;
    }
    expect(acks).toBeGreaterThan(10);
    process.stderr.write(`acks during four heavy queries: ${acks}, slowest ${slowest} ms\n`);
    for (const r of await Promise.all(queries)) {
      expect(r.status).toBe(408);
      expect(r.body.errors[0].message).toMatch(/longer than 4 s and was cancelled/);
    }

    // SIGTERM while four heavy queries run: the server exits within 10 s.
    const more = Array.from({ length: 4 }, () =>
      postJson(`${s.url}/sql`, { query: HEAVY }).catch(() => undefined),
    );
    await until('the queries to run', async () => (childrenOf(s.child.pid!).length >= 2 ? true : undefined));
    const t0 = Date.now();
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    await Promise.all(more);
  });

  it('cancels a query when its client goes away', async () => {
    const { s } = await loaded([]);
    const client = new AbortController();
    const q = fetch(`${s.url}/sql`, {
      method: 'POST',
      body: JSON.stringify({ query: HEAVY }),
      signal: client.signal,
    }).catch((e: Error) => e.name);
    await until('the query process to start', async () =>
      childrenOf(s.child.pid!).length === 1 ? true : undefined,
    );
    client.abort();
    expect(await q).toBe('AbortError');
    await until('the query process to be killed', async () =>
      childrenOf(s.child.pid!).length === 0 ? true : undefined,
    );
    // The server still answers queries.
    const r = await postJson(`${s.url}/sql`, { query: 'SELECT COUNT(*) AS n FROM orders' });
    expect(r.body.result.rows).toEqual([{ n: 100 }]);
  });

  it('stops a query at its memory limit with a clear error', async () => {
    const { s } = await loaded(['--query-memory-mb', '64']);
    const r = await postJson(`${s.url}/sql`, {
      query:
        'SELECT a.order_id || b.order_id || c.order_id || d.order_id AS k, COUNT(*) AS n FROM orders a, orders b, orders c, orders d GROUP BY 1 ORDER BY 2 DESC LIMIT 3',
    });
    expect(r.status).toBe(400);
    expect(r.body.errors[0].message).toMatch(
      /needs more than its memory limit \(64 MiB, --query-memory-mb\)/,
    );
    expect(
      (await postJson(`${s.url}/sql`, { query: 'SELECT COUNT(*) AS n FROM orders' })).body.result.rows,
    ).toEqual([{ n: 100 }]);
  });

  it('refuses a result over the row cap with a clear error', async () => {
    const { s } = await loaded(['--max-rows', '40']);
    const r = await postJson(`${s.url}/sql`, { query: 'SELECT * FROM orders' });
    expect(r.status).toBe(400);
    expect(r.body.errors[0]).toEqual({ code: 40013, message: expect.stringMatching(/more than 40 rows/) });
    const ok = await postJson(`${s.url}/sql`, { query: 'SELECT order_id FROM orders LIMIT 40' });
    expect(ok.body.result.rows).toHaveLength(40);
  });
});
