/**
 * The config `lakehouse init` writes: Company Manager's six streams, unchanged, and a
 * commented example of a stream of your own. Plain JavaScript syntax, so the same text is a
 * valid `lakehouse.config.ts`, `.js` or `.mjs`.
 */
export const STARTER_CONFIG = `// Streams of this deployment. Every lakehouse command loads this file
// (or the one given with --config / LAKEHOUSE_CONFIG).
// After a change: \`lakehouse schema check\`; once deployed: \`lakehouse schema snapshot\`.
import { z } from 'zod';
import {
  defaultCatalog,
  defineCatalog,
  defineConfig,
  defineStream,
  id,
  money,
  nullable,
  tenantId,
  text,
  timestamp,
} from '@company-manager/lakehouse/config';

// A stream of your own: a strict zod object of lake-storable fields (see README,
// "Define your own streams"). Add it to the catalog below to use it.
export const refunds = defineStream({
  name: 'refunds',
  schema: z.strictObject({
    refund_id: id(),
    tenant_id: tenantId(),
    order_id: id(),
    amount: money(),
    reason: nullable(text(256)),
    refunded_at: timestamp(),
  }),
  partitionKey: 'tenant_id',
  lake: { partition: ['tenant_id', 'year'] },
});

export default defineConfig({
  // To add refunds: defineCatalog([...defaultCatalog.list, refunds])
  catalog: defineCatalog([...defaultCatalog.list]),
  relay: {
    defaults: { onPoison: 'park' },
    streams: {},
  },
  schemaSnapshot: 'lakehouse/schema.snapshot.json',
});
`;
