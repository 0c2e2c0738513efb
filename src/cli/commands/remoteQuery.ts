import { InvalidArgumentError } from 'commander';
import { BasinSqlError, basinQuery } from '../../pipelines/basinSql.js';
import { requireEnv } from '../../pipelines/cloudflare/credentials.js';
import { BUCKET_ENV } from '../../pipelines/plan.js';
import { EXIT } from '../context.js';
import { printResult } from './query.js';

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
  const purpose = 'for query --remote (Basin SQL)';
  const token =
    process.env.WRANGLER_BASIN_SQL_AUTH_TOKEN?.trim() ||
    requireEnv(process.env, 'CLOUDFLARE_API_TOKEN', purpose);
  try {
    const r = await basinQuery({
      accountId: requireEnv(process.env, 'CLOUDFLARE_ACCOUNT_ID', purpose),
      bucket: requireEnv(process.env, BUCKET_ENV, purpose),
      token,
      query: sql,
    });
    printResult(r, opts);
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
