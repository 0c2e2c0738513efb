import type { StreamInput } from '../../src/domain/catalog.js';
import { isValidationError, type ValidationError } from '../../src/errors.js';

/** The ValidationError `fn` throws (fails the test when it throws nothing or something else). */
export function rejection(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    if (isValidationError(e)) return e;
    throw e;
  }
  throw new Error('expected a ValidationError');
}

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
