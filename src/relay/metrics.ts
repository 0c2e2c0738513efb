import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The relay's Prometheus metrics, on a registry of its own (no global state). */
export function createRelayMetrics() {
  const registry = new Registry();
  const labels = ['stream'] as const;
  return {
    registry,
    delivered: new Counter({
      name: 'lakehouse_relay_events_delivered_total',
      help: 'Events acknowledged by the sink',
      labelNames: labels,
      registers: [registry],
    }),
    resent: new Counter({
      name: 'lakehouse_relay_events_resent_total',
      help: 'Events sent again after an attempt that may have reached the sink (possible duplicates)',
      labelNames: labels,
      registers: [registry],
    }),
    parked: new Counter({
      name: 'lakehouse_relay_events_parked_total',
      help: 'Poison events parked',
      labelNames: ['stream', 'reason'],
      registers: [registry],
    }),
    batches: new Counter({
      name: 'lakehouse_relay_batches_total',
      help: 'Requests sent to the sink, by outcome',
      labelNames: ['stream', 'outcome'],
      registers: [registry],
    }),
    failures: new Counter({
      name: 'lakehouse_relay_sink_failures_total',
      help: 'Failed deliveries by kind (retry, config, failed = retry budget exhausted)',
      labelNames: ['stream', 'kind'],
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: 'lakehouse_relay_batch_duration_seconds',
      help: 'Time from sending a batch to its acknowledgement',
      labelNames: labels,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'lakehouse_relay_batches_in_flight',
      help: 'Batches being sent by this process',
      registers: [registry],
    }),
    lastDelivery: new Gauge({
      name: 'lakehouse_relay_last_delivery_timestamp_seconds',
      help: 'Unix time of the last acknowledged batch',
      registers: [registry],
    }),
    heartbeat: new Gauge({
      name: 'lakehouse_relay_heartbeat_timestamp_seconds',
      help: 'Unix time of the last sweep of this process',
      registers: [registry],
    }),
  };
}

export type RelayMetrics = ReturnType<typeof createRelayMetrics>;
