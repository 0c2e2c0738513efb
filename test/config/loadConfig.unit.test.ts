import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loadConfig.js';
import { defaultCatalog } from '../../src/domain/defaultCatalog.js';

const SRC = pathToFileURL(resolve(import.meta.dirname, '../../src')).href;
const dir = mkdtempSync(join(tmpdir(), 'lakehouse-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A config with named exports (no default export): the catalog and relay settings. */
function writeConfig(file: string, relayStreams: string): string {
  writeFileSync(
    join(dir, file),
    `import { defineCatalog } from '${SRC}/domain/defineCatalog.ts';
import { defineStream } from '${SRC}/domain/defineStream.ts';
import { defaultCatalog } from '${SRC}/domain/defaultCatalog.ts';
const orders = defineStream({ ...defaultCatalog.streams.orders, onPoison: 'block' });
export const catalog = defineCatalog([orders, defaultCatalog.streams.api_calls]);
export const relay = { defaults: { maxBatchRecords: 500, onPoison: 'park' }, streams: ${relayStreams} };
export const schemaSnapshot = 'schemas/deployed.json';
`,
  );
  return file;
}

describe('loadConfig', () => {
  it('uses the default catalog and lakehouse/schema.snapshot.json when the folder has no config', async () => {
    const c = await loadConfig({ cwd: dir, env: {} });
    expect(c.file).toBeUndefined();
    expect(c.catalog).toBe(defaultCatalog);
    expect(c.snapshotPath).toBe(join(dir, 'lakehouse/schema.snapshot.json'));
  });

  it('finds lakehouse.config.ts in the folder, reads named exports and returns the same config to every caller', async () => {
    writeConfig('lakehouse.config.ts', '{ api_calls: { maxBatchRecords: 50 } }');
    const a = await loadConfig({ cwd: dir, env: {} });
    const b = await loadConfig({ cwd: dir, env: { LAKEHOUSE_CONFIG: 'lakehouse.config.ts' } });
    expect(b).toBe(a);
    expect(a.file).toBe(join(dir, 'lakehouse.config.ts'));
    expect(a.catalog.names).toEqual(['orders', 'api_calls']);
    expect(a.snapshotPath).toBe(join(dir, 'schemas/deployed.json'));
  });

  it("merges relay settings: defaults, then the stream's onPoison, then relay.streams", async () => {
    const c = await loadConfig({ cwd: dir, env: {} });
    expect(c.relayFor('orders')).toEqual({ maxBatchRecords: 500, onPoison: 'block' });
    expect(c.relayFor('api_calls')).toEqual({ maxBatchRecords: 50, onPoison: 'park' });
  });

  it('refuses relay settings for a stream the catalog lacks, naming the file and the option', async () => {
    writeConfig('unknown.config.ts', '{ refunds: { onPoison: "block" } }');
    await expect(loadConfig({ cwd: dir, path: 'unknown.config.ts' })).rejects.toThrow(
      `config ${join(dir, 'unknown.config.ts')}: relay.streams.refunds: no stream "refunds" in the catalog (streams: orders, api_calls)`,
    );
  });

  it('refuses an invalid relay setting, naming the option', async () => {
    writeConfig('bad.config.ts', '{ orders: { maxBatchRecords: -1 } }');
    await expect(loadConfig({ cwd: dir, path: 'bad.config.ts' })).rejects.toMatchObject({
      code: 'CONFIG',
      message: expect.stringMatching(/bad\.config\.ts: relay\.streams\.orders\.maxBatchRecords: /),
    });
  });
});
