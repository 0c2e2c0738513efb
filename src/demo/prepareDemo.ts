import type pg from 'pg';
import { LakehouseError } from '../errors.js';
import { migrate } from '../outbox/migrate.js';
import { createBusinessTables } from './businessSchema.js';
import { type DemoWarehouseState, inspectDemoWarehouse, resetDemoWarehouse } from './demoWarehouse.js';
import {
  beginRun,
  createWorld,
  type DemoDbState,
  type DemoWorld,
  dropDemoSchemas,
  inspectDemoDb,
} from './demoWorld.js';

/** What a run of the demo does with what it finds: refuse, start afresh (and why), or continue. */
export type DemoRunPlan =
  | { action: 'refuse'; message: string }
  | { action: 'fresh'; why: string }
  | { action: 'continue' };

/**
 * Decides how a run starts. Never touches data the demo did not write: an outbox holding
 * events without a demo world, or a warehouse without the demo's marker, is refused even
 * with `--reset`.
 */
export function planDemoRun(
  db: DemoDbState,
  wh: DemoWarehouseState,
  o: { reset: boolean; schema: string; warehouse: string },
): DemoRunPlan {
  if (db.hasEvents && !db.world)
    return {
      action: 'refuse',
      message:
        `schema "${o.schema}" holds events the demo did not write; the demo will not mix fake events ` +
        'into them. Choose another schema with --schema (default lakehouse_demo).',
    };
  if (db.appForeign)
    return {
      action: 'refuse',
      message: `schema "${o.schema}_app" holds tables the demo did not create. Choose another --schema.`,
    };
  if (wh.kind === 'foreign')
    return {
      action: 'refuse',
      message:
        `warehouse ${o.warehouse} holds data the demo did not write. ` +
        'Choose another directory with --warehouse (default ./.lakehouse/demo).',
    };
  if (o.reset) return { action: 'fresh', why: '--reset' };
  if (!db.world) return { action: 'fresh', why: 'no demo world yet' };
  if (!db.world.historyLoaded)
    return { action: 'fresh', why: 'the previous run stopped before its history was loaded' };
  if (wh.kind !== 'demo' || wh.worldId !== db.world.worldId)
    return { action: 'fresh', why: "the warehouse does not hold this world's data" };
  return { action: 'continue' };
}

/** Options of {@link prepareDemo}. */
export interface PrepareDemoOptions {
  databaseUrl: string;
  schema: string;
  warehouse: string;
  reset: boolean;
  /** The world a fresh start creates. */
  world: Pick<DemoWorld, 'tenants' | 'start' | 'days'>;
}

/** The world this run works on. */
export interface PreparedDemo {
  world: DemoWorld;
  /** Number of this run of the world (1 for a fresh start). */
  run: number;
  continued: boolean;
  /** Why the world was started afresh, when it was. */
  freshBecause?: string;
  /** Schema of the simulated application's tables. */
  appSchema: string;
}

/**
 * Brings the database and the warehouse to the start of a run: refuses foreign data,
 * drops a previous demo world when starting afresh, migrates, and counts the run.
 */
export async function prepareDemo(db: pg.Pool, o: PrepareDemoOptions): Promise<PreparedDemo> {
  const state = await inspectDemoDb(db, o.schema);
  const plan = planDemoRun(state, await inspectDemoWarehouse(o.warehouse), o);
  if (plan.action === 'refuse') throw new LakehouseError('CONFIG', plan.message);
  if (plan.action === 'fresh' && state.world) await dropDemoSchemas(db, o.schema);
  await migrate(o.databaseUrl, { schema: o.schema });
  const appSchema = await createBusinessTables(db, o.schema);
  if (plan.action === 'continue') {
    const run = await beginRun(db, appSchema);
    return { world: { ...state.world!, runs: run }, run, continued: true, appSchema };
  }
  const world = await createWorld(db, appSchema, o.world);
  await resetDemoWarehouse(o.warehouse, world.worldId);
  const run = await beginRun(db, appSchema);
  return { world: { ...world, runs: run }, run, continued: false, freshBecause: plan.why, appSchema };
}
