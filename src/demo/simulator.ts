import type pg from 'pg';
import { v5 as uuidv5 } from 'uuid';
import type { EventInput } from '../domain/envelope.js';
import {
  cancelOrder,
  fulfillOrder,
  type OrderState,
  orderAggregate,
  payOrder,
  placeOrder,
  refundOrder,
} from '../domain/order.js';
import { ident } from '../outbox/executor.js';
import type { Outbox } from '../outbox/outbox.js';
import type { PartitionRef } from '../outbox/rows.js';
import type { Rng } from './random.js';
import type { Tenant } from './world.js';

export interface SimulatorOptions {
  pool: pg.Pool;
  outbox: Outbox;
  demoSchema: string;
  rng: Rng;
  /** Called after each COMMIT with the partitions that got events (the relay's wake). */
  wake: (partitions: PartitionRef[]) => Promise<void>;
}

/** Namespace of the demo's deterministic ids (UUIDv5). */
const DEMO_NS = '6f1c9a52-3c1b-4f0e-9d7a-0c5d2b8e4a11';
const PATHS = ['/', '/shop', '/shop/new', '/cart', '/checkout', '/account', '/blog/spring-sale'];
const SEARCHES = ['coffee', 'linen', 'gift card', 'usb c', 'olive oil', 'tulips', 'sale'];
const AGENTS = ['pricing', 'restock', 'support', 'fraud'];
const ROUTES = [
  '/api/v1/orders',
  '/api/v1/products',
  '/api/v1/customers',
  '/api/v1/stock',
  '/api/v1/reports',
];
const PAYMENT = ['card', 'paypal', 'sepa', 'apple_pay'];

const at = (base: Date, minutes: number) => new Date(base.getTime() + minutes * 60_000);
const money = (v: number) => Math.round(v * 100) / 100;

/**
 * The simulated Company Manager: each business operation writes its own tables and its
 * events through the outbox in ONE transaction, then wakes the relay after COMMIT.
 */
