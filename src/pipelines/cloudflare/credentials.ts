import { LakehouseError } from '../../errors.js';

/** Cloudflare's REST API root; `CLOUDFLARE_API_BASE_URL` overrides it (wrangler reads the same variable). */
export const DEFAULT_API_BASE_URL = 'https://api.cloudflare.com/client/v4';
/** Basin SQL's HTTP API root; `LAKEHOUSE_BASIN_SQL_BASE_URL` overrides it (tests point it at a stand-in). */
export const DEFAULT_BASIN_SQL_BASE_URL = 'https://api.sql.cloudflarestorage.com';
/** R2 Data Catalog (Iceberg REST) root; the catalog URI is `<root>/<account_id>/<bucket>`. */
export const DEFAULT_CATALOG_BASE_URL = 'https://catalog.cloudflarestorage.com';

/** What every call to Cloudflare's REST or GraphQL API needs. */
export interface CloudflareCredentials {
  /** `CLOUDFLARE_API_TOKEN`. */
  token: string;
  /** `CLOUDFLARE_ACCOUNT_ID`. */
  accountId: string;
  /** `CLOUDFLARE_API_BASE_URL`, default {@link DEFAULT_API_BASE_URL}, without a trailing `/`. */
  baseUrl: string;
}

/** Reads a variable that must be set, naming it and what it is for when it is not. */
export function requireEnv(env: NodeJS.ProcessEnv, name: string, purpose: string): string {
  const v = env[name]?.trim();
  if (!v) {
    throw new LakehouseError(
      'CONFIG',
      `${name} is not set; it is needed ${purpose} (see docs/cloudflare.md, "Environment")`,
    );
  }
  return v;
}

/**
 * Reads `CLOUDFLARE_API_TOKEN`, `CLOUDFLARE_ACCOUNT_ID` and `CLOUDFLARE_API_BASE_URL`.
 * Throws a `CONFIG` error naming the first missing variable.
 */
export function cloudflareCredentials(env: NodeJS.ProcessEnv = process.env): CloudflareCredentials {
  const purpose = 'to talk to the Cloudflare API';
  return {
    token: requireEnv(env, 'CLOUDFLARE_API_TOKEN', purpose),
    accountId: requireEnv(env, 'CLOUDFLARE_ACCOUNT_ID', purpose),
    baseUrl: (env.CLOUDFLARE_API_BASE_URL?.trim() || DEFAULT_API_BASE_URL).replace(/\/+$/, ''),
  };
}
