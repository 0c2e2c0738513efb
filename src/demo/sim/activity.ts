import { v5 as uuidv5 } from 'uuid';
import type { EventInput } from '../../domain/envelope.js';
import type { Tenant } from '../world.js';
import type { SimContext } from './context.js';

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

const at = (base: Date, minutes: number) => new Date(base.getTime() + minutes * 60_000);

/** The events of one visitor session: page views, clicks and searches. */
function sessionEvents(ctx: SimContext, t: Tenant, when: Date, sessionId: string): EventInput[] {
  const { rng } = ctx;
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
  return events;
}

/** A visitor session, written to the page log and the outbox together. */
export async function session(ctx: SimContext, t: Tenant, when: Date): Promise<void> {
  const sessionId = `sess-${ctx.rng.hex(12)}`;
  const events = sessionEvents(ctx, t, when, sessionId);
  await ctx.tx(async (c) => {
    await c.query(
      `INSERT INTO ${ctx.s}.page_events (tenant_id, session_id, kind, path, occurred_at)
       SELECT $1, $2, e->'data'->>'activity_type', e->'data'->>'path', (e->'data'->>'occurred_at')::timestamptz
         FROM jsonb_array_elements($3::jsonb) e`,
      [t.tenant_id, sessionId, JSON.stringify(events)],
    );
    return ctx.emit(c, events);
  });
}

/** An AI agent decision, logged by the agent runtime. */
export async function agentDecision(ctx: SimContext, t: Tenant, when: Date): Promise<void> {
  const { rng } = ctx;
  const decisionId = uuidv5(`${t.tenant_id}/${when.toISOString()}/${rng.hex(8)}`, DEMO_NS);
  const agent = rng.pick(AGENTS);
  const outcome = rng.pick(['proposed', 'executed', 'executed', 'rejected', 'failed'] as const);
  const action = `${agent}:${rng.pick(['adjust_price', 'reorder', 'reply_ticket', 'hold_order'])}`;
  await ctx.tx(async (c) => {
    await c.query(
      `INSERT INTO ${ctx.s}.agent_actions (decision_id, tenant_id, agent_type, action, outcome, decided_at)
       VALUES ($1,$2,$3,$4,$5,$6)`,
      [decisionId, t.tenant_id, agent, action, outcome, when],
    );
    return ctx.emit(c, [
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
export async function prestashopSync(ctx: SimContext, t: Tenant, when: Date): Promise<void> {
  const { rng } = ctx;
  const entity = rng.pick(['product', 'order', 'customer', 'stock', 'price'] as const);
  const entityId = entity === 'customer' ? rng.pick(t.customers) : rng.pick(t.products).product_id;
  const status = rng.chance(0.93) ? ('success' as const) : ('failed' as const);
  await ctx.tx(async (c) => {
    await c.query(
      `INSERT INTO ${ctx.s}.sync_jobs (tenant_id, entity, entity_id, status, synced_at) VALUES ($1,$2,$3,$4,$5)`,
      [t.tenant_id, entity, entityId, status, when],
    );
    return ctx.emit(c, [
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
export async function apiCall(ctx: SimContext, t: Tenant, when: Date): Promise<void> {
  const { rng } = ctx;
  const requestId = uuidv5(`${t.tenant_id}/${when.toISOString()}/${rng.hex(8)}`, DEMO_NS);
  const route = rng.pick(ROUTES);
  const status = rng.chance(0.95) ? 200 : rng.pick([400, 404, 429, 500]);
  await ctx.tx(async (c) => {
    await c.query(
      `INSERT INTO ${ctx.s}.api_requests (request_id, tenant_id, route, status_code, called_at) VALUES ($1,$2,$3,$4,$5)`,
      [requestId, t.tenant_id, route, status, when],
    );
    return ctx.emit(c, [
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
