/**
 * The figures of a fault run (`suture simulate --faults`): scenarios × runs, faults injected by
 * kind, and each invariant held out of checked, with every broken one and the seed that
 * reproduces it.
 */
import { emptyCounts, FAULT_KINDS, FAULT_PURPOSE, type FaultCounts } from './injector';
import type { InvariantResult } from './invariants';

/** What one run of one scenario gives the figures. */
export interface FaultRun {
  readonly name: string;
  readonly file: string;
  readonly outcome: string;
  readonly seed?: number;
  readonly faults?: FaultCounts;
  readonly invariants?: readonly InvariantResult[];
  readonly redrives?: number;
  readonly passed: boolean;
}

/** A broken invariant, with what reproduces it. */
export interface BrokenInvariant {
  readonly scenario: string;
  readonly file: string;
  readonly seed: number;
  readonly invariant: string;
  readonly detail: string;
  /**
   * The command that runs this scenario alone with this seed again. The faults a call gets
   * depend only on the seed, the scenario and the calls before it in that scenario, and each
   * run starts its functions cold, so the scenario draws the same faults alone.
   */
  readonly reproduce: string;
  /**
   * The whole run's command, for a break that also depends on a wall-clock race (concurrent
   * deliveries, the approval's answer), which a second process may order otherwise.
   */
  readonly whole_run?: string;
}

export interface FaultFigures {
  readonly rate: number;
  readonly seeds: readonly number[];
  readonly scenarios: number;
  readonly runs: number;
  readonly faults: FaultCounts & { readonly total: number };
  readonly outcomes: Readonly<Record<string, number>>;
  readonly redrives: number;
  readonly invariants: Readonly<Record<string, { readonly held: number; readonly checked: number }>>;
  readonly held: number;
  readonly checked: number;
  /** Runs that broke something else than an invariant (an IAM denial, an unset variable). */
  readonly other_failures: number;
  readonly broken: readonly BrokenInvariant[];
}

export function faultFigures(
  results: readonly FaultRun[],
  options: { readonly rate: number; readonly seeds: readonly number[]; readonly command?: string },
): FaultFigures {
  const faults = emptyCounts();
  const outcomes: Record<string, number> = {};
  const invariants: Record<string, { held: number; checked: number }> = {};
  const broken: BrokenInvariant[] = [];
  let redrives = 0;
  let otherFailures = 0;
  for (const run of results) {
    for (const kind of FAULT_KINDS) faults[kind] += run.faults?.[kind] ?? 0;
    outcomes[run.outcome] = (outcomes[run.outcome] ?? 0) + 1;
    redrives += run.redrives ?? 0;
    for (const invariant of run.invariants ?? []) {
      const entry = (invariants[invariant.name] ??= { held: 0, checked: 0 });
      entry.checked += 1;
      if (invariant.ok) entry.held += 1;
      else
        broken.push({
          scenario: run.name,
          file: run.file,
          seed: run.seed ?? 0,
          invariant: invariant.name,
          detail: invariant.detail,
          reproduce: `suture simulate ${run.file} --faults ${options.rate} --seed ${run.seed ?? 0}`,
          ...(options.command ? { whole_run: options.command } : {}),
        });
    }
    if (!run.passed && (run.invariants ?? []).every((invariant) => invariant.ok)) otherFailures += 1;
  }
  const values = Object.values(invariants);
  return {
    rate: options.rate,
    seeds: options.seeds,
    scenarios: new Set(results.map((run) => run.file)).size,
    runs: results.length,
    faults: { ...faults, total: FAULT_KINDS.reduce((sum, kind) => sum + faults[kind], 0) },
    outcomes,
    redrives,
    invariants,
    held: values.reduce((sum, entry) => sum + entry.held, 0),
    checked: values.reduce((sum, entry) => sum + entry.checked, 0),
    other_failures: otherFailures,
    broken,
  };
}

/** The figures as text, for the end of `suture simulate --faults`. */
export function faultReport(figures: FaultFigures): string {
  const lines = [
    '',
    `fault run: ${figures.scenarios} scenarios × ${figures.seeds.length} seeds (${figures.seeds.join(', ')}) = ${figures.runs} runs, fault rate ${figures.rate} per call`,
    '',
    'faults injected',
    ...FAULT_KINDS.map(
      (kind) => `  ${kind.padEnd(17)} ${String(figures.faults[kind]).padStart(6)}   ${FAULT_PURPOSE[kind]}`,
    ),
    `  ${'total'.padEnd(17)} ${String(figures.faults.total).padStart(6)}`,
    '',
    `outcomes: ${Object.entries(figures.outcomes)
      .map(([outcome, n]) => `${outcome} ${n}`)
      .join(', ')}; redrives ${figures.redrives}`,
    '',
    'invariants held',
    ...Object.entries(figures.invariants).map(
      ([name, entry]) => `  ${name.padEnd(17)} ${entry.held}/${entry.checked}`,
    ),
    `  ${'all'.padEnd(17)} ${figures.held}/${figures.checked}`,
  ];
  if (figures.other_failures > 0)
    lines.push(`  ${figures.other_failures} run(s) failed a deployment check (IAM or environment)`);
  for (const broken of figures.broken)
    lines.push(
      `  ✗ ${broken.scenario} seed ${broken.seed}: ${broken.invariant}: ${broken.detail}`,
      `      reproduce: ${broken.reproduce}`,
      ...(broken.whole_run ? [`      or the whole run: ${broken.whole_run}`] : []),
    );
  return `${lines.join('\n')}\n`;
}
