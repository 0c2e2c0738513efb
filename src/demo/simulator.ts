import { agentDecision, apiCall, prestashopSync, session } from './sim/activity.js';
import { createSimContext, type SimulatorOptions } from './sim/context.js';
import { orderLifecycle } from './sim/orders.js';
import { createProducts, priceChange } from './sim/products.js';
import type { Tenant } from './world.js';

export type { SimulatorOptions } from './sim/context.js';

/** One simulated business operation of a tenant at a point in time. */
export type SimOperation = (t: Tenant, when: Date) => Promise<void>;

/** The simulated Company Manager, as {@link createSimulator} returns it. */
export interface Simulator {
  /** Events written so far. */
  readonly emitted: number;
  createProducts: SimOperation;
  orderLifecycle: SimOperation;
  priceChange: SimOperation;
  session: SimOperation;
  agentDecision: SimOperation;
  prestashopSync: SimOperation;
  apiCall: SimOperation;
}

/**
 * The simulated Company Manager: each business operation writes its own tables and its
 * events through the outbox in ONE transaction, then wakes the relay after COMMIT. The
 * operations live in `sim/`, one file per part of the business.
 */
export function createSimulator(options: SimulatorOptions): Simulator {
  const ctx = createSimContext(options);
  const bind =
    (op: (c: typeof ctx, t: Tenant, when: Date) => Promise<void>): SimOperation =>
    (t, when) =>
      op(ctx, t, when);
  return {
    get emitted() {
      return ctx.emitted;
    },
    createProducts: bind(createProducts),
    orderLifecycle: bind(orderLifecycle),
    priceChange: bind(priceChange),
    session: bind(session),
    agentDecision: bind(agentDecision),
    prestashopSync: bind(prestashopSync),
    apiCall: bind(apiCall),
  };
}
