export { type ApplyOptions, applyPlan } from './apply.js';
export { definePipeline, loadPipelines, validatePipeline } from './definePipeline.js';
export { pipelineFor, pipelines } from './definitions.js';
export { createHttpSink, DEFAULT_SINK_URL, type HttpSinkOptions } from './httpSink.js';
export { buildPlan, type PlanOptions, pipelineSql, sinkName, writePlanFiles } from './plan.js';
export {
  type PipelinesField,
  type PipelinesStreamSchema,
  pipelinesRecordCheck,
  streamSchema,
  validateRecord,
} from './streamSchema.js';
export type { PipelineDefinition } from './types.js';
