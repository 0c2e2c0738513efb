import type { z } from 'zod';
import { LakehouseError } from '../errors.js';
import type { LakeStream } from './defineStream.js';

/** The streams of one deployment, by name. Built by {@link defineCatalog}. */
export interface Catalog<S extends readonly LakeStream[] = readonly LakeStream[]> {
  /** Each stream by its name. */
  readonly streams: { readonly [K in S[number] as K['name']]: K };
  /** The streams in declaration order (spread it to extend a catalog: `defineCatalog([...defaultCatalog.list, refunds])`). */
  readonly list: S;
  /** Stream names in declaration order. */
  readonly names: readonly S[number]['name'][];
  /** The stream of this name, or undefined. */
  get(name: string): S[number] | undefined;
  /** `true` when the catalog has a stream of this name. */
  has(name: string): name is S[number]['name'];
}

/** Stream names of a catalog: `CatalogStreamName<typeof catalog>`. */
export type CatalogStreamName<C> = C extends Catalog<infer S> ? S[number]['name'] : never;

/** The stream definition of one name of a catalog. */
export type CatalogStream<C, N extends CatalogStreamName<C>> =
  C extends Catalog<infer S> ? Extract<S[number], { name: N }> : never;

/** A record of a stream as the caller gives it (optional fields may be left out). */
export type CatalogInput<C, N extends CatalogStreamName<C>> = z.input<CatalogStream<C, N>['schema']>;

/** A record of a stream as stored and sent to the lake (normalized, nulls explicit). */
export type CatalogRecord<C, N extends CatalogStreamName<C>> = z.output<CatalogStream<C, N>['schema']>;

/**
 * What a typed `emit` accepts for a catalog: `{ stream, data }` where `data` has the type of
 * that stream's record, as a union over the catalog's streams (so `stream` narrows `data`).
 */
export type CatalogEvent<C> = {
  [N in CatalogStreamName<C>]: { stream: N; data: CatalogInput<C, N> };
}[CatalogStreamName<C>];

/**
 * Gathers streams made by `defineStream` into a catalog. Throws a `LakehouseError` (code
 * `CONFIG`) for an empty list, something that is not a defined stream, and two streams with
 * the same name or the same lake table (they would write into each other).
 */
export function defineCatalog<const S extends readonly LakeStream[]>(streams: S): Catalog<S> {
  if (!Array.isArray(streams) || streams.length === 0) {
    throw new LakehouseError('CONFIG', 'catalog: give a non-empty list of streams made with defineStream');
  }
  const byName = new Map<string, S[number]>();
  const tables = new Map<string, string>();
  streams.forEach((s, i) => {
    if (!s || typeof s !== 'object' || !('columns' in s) || typeof s.name !== 'string') {
      throw new LakehouseError('CONFIG', `catalog: entry #${i} is not a stream made with defineStream`);
    }
    if (byName.has(s.name))
      throw new LakehouseError('CONFIG', `catalog: stream "${s.name}" is defined twice`);
    const other = tables.get(s.lake.table);
    if (other !== undefined) {
      throw new LakehouseError(
        'CONFIG',
        `catalog: streams "${other}" and "${s.name}" both write lake table "${s.lake.table}"`,
      );
    }
    byName.set(s.name, s);
    tables.set(s.lake.table, s.name);
  });
  const names = [...byName.keys()] as S[number]['name'][];
  return Object.freeze({
    list: Object.freeze([...streams]) as unknown as S,
    streams: Object.freeze(Object.fromEntries(byName)) as Catalog<S>['streams'],
    names: Object.freeze(names),
    get: (name: string) => byName.get(name),
    has: (name: string): name is S[number]['name'] => byName.has(name),
  });
}
