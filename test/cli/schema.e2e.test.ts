import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAM_NAMES } from '../../src/domain/catalog.js';
import { runCli } from '../support/cli.js';
import { makeProject } from '../support/project.js';

/** A `lakehouse.config.ts` whose `orders` schema is `ordersExpr` (over `base`, the default schema). */
function configText(ordersExpr: string, withRefunds: boolean): string {
  return `import { z } from 'zod';
import { defaultCatalog, defineCatalog, defineConfig, defineStream, id, money, nullable, tenantId, text, timestamp } from '@company-manager/lakehouse/config';

const base = defaultCatalog.streams.orders.schema;
const orders = defineStream({ ...defaultCatalog.streams.orders, schema: ${ordersExpr} });
const refunds = defineStream({
  name: 'refunds',
  schema: z.strictObject({ refund_id: id(), tenant_id: tenantId(), amount: money(), reason: nullable(text(256)), refunded_at: timestamp() }),
  lake: { partition: ['tenant_id', 'year'] },
});
const others = defaultCatalog.list.filter((s) => s.name !== 'orders');
export default defineConfig({
  catalog: defineCatalog([orders, ...others${withRefunds ? ', refunds' : ''}]),
  relay: { streams: { orders: { onPoison: 'block' } } },
});
`;
}

let dir: string;
const env = { ...process.env, LAKEHOUSE_CONFIG: '' };
const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
  runCli(args, { cwd: dir, env: { ...env, ...extraEnv } });
const writeConfig = (ordersExpr: string, withRefunds = true) =>
  writeFileSync(join(dir, 'lakehouse.config.ts'), configText(ordersExpr, withRefunds));

beforeAll(() => {
  dir = makeProject();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lakehouse schema snapshot / check in a project with its own lakehouse.config.ts', () => {
  it('snapshots the configured catalog into lakehouse/schema.snapshot.json with a format version', async () => {
    writeConfig('base', false);
    const r = await cli(['schema', 'snapshot', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ written: true, streams: 6 });
    const snap = JSON.parse(readFileSync(join(dir, 'lakehouse/schema.snapshot.json'), 'utf8'));
    expect(snap).toMatchObject({ format: 'lakehouse-schema-snapshot', formatVersion: 1 });
    expect(Object.keys(snap.streams)).toContain('orders');
  });

  it('passes (exit 0) for a new stream refunds and an optional field channel on orders', async () => {
    writeConfig('base.extend({ channel: nullable(text(32)) })');
    const r = await cli(['schema', 'check', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: true, additive: 2, breaking: 0 });
    expect(out.changes.map((c: { kind: string; stream: string }) => `${c.kind}:${c.stream}`)).toEqual([
      'field_added:orders',
      'stream_added:refunds',
    ]);
  });

  it('fails (exit 1) for a type change of total_amount, naming the field and the alternative', async () => {
    writeConfig('base.extend({ total_amount: text(32) })');
    const r = await cli(['schema', 'check']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(
      /BREAKING\s+orders: field "total_amount" changed type decimal\(18, 4\) -> string/,
    );
    expect(r.stdout).toMatch(
      /instead: add a new nullable field with the new type \(e\.g\. total_amount_v2\)/,
    );
  });

  it('fails (exit 1) for a removed field, naming it, and snapshot refuses to record it', async () => {
    writeConfig('base.omit({ payment_method: true })');
    const r = await cli(['schema', 'check', '--json']);
    expect(r.code, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.changes.filter((c: { severity: string }) => c.severity === 'breaking')).toEqual([
      expect.objectContaining({
        severity: 'breaking',
        kind: 'field_removed',
        stream: 'orders',
        field: 'payment_method',
      }),
    ]);
    const before = readFileSync(join(dir, 'lakehouse/schema.snapshot.json'), 'utf8');
    const s = await cli(['schema', 'snapshot']);
    expect(s.code).toBe(1);
    expect(readFileSync(join(dir, 'lakehouse/schema.snapshot.json'), 'utf8')).toBe(before);
  });

  it('gives one clear error naming the file (exit 2) for a config that does not validate', async () => {
    writeFileSync(
      join(dir, 'broken.config.ts'),
      configText('base', true).replace("partition: ['tenant_id', 'year']", "partition: ['region']"),
    );
    const r = await cli(['schema', 'check'], { LAKEHOUSE_CONFIG: 'broken.config.ts' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `lakehouse: config ${join(dir, 'broken.config.ts')}: stream refunds: lake partition "region" is not a field ` +
        '(fields: refund_id, tenant_id, amount, reason, refunded_at; computed from the time field: year, month, day, date, hour)',
    );
    const cjs = join(dir, 'cjs');
    mkdirSync(cjs);
    writeFileSync(join(cjs, 'package.json'), '{"type":"commonjs"}\n');
    writeFileSync(join(cjs, 'lakehouse.config.js'), configText('base', false));
    const esmInCjs = await runCli(['schema', 'check'], { cwd: cjs, env });
    expect(esmInCjs.code).toBe(2);
    expect(esmInCjs.stderr).toMatch(
      /lakehouse\.config\.js: does not load: Cannot use import statement outside a module \(name it lakehouse\.config\.mjs or \.ts/,
    );
    const missing = await cli(['schema', 'check', '--config', 'nope.config.ts']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/config nope\.config\.ts: file not found/);
  });
});

describe('lakehouse init', () => {
  it('writes a starter config that loads, and refuses to overwrite it', async () => {
    const project = makeProject();
    try {
      const r = await runCli(['init'], { cwd: project, env });
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(join(project, 'lakehouse.config.ts'))).toBe(true);
      const snap = await runCli(['schema', 'snapshot', '--json'], { cwd: project, env });
      expect(snap.code, snap.stderr).toBe(0);
      expect(JSON.parse(snap.stdout)).toMatchObject({ written: true, streams: 6 });
      const again = await runCli(['init'], { cwd: project, env });
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/lakehouse\.config\.ts already exists; not overwritten/);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('uses the default catalog when the project has no config', async () => {
    const project = makeProject();
    try {
      const r = await runCli(['schema', 'snapshot', '--json'], { cwd: project, env });
      expect(r.code, r.stderr).toBe(0);
      const snap = JSON.parse(readFileSync(join(project, 'lakehouse/schema.snapshot.json'), 'utf8'));
      expect(Object.keys(snap.streams)).toEqual(STREAM_NAMES);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
