import { LakehouseError } from '../errors.js';
import type { AggregateDefinition } from './aggregate.js';
import type { StreamInput, StreamRecord } from './catalog.js';
import { type CreateEventOptions, createEvent, type EventEnvelope } from './envelope.js';

/**
 * The Order aggregate. Every event carries the full `orders` lake row as it is after the
 * event, so the `orders` table holds one row per change of an order (the plan: "all order
 * events") and the latest row of an order is its current state.
 *
 *   placed ──► paid ──► fulfilled ──► refunded
 *     │          │
 *     └──────────┴──► cancelled        paid ──► refunded
 */
export type OrderStatus = 'none' | StreamRecord<'orders'>['status'];
export type OrderEvent = EventEnvelope<'orders'>;

export interface OrderState {
  status: OrderStatus;
  /** The lake row after the last event (undefined before the order is placed). */
  record?: StreamRecord<'orders'>;
  /** Number of events folded. */
  version: number;
}

export const ORDER_EVENT_TYPES = {
  placed: 'order.placed',
  paid: 'order.paid',
  fulfilled: 'order.fulfilled',
  cancelled: 'order.cancelled',
  refunded: 'order.refunded',
} as const;

export const orderAggregate: AggregateDefinition<OrderState, OrderEvent> = {
  type: 'order',
  initialState: () => ({ status: 'none', version: 0 }),
  evolve: (state, event) => ({ status: event.data.status, record: event.data, version: state.version + 1 }),
};

const ALLOWED: Record<string, readonly OrderStatus[]> = {
  placed: ['none'],
  paid: ['placed'],
  fulfilled: ['paid'],
  cancelled: ['placed', 'paid'],
  refunded: ['paid', 'fulfilled'],
};

function transition(
  state: OrderState,
  to: keyof typeof ORDER_EVENT_TYPES,
  changes: Partial<StreamInput<'orders'>>,
  options: CreateEventOptions,
): OrderEvent {
  if (!ALLOWED[to]?.includes(state.status)) {
    const id = state.record?.order_id ?? changes.order_id ?? '?';
    throw new LakehouseError(
      'VALIDATION',
      `Order "${id}" cannot become ${to} from ${state.status === 'none' ? 'not existing' : state.status}; ` +
        `allowed from: ${ALLOWED[to]?.join(', ')}`,
    );
  }
  const base = state.record ?? ({} as StreamInput<'orders'>);
  const data = { ...base, ...changes, status: to } as StreamInput<'orders'>;
  return createEvent('orders', data, {
    ...options,
    eventType: ORDER_EVENT_TYPES[to],
    aggregate: { type: orderAggregate.type, id: String(data.order_id) },
  });
}

/** Decides `order.placed` for a new order. */
export function placeOrder(
  state: OrderState,
  order: Omit<StreamInput<'orders'>, 'status'>,
  options: CreateEventOptions = {},
): OrderEvent {
  return transition(state, 'placed', order, options);
}

/** Decides `order.paid`. */
export function payOrder(
  state: OrderState,
  paymentMethod: string,
  options: CreateEventOptions = {},
): OrderEvent {
  return transition(state, 'paid', { payment_method: paymentMethod }, options);
}

/** Decides `order.fulfilled`. */
export function fulfillOrder(state: OrderState, options: CreateEventOptions = {}): OrderEvent {
  return transition(state, 'fulfilled', {}, options);
}

/** Decides `order.cancelled`. */
export function cancelOrder(state: OrderState, options: CreateEventOptions = {}): OrderEvent {
  return transition(state, 'cancelled', {}, options);
}

/** Decides `order.refunded`. */
export function refundOrder(state: OrderState, options: CreateEventOptions = {}): OrderEvent {
  return transition(state, 'refunded', {}, options);
}
