import type { z } from 'zod';
import { defaultCatalog } from '../domain/defaultCatalog.js';
import { LakehouseError } from '../errors.js';
import type { PipelineDefinition } from './types.js';

/**
 * The record schema a pipeline reads: its own `schema` (set for streams of a catalog),
 * else the built-in stream of that name. Throws `CONFIG` naming the pipeline otherwise.
 */
export function recordSchemaOf(
  def: Pick<PipelineDefinition, 'stream' | 'schema'> & { name?: string },
): z.ZodObject {
  const schema = def.schema ?? defaultCatalog.get(def.stream)?.schema;
  if (!schema) {
    throw new LakehouseError(
      'CONFIG',
      `pipeline ${def.name ?? def.stream}: unknown stream "${def.stream}"; give its record schema ` +
        `(pipelinesOf(catalog) does) or use a built-in stream: ${defaultCatalog.names.join(', ')}`,
    );
  }
  return schema;
}
