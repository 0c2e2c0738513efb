import { z } from 'zod';
import { ordersRecord } from '../../src/domain/catalog.js';
import { defaultCatalog } from '../../src/domain/defaultCatalog.js';
import { defineStream } from '../../src/domain/defineStream.js';
import { id, money, nullable, tenantId, text, timestamp } from '../../src/domain/fields.js';

/** A stream of a user's own: `refunds`, partitioned by tenant and year. */
export const refundsStream = defineStream({
  name: 'refunds',
  schema: z.strictObject({
    refund_id: id(),
    tenant_id: tenantId(),
    amount: money(),
    reason: nullable(text(256)),
    refunded_at: timestamp(),
  }),
  lake: { partition: ['tenant_id', 'year'] },
});

/** `orders` with an optional field `channel` added, as schema version 2. */
export const ordersWithChannel = defineStream({
  ...defaultCatalog.streams.orders,
  schema: ordersRecord.extend({ channel: nullable(text(32)) }),
  schemaVersion: 2,
});
