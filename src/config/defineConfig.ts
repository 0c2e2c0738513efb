import { z } from 'zod';
import type { Catalog } from '../domain/defineCatalog.js';
import { LakehouseError } from '../errors.js';

/** Delivery settings of one stream, as the relay takes them (see `StreamRelayOptions`). */
export interface StreamRelaySettings {
  /** Most records per request. Default 1,000. */
  maxBatchRecords?: number;
  /** Most bytes per request body. Default 1,000,000 (the Pipelines limit). */
  maxBatchBytes?: number;
  /** Bytes per second sent for this stream, per relay process. Default 5,000,000. */
  rateLimitBytesPerSecond?: number;
  /** `park` (default) sets a rejected record aside; `block` stops its partition at it. */
  onPoison?: 'park' | 'block';
}

/** What a `lakehouse.config.ts` exports (as its default export, or as named exports). */
export interface LakehouseConfig<C extends Catalog = Catalog> {
  /** The streams of this deployment. Default: Company Manager's six streams. */
  catalog: C;
  /** Relay settings: `defaults` for every stream, `streams` per stream name. */
  relay?: { defaults?: StreamRelaySettings; streams?: Record<string, StreamRelaySettings> };
  /** Schema snapshot file, relative to the config file. Default `lakehouse/schema.snapshot.json`. */
  schemaSnapshot?: string;
}

/** Gives a config file its types; returns the config unchanged (it is checked when loaded). */
export function defineConfig<C extends Catalog>(config: LakehouseConfig<C>): LakehouseConfig<C> {
  return config;
}

const positive = z.number().int().positive();
const streamSettings = z.strictObject({
  maxBatchRecords: positive.max(100_000).optional(),
  maxBatchBytes: positive.min(1024).optional(),
  rateLimitBytesPerSecond: positive.optional(),
  onPoison: z.enum(['park', 'block']).optional(),
});
const configShape = z.strictObject({
  catalog: z.custom<Catalog>(isCatalog, 'must be a catalog made with defineCatalog([...])'),
  relay: z
    .strictObject({
      defaults: streamSettings.optional(),
      streams: z.record(z.string(), streamSettings).optional(),
    })
    .optional(),
  schemaSnapshot: z.string().min(1).optional(),
});

function isCatalog(v: unknown): v is Catalog {
  const c = v as Partial<Catalog> | undefined;
  return (
    typeof c === 'object' &&
    c !== null &&
    Array.isArray(c.names) &&
    typeof c.get === 'function' &&
    c.names.every((n) => typeof c.get?.(n)?.columns === 'object')
  );
}

/**
 * Checks a loaded config and returns it typed. Throws a `LakehouseError` (code `CONFIG`)
 * naming the option and the problem, and a relay setting for a stream the catalog lacks.
 */
export function validateConfig(value: unknown): LakehouseConfig {
  if ((value as { catalog?: unknown } | undefined)?.catalog === undefined) {
    throw new LakehouseError(
      'CONFIG',
      'exports no catalog: export default defineConfig({ catalog: defineCatalog([...]) })',
    );
  }
  const parsed = configShape.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'the export';
    throw new LakehouseError('CONFIG', `${where}: ${issue?.message ?? 'invalid'}`);
  }
  const config = parsed.data as LakehouseConfig;
  for (const name of Object.keys(config.relay?.streams ?? {})) {
    if (!config.catalog.has(name)) {
      throw new LakehouseError(
        'CONFIG',
        `relay.streams.${name}: no stream "${name}" in the catalog (streams: ${config.catalog.names.join(', ')})`,
      );
    }
  }
  return config;
}
