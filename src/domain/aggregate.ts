import type { EventEnvelope } from './envelope.js';

/**
 * An event-sourced aggregate: its state is the fold of its events. Decisions (commands)
 * are plain functions from state to new events; the outbox stores them with a version.
 */
export interface AggregateDefinition<State, E extends EventEnvelope = EventEnvelope> {
  /** Aggregate type, stored with every event (`order`). */
  type: string;
  initialState(): State;
  evolve(state: State, event: E): State;
}

/** Rebuilds an aggregate from its events, in order. */
export function foldEvents<State, E extends EventEnvelope>(
  def: AggregateDefinition<State, E>,
  events: readonly E[],
): State {
  return events.reduce((s, e) => def.evolve(s, e), def.initialState());
}
