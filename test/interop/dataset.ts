import type { StreamName } from '../../src/domain/catalog.js';

/**
 * The interop suite's known data set: every stream, four tenants (one of them `shop:eu`,
 * whose `:` DuckDB escapes in partition directory names), three months. Deterministic:
 * event ids and values follow from the record's position, so every run writes the same rows.
 */
export const TENANTS = ['shop:eu', 'acme', '0195134f-8258-7e85', 'b.2-x_y'] as const;

/** The months of the data set, in two rounds: the first is appended, then the second. */
export const ROUNDS = [['2025-12', '2026-01'], ['2026-02']] as const;

type Rec = Record<string, unknown>;

const uuid = (stream: number, n: number) =>
  `00000000-0000-4000-8000-${String(stream).padStart(4, '0')}${String(n).padStart(8, '0')}`;

const pick = <T>(list: readonly T[], i: number): T => list[i % list.length]!;

/** A time in `month`: records i and i+1 (even i) share a day, so day partitions get two of them. */
function at(month: string, i: number, ms = 0): string {
  const day = String(1 + ((Math.floor(i / 2) * 7) % 28)).padStart(2, '0');
  const hour = String((i * 5) % 24).padStart(2, '0');
  return `${month}-${day}T${hour}:${String((i * 13) % 60).padStart(2, '0')}:07.${String(ms).padStart(3, '0')}Z`;
}

const builders: Record<StreamName, (tenant: string, month: string, i: number) => Rec> = {
  orders: (tenant, month, i) => ({
    order_id: `o-${tenant}-${month}-${i}`,
    tenant_id: tenant,
    site_id: `s${i % 2}`,
    customer_id: i % 4 === 3 ? null : `c${i % 3}`,
    total_amount: Number((10 + i * 3.1234 + month.length).toFixed(4)),
    currency: 'EUR',
    status: pick(['placed', 'paid', 'fulfilled', 'cancelled'] as const, i),
    payment_method: i % 3 === 2 ? null : 'card',
    item_count: 1 + (i % 4),
    created_at: at(month, i, i === 0 ? 999 : 0),
  }),
  product_changes: (tenant, month, i) => ({
    product_id: `p${i % 2}`,
    tenant_id: tenant,
    change_type: i % 3 === 2 ? 'stock' : 'price',
    old_price: i % 3 === 2 ? null : Number((5 + i * 0.5).toFixed(4)),
    new_price: i % 3 === 2 ? null : Number((5.25 + i * 0.75).toFixed(4)),
    old_stock: i % 3 === 2 ? 10 + i : null,
    new_stock: i % 3 === 2 ? 8 + i : null,
    changed_at: at(month, i),
  }),
  user_activity: (tenant, month, i) => ({
    tenant_id: tenant,
    site_id: i % 2 === 0 ? 's1' : null,
    session_id: `sess-${i % 3}`,
    user_id: i % 2 === 1 ? `u${i}` : null,
    activity_type: pick(['page_view', 'search', 'click'] as const, i),
    path: `/p/${i}`,
    search_query: i % 3 === 1 ? `shoes ${i}` : null,
    // Late in the UTC day, so a wrong time zone moves the `date` partition; two a day.
    occurred_at: `${month}-${String(3 + Math.floor(i / 2)).padStart(2, '0')}T23:${String(30 + i)}:00.000Z`,
  }),
  agent_decisions: (tenant, month, i) => ({
    decision_id: `d-${tenant}-${month}-${i}`,
    tenant_id: tenant,
    agent_type: 'pricing',
    action: `lower price ${i}`,
    input_summary: null,
    outcome: pick(['proposed', 'executed', 'rejected'] as const, i),
    confidence: i % 2 === 0 ? 0.25 * (i % 5) : null,
    model: 'm1',
    latency_ms: 100 + i,
    decided_at: at(month, i),
  }),
  sync_events: (tenant, month, i) => ({
    tenant_id: tenant,
    source: 'prestashop',
    entity: pick(['product', 'order', 'stock'] as const, i),
    entity_id: `e${i}`,
    operation: pick(['create', 'update', 'delete'] as const, i),
    direction: i % 2 === 0 ? 'inbound' : 'outbound',
    status: i % 4 === 3 ? 'failed' : 'success',
    error: i % 4 === 3 ? 'timeout' : null,
    duration_ms: 30 + i,
    synced_at: at(month, i),
  }),
  api_calls: (tenant, month, i) => ({
    request_id: `r-${tenant}-${month}-${i}`,
    tenant_id: tenant,
    route: '/v1/orders',
    method: pick(['GET', 'POST'] as const, i),
    status_code: i % 5 === 4 ? 500 : 200,
    duration_ms: 1.5 * (i + 1),
    api_key_id: i % 2 === 0 ? 'k1' : null,
    called_at: at(month, i),
  }),
};

export const STREAMS = Object.keys(builders) as StreamName[];

/**
 * Records per tenant and month: `acme` has fewer, so counts differ between tenants, and
 * `b.2-x_y` drops from 5 to 2 in February, so the churn report has a row.
 */
const perMonth = (tenant: string, month: string) =>
  tenant === 'acme' || (tenant === 'b.2-x_y' && month === '2026-02') ? 2 : 5;

/** The records of one round, per stream, each with a deterministic `event_id`. */
export function roundRecords(round: number): Record<StreamName, Rec[]> {
  const out = {} as Record<StreamName, Rec[]>;
  STREAMS.forEach((stream, s) => {
    const recs: Rec[] = [];
    ROUNDS.forEach((months, r) => {
      let n = 0;
      for (const month of months) {
        for (const tenant of TENANTS) {
          for (let i = 0; i < perMonth(tenant, month); i++) {
            n++;
            if (r === round)
              recs.push({
                event_id: uuid(s * 10 + r, n),
                event_type: `${stream}.recorded`,
                ...builders[stream](tenant, month, i),
              });
          }
        }
      }
    });
    out[stream] = recs;
  });
  return out;
}
