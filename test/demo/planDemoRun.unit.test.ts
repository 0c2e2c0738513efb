import { describe, expect, it } from 'vitest';
import { planDemoRun } from '../../src/demo/prepareDemo.js';

const o = { reset: false, schema: 'lakehouse_demo', warehouse: '/wh' };
const world = { worldId: 'w1', tenants: 5, start: '2026-01-01', days: 90, runs: 1, historyLoaded: true };

describe('planDemoRun', () => {
  it('refuses events it did not write even with --reset', () => {
    const p = planDemoRun(
      { hasEvents: true, appForeign: false, world: null },
      { kind: 'empty' },
      { ...o, reset: true },
    );
    expect(p.action).toBe('refuse');
  });
  it('refuses a warehouse without the demo marker', () => {
    const p = planDemoRun({ hasEvents: false, appForeign: false, world: null }, { kind: 'foreign' }, o);
    expect(p).toMatchObject({ action: 'refuse', message: expect.stringContaining('--warehouse') });
  });
  it('continues a loaded world whose data is in the warehouse', () => {
    const p = planDemoRun({ hasEvents: true, appForeign: false, world }, { kind: 'demo', worldId: 'w1' }, o);
    expect(p.action).toBe('continue');
  });
  it('starts afresh with --reset, after an interrupted history, or when the warehouse holds another world', () => {
    const db = { hasEvents: true, appForeign: false, world };
    expect(planDemoRun(db, { kind: 'demo', worldId: 'w1' }, { ...o, reset: true }).action).toBe('fresh');
    expect(
      planDemoRun({ ...db, world: { ...world, historyLoaded: false } }, { kind: 'demo', worldId: 'w1' }, o)
        .action,
    ).toBe('fresh');
    expect(planDemoRun(db, { kind: 'demo', worldId: 'w2' }, o).action).toBe('fresh');
  });
});
