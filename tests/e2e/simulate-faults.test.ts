import { join } from 'node:path';
import { repoRoot } from '../../cli/paths';
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
 * The fault run CI keeps: one fixed seed over four scenarios (a rollback, a revert and re-run
 * after approval, a storm of duplicates, a seeded secret) at rate 0.2.
 * The longer run (every scenario × 20 seeds) is recorded in docs/benchmarks.md.
 */
const SCENARIOS = [
  '05-deploy-alarm-rollback.yaml',
  '06-config-drift-revert-after-approval.yaml',
  '12-duplicate-storm-one-workflow.yaml',
  '13-secret-in-log-redacted.yaml',
];

describe('suture simulate --faults (the loop’s invariants under injected faults)', () => {
  it('holds every invariant at rate 0.2 for seed 1, with faults of every per-call kind injected', () => {
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
    expect(figures.checked).toBeGreaterThanOrEqual(SCENARIOS.length * 4);
    for (const kind of ['throttling', 'server_error', 'connection_reset', 'timeout', 'response_lost'])
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
