import type pg from 'pg';
import { ident } from '../outbox/executor.js';
import { createRng, type Rng } from './random.js';

/** One simulated Company Manager tenant (a shop) with its sites, customers and products. */
export interface Tenant {
  tenant_id: string;
  name: string;
  /** Orders per day at the start of the history. */
  ordersPerDay: number;
  /** Multiplier of the order volume per month after the first (below 1: a tenant at churn risk). */
  monthlyTrend: number;
  sites: string[];
  customers: string[];
  products: { product_id: string; name: string; price: number; stock: number }[];
}

/**
 * The tenant of the plan's example queries comes first, so the "monthly trend" and "price
 * changes" queries, which name it, find data.
 */
export const FIRST_TENANT_ID = '0195134f-8258-7e85';
const SECOND_TENANT_ID = '0192d7b9-41c2-7a10';
const SHOPS = [
  'Atelier Nord',
  'Bistro Verde',
  'Cycles Lumière',
  'Data Hardware',
  'Epicerie Fine',
  'Flora & Co',
];
const PRODUCTS = [
  'Espresso beans',
  'Linen shirt',
  'Bike light',
  'USB-C hub',
  'Olive oil',
  'Tulip bulbs',
  'Notebook',
];

/** Builds a deterministic world of `count` tenants. */
export function buildWorld(count: number, seed = 42): { tenants: Tenant[]; rng: Rng } {
  const rng = createRng(seed);
  const tenants: Tenant[] = [];
  for (let i = 0; i < count; i++) {
    const tenant_id =
      i === 0
        ? FIRST_TENANT_ID
        : i === 1
          ? SECOND_TENANT_ID
          : `019${rng.hex(5)}-${rng.hex(4)}-7${rng.hex(3)}`;
    const short = tenant_id.slice(0, 8);
    tenants.push({
      tenant_id,
      name: `${SHOPS[i % SHOPS.length]}${i >= SHOPS.length ? ` ${i}` : ''}`,
      ordersPerDay: rng.int(3, 6),
      // Every third tenant loses about half of its orders each month: churn risk shows up.
      monthlyTrend: i % 3 === 2 ? 0.45 : 1 + rng.int(0, 20) / 100,
      sites: Array.from({ length: rng.int(1, 3) }, (_, k) => `site-${short}-${k + 1}`),
      customers: Array.from({ length: 40 }, (_, k) => `cust-${short}-${k + 1}`),
      products: Array.from({ length: 8 }, (_, k) => ({
        product_id: `prod-${short}-${k + 1}`,
        name: PRODUCTS[k % PRODUCTS.length]!,
        price: rng.int(500, 9000) / 100,
        stock: rng.int(20, 200),
      })),
    });
  }
  return { tenants, rng };
}

/** Empties the demo business tables and writes the tenants, sites and customers (products are created with their events). */
export async function seedWorld(db: pg.Pool, demoSchema: string, tenants: Tenant[]): Promise<void> {
  const s = ident(demoSchema);
  await db.query(
    `TRUNCATE ${s}.tenants, ${s}.sites, ${s}.customers, ${s}.products, ${s}.orders, ${s}.page_events,
              ${s}.agent_actions, ${s}.sync_jobs, ${s}.api_requests`,
  );
  for (const t of tenants) {
    await db.query(`INSERT INTO ${s}.tenants (tenant_id, name) VALUES ($1, $2)`, [t.tenant_id, t.name]);
    await db.query(
      `INSERT INTO ${s}.sites (site_id, tenant_id, domain) SELECT x, $2, x || '.example' FROM unnest($1::text[]) x`,
      [t.sites, t.tenant_id],
    );
    await db.query(
      `INSERT INTO ${s}.customers (customer_id, tenant_id, email) SELECT x, $2, x || '@example.com' FROM unnest($1::text[]) x`,
      [t.customers, t.tenant_id],
    );
  }
}
