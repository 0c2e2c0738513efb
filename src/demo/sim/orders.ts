import type pg from 'pg';
import {
  cancelOrder,
  fulfillOrder,
  type OrderState,
  orderAggregate,
  payOrder,
  placeOrder,
  refundOrder,
} from '../../domain/order.js';
import type { PartitionRef } from '../../outbox/rows.js';
import type { Tenant } from '../world.js';
import type { SimContext } from './context.js';
import { stockChange } from './products.js';

const PAYMENT = ['card', 'paypal', 'sepa', 'apple_pay'];
const money = (v: number) => Math.round(v * 100) / 100;

type OrderEvent = ReturnType<typeof placeOrder>;

/** Upserts the application's row of an order from the event just decided. */
async function writeOrderRow(ctx: SimContext, c: pg.PoolClient, event: OrderEvent): Promise<void> {
  const rec = event.data;
  await c.query(
    `INSERT INTO ${ctx.s}.orders (order_id, tenant_id, site_id, customer_id, total_amount, currency, status,
                                  payment_method, item_count, created_at, updated_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10, now())
     ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, payment_method = EXCLUDED.payment_method,
                                          updated_at = now()`,
    [
      rec.order_id,
      rec.tenant_id,
      rec.site_id,
      rec.customer_id,
      rec.total_amount,
      rec.currency,
      rec.status,
      rec.payment_method,
      rec.item_count,
      rec.created_at,
    ],
  );
}

/**
 * One order's life through the Order aggregate: placed, then paid or cancelled, then
 * fulfilled, sometimes refunded. Each step is its own transaction (the order row update and
 * the event), appended with the expected version, as an application would do it.
 */
export async function orderLifecycle(ctx: SimContext, t: Tenant, when: Date): Promise<void> {
  const { rng } = ctx;
  const orderId = ctx.nextOrderId(t.tenant_id);
  const product = rng.pick(t.products);
  const items = rng.int(1, 4);
  const total = money(product.price * items + rng.int(0, 900) / 100);
  let state: OrderState = orderAggregate.initialState();
  const ref = { type: orderAggregate.type, id: orderId };
  const step = (decide: (st: OrderState) => OrderEvent, stockDelta = 0) =>
    ctx.tx(async (c) => {
      const event = decide(state);
      const r = await ctx.outbox.appendToStream(c, ref, [event], { expectedVersion: state.version });
      ctx.emitted += r.written;
      await writeOrderRow(ctx, c, event);
      state = orderAggregate.evolve(state, event);
      const parts: PartitionRef[] = [...r.partitions];
      if (stockDelta !== 0)
        parts.push(...(await stockChange(ctx, c, t, product.product_id, stockDelta, when)));
      return parts;
    });
  await step((st) =>
    placeOrder(st, {
      order_id: orderId,
      tenant_id: t.tenant_id,
      site_id: rng.pick(t.sites),
      customer_id: rng.chance(0.9) ? rng.pick(t.customers) : null,
      total_amount: total,
      currency: 'EUR',
      payment_method: null,
      item_count: items,
      created_at: when,
    }),
  );
  if (rng.chance(0.12)) return step((st) => cancelOrder(st));
  await step((st) => payOrder(st, rng.pick(PAYMENT)), -items);
  if (rng.chance(0.06)) return step((st) => refundOrder(st), items);
  await step((st) => fulfillOrder(st));
  if (rng.chance(0.03)) await step((st) => refundOrder(st), items);
}
