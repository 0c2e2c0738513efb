import type { Registry } from 'prom-client';
import type { CloudflareMetricsHandle } from '../pipelines/cloudflareMetrics.js';

/**
 * For `lakehouse relay --metrics-port`: registers the Cloudflare gauges on the relay's
 * registry when the relay has Cloudflare credentials (`--cloudflare`, or
 * `CLOUDFLARE_API_TOKEN` and `CLOUDFLARE_ACCOUNT_ID` in the environment), read every
 * `intervalSeconds`. Without credentials nothing is registered and Cloudflare is never called.
 */
export async function cloudflareRelayMetrics(
  registry: Registry,
  o: { cloudflare: boolean; intervalSeconds: number },
  env: NodeJS.ProcessEnv = process.env,
): Promise<CloudflareMetricsHandle | undefined> {
  const configured = !!env.CLOUDFLARE_API_TOKEN?.trim() && !!env.CLOUDFLARE_ACCOUNT_ID?.trim();
  if (!o.cloudflare && !configured) return undefined;
  const { createCloudflareApi } = await import('../pipelines/cloudflare/api.js');
  const { cloudflareCredentials } = await import('../pipelines/cloudflare/credentials.js');
  const { registerCloudflareMetrics } = await import('../pipelines/cloudflareMetrics.js');
  return registerCloudflareMetrics(registry, {
    api: createCloudflareApi(cloudflareCredentials(env)),
    refreshIntervalMs: o.intervalSeconds * 1000,
  });
}
