import { defaultCatalog } from '../domain/defaultCatalog.js';
import type { Catalog } from '../domain/defineCatalog.js';
import type { LakeStream } from '../domain/defineStream.js';
import { LakehouseError } from '../errors.js';
import { definePipeline } from './definePipeline.js';
import { pipelines as builtIn } from './definitions.js';
import type { PipelineDefinition } from './types.js';

/** SQL of each time partition, computed from the stream's time field (see `definitions.ts`). */
const TIME_COLUMN: Record<string, (ts: string) => string> = {
  year: (ts) => `CAST(EXTRACT(YEAR FROM ${ts}) AS INT)`,
  month: (ts) => `CAST(EXTRACT(MONTH FROM ${ts}) AS INT)`,
  day: (ts) => `CAST(EXTRACT(DAY FROM ${ts}) AS INT)`,
  hour: (ts) => `CAST(EXTRACT(HOUR FROM ${ts}) AS INT)`,
  date: (ts) => `CAST(${ts} AS DATE)`,
};

/** The `WHERE` of a built-in transform (the plan's filter of `orders`), kept when the stream changes. */
function builtInFilter(def: PipelineDefinition | undefined): string | undefined {
  return def ? /\nWHERE ([\s\S]+)$/.exec(def.transform)?.[1] : undefined;
}

/**
 * The transform of a stream without its own: every field (after `event_id`, `event_type`)
 * plus the time partitions it lists that are not fields, in the layout of the built-in
 * definitions, so an unchanged built-in stream gets the very same SQL.
 */
export function defaultTransform(stream: LakeStream, where?: string): string {
  const columns = ['event_id', 'event_type', ...Object.keys(stream.columns)].map(
    (f) => `  event.${f} AS ${f}`,
  );
  for (const p of stream.lake.partition) {
    const time = TIME_COLUMN[p];
    if (!(p in stream.columns) && time) columns.push(`  ${time(`event.${stream.timeField}`)} AS ${p}`);
  }
  return ['SELECT', columns.join(',\n'), 'FROM source AS event', ...(where ? [`WHERE ${where}`] : [])].join(
    '\n',
  );
}

/** The pipeline of one stream of a catalog. */
export function pipelineOf(stream: LakeStream): PipelineDefinition {
  const known = (builtIn as Record<string, PipelineDefinition | undefined>)[stream.name];
  // Company Manager's streams, unchanged: the hand-written definitions, exactly.
  if (known && defaultCatalog.get(stream.name) === stream) return known;
  return definePipeline({
    name: known?.name ?? `${stream.name}_events`,
    stream: stream.name,
    schema: stream.schema,
    source: known?.source ?? 'http',
    destination: {
      type: 'r2-data-catalog',
      format: 'iceberg',
      namespace: known?.destination.namespace ?? 'lakehouse',
      table: stream.lake.table,
      partition: [...stream.lake.partition],
    },
    transform: stream.lake.transform ?? defaultTransform(stream, builtInFilter(known)),
  });
}

/**
 * The pipelines of a catalog, one per stream, in its order: the built-in definitions for
 * Company Manager's unchanged streams; for the others, the stream's own `lake.transform` or
 * every field plus its time partitions. A built-in stream that gained fields keeps its
 * pipeline name and the plan's filter (`orders`: `total_amount > 0`). Each definition
 * but the unchanged built-in ones carries its stream's record schema.
 */
export function pipelinesOf(catalog: Catalog = defaultCatalog): PipelineDefinition[] {
  return catalog.list.map(pipelineOf);
}

/** The pipeline of a catalog's stream; throws `NOT_FOUND` naming the catalog's streams. */
export function catalogPipelineFor(catalog: Catalog, stream: string): PipelineDefinition {
  const s = catalog.get(stream);
  if (!s) {
    throw new LakehouseError(
      'NOT_FOUND',
      `no pipeline for stream "${stream}"; streams with a pipeline: ${catalog.names.join(', ')}`,
    );
  }
  return pipelineOf(s);
}
