export { type ApplyOptions, type ApplyStep, applyDeployment } from './apply.js';
export { type BasinQueryOptions, type BasinResult, BasinSqlError, basinQuery } from './basinSql.js';
export { catalogConfig, r2Catalog } from './catalogConfig.js';
export { catalogPipelineFor, defaultTransform, pipelineOf, pipelinesOf } from './catalogPipelines.js';
export { type CloudflareApi, CloudflareApiError, createCloudflareApi } from './cloudflare/api.js';
export { type CloudflareCredentials, cloudflareCredentials } from './cloudflare/credentials.js';
export { type Deployed, readDeployed } from './cloudflare/deployed.js';
export { type PipelineMetrics, readPipelineMetrics } from './cloudflare/metrics.js';
export { type CloudflareMetricsOptions, registerCloudflareMetrics } from './cloudflareMetrics.js';
export { createCloudflareSink } from './cloudflareSink.js';
export { type CloudflareStatus, cloudflareStatus, type PipelineStatus } from './cloudflareStatus.js';
export { type Change, type ChangeAction, planChanges } from './compare.js';
export { definePipeline, loadPipelines, validatePipeline } from './definePipeline.js';
export { pipelineFor, pipelines } from './definitions.js';
export { deployedTables, tablesOfVersions } from './deployedTables.js';
export { createHttpSink, DEFAULT_SINK_URL, type HttpSinkOptions } from './httpSink.js';
export {
  buildPlan,
  type PipelinePlan,
  type PlanOptions,
  pipelineSql,
  sinkName,
  writePlanFiles,
} from './plan.js';
export { type Deployment, type DeploymentOptions, planDeployment } from './planDeployment.js';
export { type RetireOptions, type RetireResult, retireVersion } from './retire.js';
export {
  fitRecord,
  loadStreamRoutes,
  routeRecord,
  type StreamRoute,
  type StreamRoutes,
} from './streamRoutes.js';
export {
  type PipelinesField,
  type PipelinesStreamSchema,
  pipelinesRecordCheck,
  recordCheckFor,
  streamSchema,
  validateRecord,
} from './streamSchema.js';
export type { PipelineDefinition } from './types.js';
export { type VersionNames, versionNames } from './versions.js';
