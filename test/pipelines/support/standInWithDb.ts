import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { type CliResult, runCli } from '../../support/cli.js';
import { createTestDb, type TestDb } from '../../support/db.js';
import { type StandIn, standInEnv, startCloudflareStandIn } from './cloudflareStandIn.js';

/**
 * Registers hooks for a test file that runs the CLI against the Cloudflare stand-in (a
 * fresh one per test) and an outbox schema of its own (one per file, emptied of pending and
 * parked events before each test). Read `cf` and `db` inside tests, not at import time.
 */
export function useStandInWithDb(testFile: string) {
  const ctx = {} as { cf: StandIn; db: TestDb; cli: (args: string[]) => Promise<CliResult> };
  beforeAll(async () => {
    ctx.db = await createTestDb(testFile);
  });
  afterAll(() => ctx.db.close());
  beforeEach(async () => {
    ctx.cf = await startCloudflareStandIn();
    await ctx.db.pool.query(`TRUNCATE ${ctx.db.schema}.pending, ${ctx.db.schema}.parked`);
  });
  afterEach(() => ctx.cf.close());
  ctx.cli = (args) => runCli(args, { env: standInEnv(ctx.cf, ctx.db.env) });
  return ctx;
}
