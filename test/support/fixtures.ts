import type { StreamInput } from '../../src/domain/catalog.js';

/** A valid `orders` record. */
export const order = (
  id: string,
  tenant = 't1',
  extra: Partial<StreamInput<'orders'>> = {},
): StreamInput<'orders'> => ({
  order_id: id,
  tenant_id: tenant,
  site_id: 's1',
  total_amount: 10.5,
  currency: 'EUR',
  status: 'placed',
  item_count: 1,
  created_at: '2026-02-01T10:00:00Z',
  ...extra,
});
