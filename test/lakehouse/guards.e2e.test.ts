import { request } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { queryTenant } from '../../src/lakehouse/index.js';
import { runQuery } from '../../src/lakehouse/query.js';
import { runCli } from '../support/cli.js';
import { killAll, serve } from './processes.js';
import { order, postJson, startServer, stopAll, TENANT_A, tempWarehouse } from './support.js';

afterEach(async () => {
  await killAll();
  await stopAll();
});

/** A raw HTTP request, so the Host header can be anything (fetch does not allow setting it). */
function raw(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer | string,
) {
  const u = new URL(url);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('every endpoint guarded off localhost', () => {
  it('refuses to start on a non-loopback address without both tokens', async () => {
    const warehouse = await tempWarehouse();
    for (const env of [
      { LAKEHOUSE_SINK_TOKEN: '', LAKEHOUSE_DASHBOARD_TOKEN: 'd' },
      { LAKEHOUSE_SINK_TOKEN: 's', LAKEHOUSE_DASHBOARD_TOKEN: '' },
    ]) {
      const r = await runCli(
        ['serve', '--host', '0.0.0.0', '--port', '0', '--no-dashboard', '--warehouse', warehouse],
        {
          env: { ...process.env, ...env },
        },
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/LAKEHOUSE_SINK_TOKEN.*LAKEHOUSE_DASHBOARD_TOKEN/);
    }
  });

  it('answers 401 on every endpoint without its token, off localhost', async () => {
    const warehouse = await tempWarehouse();
    const s = await serve(warehouse, ['--host', '0.0.0.0'], {
      LAKEHOUSE_SINK_TOKEN: 'sink-secret',
      LAKEHOUSE_DASHBOARD_TOKEN: 'operator-secret',
    });
    const url = s.url.replace('0.0.0.0', '127.0.0.1');
    const rec = [order(TENANT_A, '2026-02-01T10:00:00Z', 1, null)];
    const sql = { query: 'SELECT COUNT(*) AS n FROM orders' };
    const cases: [string, string, unknown?][] = [
      ['POST', '/ingest/orders', rec],
      ['POST', '/sql', sql],
      ['GET', '/catalog/v1/config'],
      ['GET', '/catalog/v1/namespaces'],
      ['GET', '/catalog/v1/namespaces/lakehouse/tables/orders'],
      ['GET', '/dashboard'],
      ['GET', '/dashboard/api/state'],
      ['POST', '/dashboard/api/replay', {}],
      ['POST', '/dashboard/api/sql', sql],
      ['GET', '/dashboard/queues'],
    ];
    for (const [method, path, body] of cases) {
      for (const authorization of [undefined, 'Bearer wrong']) {
        const res = await fetch(`${url}${path}`, {
          method,
          headers: authorization ? { authorization } : {},
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        expect(res.status, `${method} ${path} with ${authorization}`).toBe(401);
      }
    }
    expect(await postJson(`${url}/ingest/orders`, rec, { authorization: 'Bearer sink-secret' })).toEqual({
      status: 200,
      body: { committed: 1 },
    });
    expect((await postJson(`${url}/sql`, sql, { authorization: 'Bearer operator-secret' })).status).toBe(200);
    const catalog = await fetch(`${url}/catalog/v1/namespaces`, {
      headers: { authorization: 'Bearer operator-secret' },
    });
    expect(catalog.status).toBe(200);
  });

  it('refuses a Host header that is not an address of the server (DNS rebinding)', async () => {
    const s = await startServer();
    const port = new URL(s.url).port;
    const body = JSON.stringify({ query: 'SELECT COUNT(*) AS n FROM orders' });
    const rebound = await raw(s.url, 'POST', '/sql', { host: `attacker.example:${port}` }, body);
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body).errors[0].message).toMatch(
      /Host "attacker.example:\d+" is not an address/,
    );
    expect((await raw(s.url, 'GET', '/catalog/v1/config', { host: 'attacker.example' })).status).toBe(403);
    expect((await raw(s.url, 'POST', '/sql', { host: `localhost:${port}` }, body)).status).toBe(200);
    const listed = await startServer({ allowedHosts: ['lake.internal'] });
    expect((await raw(listed.url, 'POST', '/sql', { host: 'lake.internal:80' }, body)).status).toBe(200);
  });

  it('refuses a cross-origin POST to ingest', async () => {
    const s = await startServer();
    const r = await postJson(`${s.url}/ingest/orders`, [order(TENANT_A, '2026-02-01T10:00:00Z', 1, null)], {
      origin: 'http://evil.example',
    });
    expect(r.status).toBe(403);
  });
});

describe('tenant scoping is strict', () => {
  it('rejects an empty, null, non-string or misspelt tenant on /sql', async () => {
    const s = await startServer();
    for (const body of [
      { query: 'SELECT * FROM orders', tenant: '' },
      { query: 'SELECT * FROM orders', tenant: null },
      { query: 'SELECT * FROM orders', tenant: 1 },
      { query: 'SELECT * FROM orders', tenant: ['a'] },
      { query: 'SELECT * FROM orders', tenantId: TENANT_A },
      { query: 'SELECT * FROM orders', tenant_id: TENANT_A },
      ['SELECT 1'],
      'SELECT 1',
    ]) {
      const r = await postJson(`${s.url}/sql`, JSON.stringify(body));
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.success).toBe(false);
    }
  });

  it('rejects --tenant "" in the CLI and an empty tenant in the library', async () => {
    const warehouse = await tempWarehouse();
    const r = await runCli([
      'query',
      '--tenant',
      '',
      '--warehouse',
      warehouse,
      'SELECT COUNT(*) FROM orders',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--tenant must be a tenant id');
    await expect(queryTenant('', 'SELECT 1')).rejects.toThrow(/invalid tenant ""/);
    await expect(runQuery(warehouse, 'SELECT 1', { tenant: undefined })).rejects.toThrow(/invalid tenant/);
    await expect(runQuery(warehouse, 'SELECT 1', { tenant: null as unknown as string })).rejects.toThrow(
      /invalid tenant null/,
    );
  });
});

describe('clean errors', () => {
  it('answers malformed paths, bodies and SQL with a short 4xx JSON error', async () => {
    const s = await startServer();
    const badIngest = await fetch(`${s.url}/ingest/%E0%A4%A`, { method: 'POST', body: '[]' });
    expect(badIngest.status).toBe(400);
    expect(await badIngest.json()).toEqual({
      success: false,
      errors: [{ message: 'malformed percent-escape in the path' }],
    });
    const badCatalog = await fetch(`${s.url}/catalog/v1/namespaces/%ZZ/tables`);
    expect(badCatalog.status).toBe(400);
    expect(((await badCatalog.json()) as { error: { code: number } }).error.code).toBe(400);
    const nul = await postJson(`${s.url}/sql`, { query: 'SELECT 1\u0000' });
    expect(nul.status).toBe(400);
    expect(nul.body.errors[0].message).toBe('the query contains a NUL character');
    const empty = await postJson(`${s.url}/sql`, { query: '' });
    expect(empty.status).toBe(400);
    const brotli = await fetch(`${s.url}/ingest/orders`, {
      method: 'POST',
      headers: { 'content-encoding': 'br' },
      body: '[]',
    });
    expect(brotli.status).toBe(415);
    const notGzip = await fetch(`${s.url}/ingest/orders`, {
      method: 'POST',
      headers: { 'content-encoding': 'gzip' },
      body: '[]',
    });
    expect(notGzip.status).toBe(400);
  });

  it('bounds the error body of a large bad request', async () => {
    const s = await startServer({ maxBodyBytes: 1_000_000 });
    const bad = Array.from({ length: 2000 }, () => ({
      ...order(TENANT_A, '2026-02-01T10:00:00Z', 1, null),
      total_amount: 'x'.repeat(50),
      status: 'y'.repeat(50),
    }));
    const text = JSON.stringify(bad);
    expect(text.length).toBeGreaterThan(200_000);
    const res = await fetch(`${s.url}/ingest/orders`, { method: 'POST', body: text });
    expect(res.status).toBe(400);
    const answer = await res.text();
    expect(answer.length).toBeLessThan(64_000);
    const j = JSON.parse(answer) as { errors: { index: number }[]; truncated: number };
    expect(j.errors).toHaveLength(100);
    expect(j.errors[0]!.index).toBe(0);
    expect(j.truncated).toBe(3900);
  });

  it('accepts gzip request bodies, as Pipelines does', async () => {
    const s = await startServer();
    const records = [
      order(TENANT_A, '2026-02-01T10:00:00Z', 3, null),
      order(TENANT_A, '2026-02-02T10:00:00Z', 4, null),
    ];
    const body = await promisify(gzip)(JSON.stringify(records));
    const res = await fetch(`${s.url}/ingest/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ committed: 2 });
    await s.ingestor.flush();
    expect((await runQuery(s.warehouse, 'SELECT SUM(total_amount) AS s FROM orders')).rows).toEqual([
      { s: 7 },
    ]);
  });
});
