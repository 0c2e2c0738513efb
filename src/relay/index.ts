export { type DrainOutcome, RetryLater } from './deliverPartition.js';
export type { HealthSnapshot } from './health.js';
export type { RelayMetrics } from './metrics.js';
export type { RelayOptions, RetryOptions, StreamRelayOptions } from './options.js';
export { resolveRelayOptions } from './options.js';
export { createRelay, type Relay } from './relay.js';
export { discardBlocked, type ReplayFilter, type ReplayResult, replay } from './replay.js';
export type { Sink, SinkBatch, SinkOutcome } from './sink.js';
export { createRelayTrigger, type RelayTrigger, type RelayTriggerOptions } from './trigger.js';
