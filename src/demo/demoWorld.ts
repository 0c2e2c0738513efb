import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { ident } from '../outbox/executor.js';
import { demoSchemaName } from './businessSchema.js';

/** The demo world recorded in `<app schema>.world`: what a later run continues. */
export interface DemoWorld {
  worldId: string;
  tenants: number;
  /** First day of the history (ISO date). */
  start: string;
  days: number;
  /** Runs started so far, this one included once {@link beginRun} returned. */
  runs: number;
  /** Set once the whole history was emitted; a world without it is started afresh. */
  historyLoaded: boolean;
}

/** What is in the database before the demo touches it. */
export interface DemoDbState {
  /** The outbox schema holds at least one event. */
  hasEvents: boolean;
  /** The application schema has tables but no `world` table: someone else's schema. */
  appForeign: boolean;
  world: DemoWorld | null;
}

type WorldRow = {
  world_id: string;
  tenants: number;
  start: string;
  days: number;
  runs: number;
  history_loaded_at: Date | null;
};

const toWorld = (r: WorldRow): DemoWorld => ({
  worldId: r.world_id,
  tenants: r.tenants,
  start: r.start,
  days: r.days,
  runs: r.runs,
  historyLoaded: r.history_loaded_at !== null,
});

/** Reads the demo's state without creating anything (the outbox may not be migrated yet). */
export async function inspectDemoDb(db: pg.Pool, schema: string): Promise<DemoDbState> {
  const app = demoSchemaName(schema);
  const { rows } = await db.query<{ events: string | null; world: string | null; app_tables: number }>(
    `SELECT to_regclass($1) AS events, to_regclass($2) AS world,
            (SELECT count(*)::int FROM pg_tables WHERE schemaname = $3) AS app_tables`,
    [`${ident(schema)}.events`, `${ident(app)}.world`, app],
  );
  const r = rows[0]!;
  let hasEvents = false;
  if (r.events) {
    const e = await db.query(`SELECT 1 FROM ${ident(schema)}.events LIMIT 1`);
    hasEvents = e.rowCount === 1;
  }
  let world: DemoWorld | null = null;
  if (r.world) {
    const w = await db.query<WorldRow>(
      `SELECT world_id, tenants, to_char(start, 'YYYY-MM-DD') AS start, days, runs, history_loaded_at
         FROM ${ident(app)}.world`,
    );
    world = w.rows[0] ? toWorld(w.rows[0]) : null;
  }
  return { hasEvents, appForeign: !r.world && r.app_tables > 0, world };
}

/** Drops the outbox and application schemas of a demo world (only ever called for one the demo wrote). */
export async function dropDemoSchemas(db: pg.Pool, schema: string): Promise<void> {
  await db.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`);
  await db.query(`DROP SCHEMA IF EXISTS ${ident(demoSchemaName(schema))} CASCADE`);
}

/** Records a new world (the application tables must exist). */
export async function createWorld(
  db: pg.Pool,
  appSchema: string,
  w: Pick<DemoWorld, 'tenants' | 'start' | 'days'>,
): Promise<DemoWorld> {
  const worldId = randomUUID();
  await db.query(`DELETE FROM ${ident(appSchema)}.world`);
  await db.query(
    `INSERT INTO ${ident(appSchema)}.world (world_id, tenants, start, days) VALUES ($1,$2,$3,$4)`,
    [worldId, w.tenants, w.start, w.days],
  );
  return { worldId, ...w, runs: 0, historyLoaded: false };
}

/** Counts a run of the world and returns its number (1 for the first). */
export async function beginRun(db: pg.Pool, appSchema: string): Promise<number> {
  const { rows } = await db.query<{ runs: number }>(
    `UPDATE ${ident(appSchema)}.world SET runs = runs + 1 RETURNING runs`,
  );
  return rows[0]!.runs;
}

/** Marks the history as fully emitted: from now on a run continues this world. */
export async function markHistoryLoaded(db: pg.Pool, appSchema: string): Promise<void> {
  await db.query(`UPDATE ${ident(appSchema)}.world SET history_loaded_at = now()`);
}
