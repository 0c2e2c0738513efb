import type { PipelineDefinition } from './types.js';

/** The Cloudflare names of one version of a pipeline's resources. */
export interface VersionNames {
  version: number;
  stream: string;
  sink: string;
  pipeline: string;
  /** Iceberg table the sink creates (in the definition's namespace). */
  table: string;
}

/**
 * Names of version `version` of a definition's resources. Version 1 keeps the plain names
 * (`orders`, `orders_sink`, `orders_events`, table `orders`); version N > 1 appends `_vN`
 * (`orders_v2`, `orders_v2_sink`, `orders_events_v2`, table `orders_v2`). Cloudflare cannot
 * alter a stream schema, a sink or pipeline SQL, and a sink cannot adopt an existing table,
 * so every change is a new version next to the old one.
 */
export function versionNames(def: PipelineDefinition, version = 1): VersionNames {
  const v = version > 1 ? `_v${version}` : '';
  const table = `${def.destination.table}${v}`;
  return { version, stream: `${def.stream}${v}`, sink: `${table}_sink`, pipeline: `${def.name}${v}`, table };
}

/**
 * The version a deployed name is of, for one kind of resource of a definition
 * (`orders_v3` → 3 for the stream, `orders` → 1), or undefined when it is not one of them.
 */
export function versionOfName(
  def: PipelineDefinition,
  kind: 'stream' | 'sink' | 'pipeline',
  name: string,
): number | undefined {
  const base = versionNames(def, 1)[kind];
  if (name === base) return 1;
  const pattern =
    kind === 'sink' ? new RegExp(`^${def.destination.table}_v(\\d+)_sink$`) : new RegExp(`^${base}_v(\\d+)$`);
  const m = pattern.exec(name);
  const n = m ? Number(m[1]) : Number.NaN;
  return Number.isInteger(n) && n > 1 ? n : undefined;
}
