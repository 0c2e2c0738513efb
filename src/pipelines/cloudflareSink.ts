import { defaultCatalog } from '../domain/defaultCatalog.js';
import type { Catalog } from '../domain/defineCatalog.js';
import type { Sink } from '../relay/sink.js';
import { pipelinesOf } from './catalogPipelines.js';
import { createCloudflareApi } from './cloudflare/api.js';
import { cloudflareCredentials } from './cloudflare/credentials.js';
import { createHttpSink, type HttpSinkOptions } from './httpSink.js';
import { loadStreamRoutes } from './streamRoutes.js';

/**
 * The HTTP sink for Cloudflare, with routes read from the account
 * (`CLOUDFLARE_API_TOKEN`, `CLOUDFLARE_ACCOUNT_ID`, `CLOUDFLARE_API_BASE_URL`): each record
 * goes to the newest deployed version of its stream whose deployed schema it matches, and
 * the relay's check is against those deployed schemas. The routes are read once: restart
 * the relay after `pipelines apply --new-version`. Bearer token: `LAKEHOUSE_SINK_TOKEN`
 * unless `options.token` is given. The streams are those of `catalog` (default: the default
 * catalog).
 */
export async function createCloudflareSink(
  options: Omit<HttpSinkOptions, 'routes' | 'url' | 'streamUrls'> = {},
  env: NodeJS.ProcessEnv = process.env,
  catalog: Catalog = defaultCatalog,
): Promise<Sink> {
  const api = createCloudflareApi(cloudflareCredentials(env));
  const routes = await loadStreamRoutes(api, pipelinesOf(catalog));
  return createHttpSink({ ...options, routes });
}
