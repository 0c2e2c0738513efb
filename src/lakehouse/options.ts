import { resolve } from 'node:path';
import { z } from 'zod';
import { LakehouseError } from '../errors.js';

export const DEFAULT_WAREHOUSE = './.lakehouse/warehouse';

/** The warehouse directory: the given one, else `LAKEHOUSE_WAREHOUSE`, else `./.lakehouse/warehouse`. */
export function resolveWarehouse(given?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(given || env.LAKEHOUSE_WAREHOUSE || DEFAULT_WAREHOUSE);
}

const serveSchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(0).max(65535),
  maxBodyBytes: z.number().int().positive(),
  rollIntervalMs: z.number().int().min(10),
  rollRecords: z.number().int().positive(),
});

/** Validates `serve` options, failing fast with the option's name and the allowed values. */
export function resolveServeOptions(input: z.input<typeof serveSchema>): z.output<typeof serveSchema> {
  const r = serveSchema.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new LakehouseError('CONFIG', `invalid option ${String(i.path[0])}: ${i.message}`);
  }
  return r.data;
}
