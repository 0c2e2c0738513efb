import type { ReportName, ReportParams } from '../reports/reports.js';
import { FIRST_TENANT_ID } from './world.js';

/** One of the plan's analytics questions, as a named report with its parameters. */
export interface DemoQuery {
  report: ReportName;
  params: ReportParams;
}

/**
 * The plan's five analytics questions (Step 3 and "Platform Analytics") as the demo asks
 * them: the `lakehouse report` reports for February 2026 (January for the comparison) and
 * the plan's example tenant. Their SQL is in `src/reports/reports.ts`, each order counted
 * once (README "Reports").
 */
export function demoQueries(tenantId = FIRST_TENANT_ID): DemoQuery[] {
  return [
    { report: 'revenue-by-tenant', params: { month: '2026-02' } },
    { report: 'monthly-trend', params: { tenant: tenantId } },
    { report: 'price-changes', params: { tenant: tenantId, year: 2026 } },
    { report: 'platform-health', params: { month: '2026-02' } },
    { report: 'churn-risk', params: { month: '2026-02' } },
  ];
}
