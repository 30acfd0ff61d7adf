import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../cli/paths';
import { FAULT_KINDS } from '../../local/faults/injector';
import { suture } from '../helpers/cli';

interface Figures {
  runs: number;
  faults: Record<string, number> & { total: number };
  held: number;
  checked: number;
  other_failures: number;
  broken: { scenario: string; seed: number; invariant: string; detail: string }[];
}

/**
 * The fault run CI keeps: one fixed seed over every scenario at rate 0.2 (about a minute, now
 * that local SDK retries do not sleep). The longer run (every scenario × 20 seeds) is recorded
 * in docs/benchmarks.md.
 */
const SCENARIOS = readdirSync(join(repoRoot(), 'scenarios')).filter((file) => /\.(ya?ml|json)$/.test(file));

describe('suture simulate --faults (the loop’s invariants under injected faults)', () => {
  it('holds every invariant at rate 0.2 for seed 1 over every scenario, with faults of every per-call kind injected', () => {
    // Act
    const run = suture([
      'simulate',
      ...SCENARIOS.map((file) => join(repoRoot(), 'scenarios', file)),
      '--faults',
      '0.2',
      '--seed',
      '1',
      '--json',
    ]);

    // Assess
    if (run.code !== 0 && run.code !== 1) throw new Error(`simulate failed: ${run.stderr}`);
    const { faults: figures } = JSON.parse(run.stdout) as { faults: Figures };
    expect(figures.broken).toEqual([]);
    expect(figures.other_failures).toBe(0);
    expect(run.code).toBe(0);
    expect(figures.runs).toBe(SCENARIOS.length);
    expect(figures.held).toBe(figures.checked);
    expect(SCENARIOS.length).toBeGreaterThanOrEqual(20);
    expect(figures.checked).toBeGreaterThanOrEqual(SCENARIOS.length * 4);
    // Every kind drawn per call (late_duplicate is one draw per scenario, and may not come up).
    for (const kind of FAULT_KINDS.filter((each) => each !== 'late_duplicate'))
      expect(figures.faults[kind]).toBeGreaterThan(0);
  }, 600_000);

  it('exits 2 on a fault rate that is not a probability', () => {
    // Act
    const run = suture(['simulate', '--faults', '2']);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--faults takes a probability per call from 0 to 1, got "2"/);
  });
});
