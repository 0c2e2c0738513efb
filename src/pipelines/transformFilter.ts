import type { PipelineDefinition } from './types.js';

/**
 * The condition by which a pipeline's transform drops records (the text of its top-level
 * `WHERE`), or undefined when it keeps every record. A filtering transform loses events
 * on purpose: `pipelines plan`, the dashboard and `/stats` show it, and the local platform
 * counts the records it dropped per table.
 */
export function transformFilter(def: Pick<PipelineDefinition, 'transform'>): string | undefined {
  // Transforms are one SELECT over `source` without subqueries (definePipeline checks the
  // shape), so the WHERE after `FROM source` is the top-level one.
  const m = /\bFROM\s+source\b[\s\S]*?\bWHERE\b([\s\S]*)$/i.exec(def.transform);
  const where = m?.[1]?.trim().replace(/;\s*$/, '').replace(/\s+/g, ' ');
  return where ? where : undefined;
}