export function createSimulator(options: SimulatorOptions) {
  const { pool, outbox, rng } = options;
  const s = ident(options.demoSchema);
  let emitted = 0;
  let orderSeq = 0;

  async function tx(fn: (c: pg.PoolClient) => Promise<PartitionRef[]>): Promise<void> {
    const client = await pool.connect();
    let partitions: PartitionRef[];
    try {
      await client.query('BEGIN');
      partitions = await fn(client);
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
    // Not awaited: a wake only saves latency (the relay's sweep finds the events anyway), and
    // waiting on Redis for every commit would halve the simulated load.
    void options.wake(partitions);
  }

  async function emit(c: pg.PoolClient, events: EventInput[]): Promise<PartitionRef[]> {
    const r = await outbox.emit(c, ...events);
    emitted += r.written;
    return r.partitions;
  }

  /** Creates a tenant's products (business rows and `created` events). */
  async function createProducts(t: Tenant, when: Date): Promise<void> {
    await tx(async (c) => {
      for (const p of t.products) {
        await c.query(
          `INSERT INTO ${s}.products (product_id, tenant_id, name, price, stock, updated_at) VALUES ($1,$2,$3,$4,$5,$6)
           ON CONFLICT (product_id) DO UPDATE SET price = EXCLUDED.price, stock = EXCLUDED.stock, updated_at = EXCLUDED.updated_at`,
          [p.product_id, t.tenant_id, p.name, p.price, p.stock, when],
        );
      }
      return emit(
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

  /**
   * One order's life through the Order aggregate: placed, then paid or cancelled, then
   * fulfilled, sometimes refunded. Each step is its own transaction (the order row update and
   * the event), appended with the expected version, as an application would do it.
   */
  async function orderLifecycle(t: Tenant, when: Date): Promise<void> {
    const orderId = `ord-${t.tenant_id.slice(0, 8)}-${(++orderSeq).toString(36)}-${rng.hex(6)}`;
    const product = rng.pick(t.products);
    const items = rng.int(1, 4);
    const total = money(product.price * items + rng.int(0, 900) / 100);
    let state: OrderState = orderAggregate.initialState();
    const ref = { type: orderAggregate.type, id: orderId };
    const step = async (decide: (st: OrderState) => ReturnType<typeof placeOrder>, stockDelta = 0) => {
      await tx(async (c) => {
        const event = decide(state);
        const r = await outbox.appendToStream(c, ref, [event], { expectedVersion: state.version });
        emitted += r.written;
        const rec = event.data;
        await c.query(
          `INSERT INTO ${s}.orders (order_id, tenant_id, site_id, customer_id, total_amount, currency, status,
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
        state = orderAggregate.evolve(state, event);
        const parts = [...r.partitions];
        if (stockDelta !== 0) parts.push(...(await stockChange(c, t, product.product_id, stockDelta, when)));
        return parts;
      });
    };
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

  async function stockChange(
    c: pg.PoolClient,
    t: Tenant,
    productId: string,
    delta: number,
    when: Date,
  ): Promise<PartitionRef[]> {
    const { rows } = await c.query<{ old: number; new: number }>(
      `UPDATE ${s}.products p SET stock = GREATEST(0, p.stock + $2), updated_at = $3
         FROM (SELECT stock FROM ${s}.products WHERE product_id = $1 FOR UPDATE) o
        WHERE p.product_id = $1 RETURNING o.stock AS old, p.stock AS new`,
      [productId, delta, when],
    );
    const row = rows[0];
    if (!row) return [];
    return emit(c, [
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
  async function priceChange(t: Tenant, when: Date): Promise<void> {
    const p = rng.pick(t.products);
    await tx(async (c) => {
      const { rows } = await c.query<{ price: string }>(
        `SELECT price FROM ${s}.products WHERE product_id = $1 FOR UPDATE`,
        [p.product_id],
      );
      const old = Number(rows[0]?.price ?? p.price);
      const next = money(Math.max(1, old * (1 + rng.int(-15, 18) / 100)));
      await c.query(`UPDATE ${s}.products SET price = $2, updated_at = $3 WHERE product_id = $1`, [
        p.product_id,
        next,
        when,
      ]);
      p.price = next;
      return emit(c, [
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

  /** A visitor session: page views, clicks and searches. */
  async function session(t: Tenant, when: Date): Promise<void> {
    const sessionId = `sess-${rng.hex(12)}`;
    const userId = rng.chance(0.4) ? rng.pick(t.customers) : null;
    const n = rng.int(2, 6);
    const events: EventInput[] = [];
    for (let i = 0; i < n; i++) {
      const kind = i === 0 ? 'page_view' : rng.pick(['page_view', 'click', 'search', 'add_to_cart'] as const);
      events.push({
        stream: 'user_activity',
        data: {
          tenant_id: t.tenant_id,
          site_id: rng.pick(t.sites),
          session_id: sessionId,
          user_id: userId,
          activity_type: kind,
          path: kind === 'search' ? '/search' : rng.pick(PATHS),
          search_query: kind === 'search' ? rng.pick(SEARCHES) : null,
          occurred_at: at(when, i),
        },
      });
    }
    await tx(async (c) => {
      await c.query(
        `INSERT INTO ${s}.page_events (tenant_id, session_id, kind, path, occurred_at)
         SELECT $1, $2, e->'data'->>'activity_type', e->'data'->>'path', (e->'data'->>'occurred_at')::timestamptz
           FROM jsonb_array_elements($3::jsonb) e`,
        [t.tenant_id, sessionId, JSON.stringify(events)],
      );
      return emit(c, events);
    });
  }

  /** An AI agent decision, logged by the agent runtime. */
  async function agentDecision(t: Tenant, when: Date): Promise<void> {
    const decisionId = uuidv5(`${t.tenant_id}/${when.toISOString()}/${rng.hex(8)}`, DEMO_NS);
    const agent = rng.pick(AGENTS);
    const outcome = rng.pick(['proposed', 'executed', 'executed', 'rejected', 'failed'] as const);
    const action = `${agent}:${rng.pick(['adjust_price', 'reorder', 'reply_ticket', 'hold_order'])}`;
    await tx(async (c) => {
      await c.query(
        `INSERT INTO ${s}.agent_actions (decision_id, tenant_id, agent_type, action, outcome, decided_at)
         VALUES ($1,$2,$3,$4,$5,$6)`,
        [decisionId, t.tenant_id, agent, action, outcome, when],
      );
      return emit(c, [
        {
          stream: 'agent_decisions',
          data: {
            decision_id: decisionId,
            tenant_id: t.tenant_id,
            agent_type: agent,
            action,
            input_summary: `signals for ${t.name}`,
            outcome,
            confidence: rng.int(40, 99) / 100,
            model: 'cm-agent-small',
            latency_ms: rng.int(80, 2400),
            decided_at: when,
          },
        },
      ]);
    });
  }

  /** A Prestashop synchronization of one entity. */
  async function prestashopSync(t: Tenant, when: Date): Promise<void> {
    const entity = rng.pick(['product', 'order', 'customer', 'stock', 'price'] as const);
    const entityId = entity === 'customer' ? rng.pick(t.customers) : rng.pick(t.products).product_id;
    const status = rng.chance(0.93) ? ('success' as const) : ('failed' as const);
    await tx(async (c) => {
      await c.query(
        `INSERT INTO ${s}.sync_jobs (tenant_id, entity, entity_id, status, synced_at) VALUES ($1,$2,$3,$4,$5)`,
        [t.tenant_id, entity, entityId, status, when],
      );
      return emit(c, [
        {
          stream: 'sync_events',
          data: {
            tenant_id: t.tenant_id,
            source: 'prestashop',
            entity,
            entity_id: entityId,
            operation: rng.pick(['create', 'update', 'upsert'] as const),
            direction: rng.pick(['inbound', 'outbound'] as const),
            status,
            error: status === 'failed' ? 'HTTP 503 from Prestashop webservice' : null,
            duration_ms: rng.int(30, 1800),
            synced_at: when,
          },
        },
      ]);
    });
  }

  /** A call of the public API. */
  async function apiCall(t: Tenant, when: Date): Promise<void> {
    const requestId = uuidv5(`${t.tenant_id}/${when.toISOString()}/${rng.hex(8)}`, DEMO_NS);
    const route = rng.pick(ROUTES);
    const status = rng.chance(0.95) ? 200 : rng.pick([400, 404, 429, 500]);
    await tx(async (c) => {
      await c.query(
        `INSERT INTO ${s}.api_requests (request_id, tenant_id, route, status_code, called_at) VALUES ($1,$2,$3,$4,$5)`,
        [requestId, t.tenant_id, route, status, when],
      );
      return emit(c, [
        {
          stream: 'api_calls',
          data: {
            request_id: requestId,
            tenant_id: t.tenant_id,
            route,
            method: route.endsWith('reports') ? 'GET' : rng.pick(['GET', 'GET', 'POST', 'PATCH'] as const),
            status_code: status,
            duration_ms: rng.int(5, 900),
            api_key_id: `key-${t.tenant_id.slice(0, 8)}`,
            called_at: when,
          },
        },
      ]);
    });
  }

  return {
    get emitted() {
      return emitted;
    },
    createProducts,
    orderLifecycle,
    priceChange,
    session,
    agentDecision,
    prestashopSync,
    apiCall,
  };
}

export type Simulator = ReturnType<typeof createSimulator>;
