import { streams } from './catalog.js';
import { defineCatalog } from './defineCatalog.js';
import { defineStream } from './defineStream.js';

/**
 * Company Manager's six streams as a catalog: the same schemas, partition keys, time fields
 * and event types as `streams` in `catalog.ts`, with the lake partitions of the plan's table
 * design. This is the catalog in use when no `lakehouse.config.ts` is found.
 *
 * The lake transforms (Pipelines SQL) of these six streams still live in
 * `src/pipelines/definitions.ts`; only the partition columns are repeated here.
 */
export const defaultCatalog = defineCatalog([
  defineStream({ ...streams.orders, name: 'orders', lake: { partition: ['tenant_id', 'year', 'month'] } }),
  defineStream({
    ...streams.product_changes,
    name: 'product_changes',
    lake: { partition: ['tenant_id', 'year'] },
  }),
  defineStream({
    ...streams.user_activity,
    name: 'user_activity',
    lake: { partition: ['tenant_id', 'date'] },
  }),
  defineStream({
    ...streams.agent_decisions,
    name: 'agent_decisions',
    lake: { partition: ['tenant_id', 'agent_type'] },
  }),
  defineStream({ ...streams.sync_events, name: 'sync_events', lake: { partition: ['tenant_id', 'source'] } }),
  defineStream({ ...streams.api_calls, name: 'api_calls', lake: { partition: ['tenant_id', 'date'] } }),
]);

/** The type of {@link defaultCatalog}. */
export type DefaultCatalog = typeof defaultCatalog;
