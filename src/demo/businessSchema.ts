import type pg from 'pg';
import { assertSchemaName } from '../config.js';
import { ident } from '../outbox/executor.js';

/**
 * The simulated Company Manager's own business tables, in `<outbox schema>_app`. They
 * stand for the production tables a real application writes next to its events: every
 * write to them happens in the same transaction as the outbox emit.
 */
export function demoSchemaName(outboxSchema: string): string {
  return assertSchemaName(`${outboxSchema.slice(0, 59)}_app`);
}

/** Creates the demo business tables and the `world` table describing the demo's world. Idempotent. */
export async function createBusinessTables(db: pg.Pool, outboxSchema: string): Promise<string> {
  const name = demoSchemaName(outboxSchema);
  const s = ident(name);
  await db.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
  await db.query(`
    CREATE TABLE IF NOT EXISTS ${s}.tenants (tenant_id text PRIMARY KEY, name text NOT NULL);
    CREATE TABLE IF NOT EXISTS ${s}.sites (site_id text PRIMARY KEY, tenant_id text NOT NULL, domain text NOT NULL);
    CREATE TABLE IF NOT EXISTS ${s}.customers (customer_id text PRIMARY KEY, tenant_id text NOT NULL, email text NOT NULL);
    CREATE TABLE IF NOT EXISTS ${s}.products (
      product_id text PRIMARY KEY, tenant_id text NOT NULL, name text NOT NULL,
      price numeric(18,4) NOT NULL, stock int NOT NULL, updated_at timestamptz NOT NULL);
    CREATE TABLE IF NOT EXISTS ${s}.orders (
      order_id text PRIMARY KEY, tenant_id text NOT NULL, site_id text NOT NULL, customer_id text,
      total_amount numeric(18,4) NOT NULL, currency text NOT NULL, status text NOT NULL,
      payment_method text, item_count int NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
    CREATE TABLE IF NOT EXISTS ${s}.page_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant_id text NOT NULL, session_id text NOT NULL,
      kind text NOT NULL, path text, occurred_at timestamptz NOT NULL);
    CREATE TABLE IF NOT EXISTS ${s}.agent_actions (
      decision_id text PRIMARY KEY, tenant_id text NOT NULL, agent_type text NOT NULL, action text NOT NULL,
      outcome text NOT NULL, decided_at timestamptz NOT NULL);
    CREATE TABLE IF NOT EXISTS ${s}.sync_jobs (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant_id text NOT NULL, entity text NOT NULL,
      entity_id text NOT NULL, status text NOT NULL, synced_at timestamptz NOT NULL);
    CREATE TABLE IF NOT EXISTS ${s}.api_requests (
      request_id text PRIMARY KEY, tenant_id text NOT NULL, route text NOT NULL, status_code int NOT NULL,
      called_at timestamptz NOT NULL);
    CREATE TABLE IF NOT EXISTS ${s}.world (
      id int PRIMARY KEY DEFAULT 1 CHECK (id = 1), world_id uuid NOT NULL, tenants int NOT NULL,
      start date NOT NULL, days int NOT NULL, runs int NOT NULL DEFAULT 0, history_loaded_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now());
  `);
  return assertSchemaName(name);
}
