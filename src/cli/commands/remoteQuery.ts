import { InvalidArgumentError } from 'commander';
import { BasinSqlError, basinQuery } from '../../pipelines/basinSql.js';
import { requireEnv } from '../../pipelines/cloudflare/credentials.js';
import { BUCKET_ENV } from '../../pipelines/plan.js';
import type { SqlExecutor } from '../../reports/runReport.js';
import { EXIT } from '../context.js';
import { printResult } from './query.js';

/**
 * Runs one statement on Basin SQL with the account, bucket and token of the environment
 * (`CLOUDFLARE_ACCOUNT_ID`, `LAKEHOUSE_R2_BUCKET`, `WRANGLER_BASIN_SQL_AUTH_TOKEN` or
 * `CLOUDFLARE_API_TOKEN`); a missing one is a usage error naming it and `what` needs it.
 */
export function remoteBasinQuery(sql: string, what: string): ReturnType<typeof basinQuery> {
  const purpose = `for ${what} (Basin SQL)`;
  const token =
    process.env.WRANGLER_BASIN_SQL_AUTH_TOKEN?.trim() ||
    requireEnv(process.env, 'CLOUDFLARE_API_TOKEN', purpose);
  return basinQuery({
    accountId: requireEnv(process.env, 'CLOUDFLARE_ACCOUNT_ID', purpose),
    bucket: requireEnv(process.env, BUCKET_ENV, purpose),
    token,
    query: sql,
  });
}

/** Basin SQL as a {@link SqlExecutor} (reports, reconcile): `what` names the command in errors. */
export function basinExecutor(what: string): SqlExecutor {
  return async (sql) => {
    const r = await remoteBasinQuery(sql, what);
    return { columns: r.schema.map((c) => c.name), rows: r.rows };
  };
}

/**
 * `lakehouse query --remote`: the query runs on Cloudflare through Basin SQL and prints like
 * the local engine. `--tenant` and `--explain` are local-engine features: Basin SQL cannot
 * be made to hide other tenants' rows by this client, so the combination is refused.
 */
export async function remoteQueryCommand(
  sql: string,
  opts: { json?: boolean; csv?: boolean; tenant?: string; explain?: boolean },
): Promise<void> {
  if (opts.tenant) {
    throw new InvalidArgumentError(
      '--tenant is not enforced on Basin SQL (catalog tables are not partitioned by tenant); filter with WHERE tenant_id = ... or query locally',
    );
  }
  if (opts.explain)
    throw new InvalidArgumentError(
      '--explain is for the local engine; --remote prints Basin SQL metrics with --json',
    );
  try {
    printResult(await remoteBasinQuery(sql, 'query --remote'), opts);
  } catch (e) {
    if (!(e instanceof BasinSqlError)) throw e;
    if (opts.json) {
      process.stdout.write(
        `${JSON.stringify({ success: false, errors: [{ code: e.basinCode, message: e.message }], result: null })}\n`,
      );
    } else process.stderr.write(`lakehouse: ${e.message}\n`);
    process.exitCode = EXIT.failed;
  }
}
