import type pg from 'pg';
import type { PartitionRef } from '../../outbox/rows.js';
import type { Tenant } from '../world.js';
import type { SimContext } from './context.js';

const money = (v: number) => Math.round(v * 100) / 100;

/** Creates a tenant's products (business rows and `created` events). */
export async function createProducts(ctx: SimContext, t: Tenant, when: Date): Promise<void> {
  await ctx.tx(async (c) => {
    for (const p of t.products) {
      await c.query(
        `INSERT INTO ${ctx.s}.products (product_id, tenant_id, name, price, stock, updated_at) VALUES ($1,$2,$3,$4,$5,$6)
         ON CONFLICT (product_id) DO UPDATE SET price = EXCLUDED.price, stock = EXCLUDED.stock, updated_at = EXCLUDED.updated_at`,
        [p.product_id, t.tenant_id, p.name, p.price, p.stock, when],
      );
    }
    return ctx.emit(
      c,
      t.products.map((p) => ({
        stream: 'product_changes' as const,
        data: {
          product_id: p.product_id,
          tenant_id: t.tenant_id,
          change_type: 'created' as const,
          old_price: null,
          new_price: p.price,
          old_stock: null,
          new_stock: p.stock,
          changed_at: when,
        },
      })),
    );
  });
}

/** Moves a product's stock by `delta` (never below 0) and emits the `stock` change, in the caller's transaction. */
export async function stockChange(
  ctx: SimContext,
  c: pg.PoolClient,
  t: Tenant,
  productId: string,
  delta: number,
  when: Date,
): Promise<PartitionRef[]> {
  const { rows } = await c.query<{ old: number; new: number }>(
    `UPDATE ${ctx.s}.products p SET stock = GREATEST(0, p.stock + $2), updated_at = $3
       FROM (SELECT stock FROM ${ctx.s}.products WHERE product_id = $1 FOR UPDATE) o
      WHERE p.product_id = $1 RETURNING o.stock AS old, p.stock AS new`,
    [productId, delta, when],
  );
  const row = rows[0];
  if (!row) return [];
  return ctx.emit(c, [
    {
      stream: 'product_changes',
      data: {
        product_id: productId,
        tenant_id: t.tenant_id,
        change_type: 'stock',
        old_price: null,
        new_price: null,
        old_stock: row.old,
        new_stock: row.new,
        changed_at: when,
      },
    },
  ]);
}

/** A price change of one product (the product row and the event in one transaction). */
export async function priceChange(ctx: SimContext, t: Tenant, when: Date): Promise<void> {
  const { rng } = ctx;
  const p = rng.pick(t.products);
  await ctx.tx(async (c) => {
    const { rows } = await c.query<{ price: string }>(
      `SELECT price FROM ${ctx.s}.products WHERE product_id = $1 FOR UPDATE`,
      [p.product_id],
    );
    const old = Number(rows[0]?.price ?? p.price);
    const next = money(Math.max(1, old * (1 + rng.int(-15, 18) / 100)));
    await c.query(`UPDATE ${ctx.s}.products SET price = $2, updated_at = $3 WHERE product_id = $1`, [
      p.product_id,
      next,
      when,
    ]);
    p.price = next;
    return ctx.emit(c, [
      {
        stream: 'product_changes',
        data: {
          product_id: p.product_id,
          tenant_id: t.tenant_id,
          change_type: 'price',
          old_price: old,
          new_price: next,
          old_stock: null,
          new_stock: null,
          changed_at: when,
        },
      },
    ]);
  });
}
