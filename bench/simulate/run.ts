/**
 * Simulator: per-incident overhead of the loop's own code.
 *
 * Synthesises the module and deploys it to the local loop the way `suture simulate` does (its
 * workflow, event patterns, function environments and IAM, every call under IAM replay, whose
 * evaluation counts as emulated AWS), then runs the shipped scenarios (`scenarios/*.yaml`) in
 * 1 + R rounds through one `simulateScenarios` call, so one moto and one local loop serve every
 * round, as warm Lambda execution environments serve a stream of incidents: SDK clients and the
 * policy bundle are created once (each scenario still starts from a clean world). The first
 * round is a discarded warm-up: its first incident pays for loading the handlers' modules,
 * creating the clients and loading the bundle, and is reported on its own.
 *
 * Reported for event → policy decision (the end of the first PolicyGate call) and event →
 * validated (the end of the last Validate call), from the simulator's `timings`:
 *   - wall: what the simulator took;
 *   - emulated AWS: the time during which at least one AWS call (moto, the CodePipeline,
 *     Bedrock and Step Functions fakes) was waiting for its answer, timed by the SDK clients;
 *   - the loop's own code: wall minus emulated AWS (handlers, SDK, the local Step Functions
 *     interpreter), the quantity the target is about;
 *   - Node CPU: the process's CPU time over the span, an upper bound of the loop's own work.
 * The fake Bedrock agent answers at once, and its time counts as emulated AWS anyway, so no
 * model latency is included. Target: event → decision, the loop's own code, p99 ≤ 50 ms.
 *
 *   npx tsx bench/simulate/run.ts [--rounds R]
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../../cli/paths';
import { simulateScenarios, type ScenarioResult, type SpanCost } from '../../local/simulate/run';
import { loadScenario } from '../../local/simulate/scenario';
import { moduleSimulation } from '../../local/simulate/setup';
import { machine, quantile, table } from '../common';

const TARGET_P99_MS = 50;

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

function stats(values: readonly number[]): string[] {
  const sorted = [...values].sort((a, b) => a - b);
  return [
    String(sorted.length),
    quantile(sorted, 0.5).toFixed(1),
    quantile(sorted, 0.99).toFixed(1),
    (sorted[sorted.length - 1] ?? Number.NaN).toFixed(1),
  ];
}

async function main(): Promise<void> {
  const rounds = argument('--rounds', 5);
  const root = repoRoot();
  const dir = join(root, 'scenarios');
  const scenarios = readdirSync(dir)
    .filter((name) => /\.(ya?ml|json)$/.test(name))
    .sort()
    .map((name) => ({ file: relative(root, join(dir, name)), scenario: loadScenario(join(dir, name)) }));

  const simulation = moduleSimulation(scenarios);
  const results: ScenarioResult[] = [];
  const started = performance.now();
  try {
    results.push(
      ...(await simulateScenarios(Array.from({ length: rounds + 1 }, () => scenarios).flat(), {
        moduleDir: simulation.moduleDir,
        variables: simulation.variables,
        matches: simulation.matches,
      })),
    );
  } finally {
    simulation.dispose();
  }
  const wallSeconds = (performance.now() - started) / 1000;

  const failed = results.filter((result) => !result.passed);
  const warmUp = results.slice(0, scenarios.length);
  const timed = results.slice(scenarios.length);
  const spans = (list: readonly ScenarioResult[], span: 'to_decision' | 'to_validated') =>
    list.flatMap((r) => (r.timings[span] ? [r.timings[span]] : []));
  const column = (costs: readonly SpanCost[], key: keyof SpanCost) => costs.map((cost) => cost[key]);
  const kinds: [string, keyof SpanCost][] = [
    ['wall', 'wall_ms'],
    ['emulated AWS', 'aws_ms'],
    ["the loop's own code", 'own_ms'],
    ['Node CPU', 'cpu_ms'],
  ];
  const rows: string[][] = [['measurement (ms)', 'incidents', 'p50', 'p99', 'max']];
  for (const [label, span] of [
    ['event → policy decision', 'to_decision'],
    ['event → validated', 'to_validated'],
  ] as const) {
    for (const [kind, key] of kinds) {
      rows.push([`${label}, ${kind}`, ...stats(column(spans(timed, span), key))]);
    }
  }
  const withoutStorm = timed.filter((r) => r.deliveries <= 1);
  rows.push([
    "event → policy decision, the loop's own code, single-delivery scenarios",
    ...stats(column(spans(withoutStorm, 'to_decision'), 'own_ms')),
  ]);
  rows.push([
    "event → policy decision, the loop's own code, warm-up round (discarded)",
    ...stats(column(spans(warmUp, 'to_decision'), 'own_ms')),
  ]);
  const first = warmUp[0];

  const perScenario: string[][] = [
    ['scenario', 'outcome', 'AWS calls', 'decision wall', 'emulated AWS', 'own code', 'Node CPU'],
  ];
  for (const [index, { scenario }] of scenarios.entries()) {
    const runs = spans(
      timed.filter((_, i) => i % scenarios.length === index),
      'to_decision',
    );
    const median = (values: number[]) =>
      values.length
        ? quantile(
            [...values].sort((a, b) => a - b),
            0.5,
          ).toFixed(0)
        : '–';
    perScenario.push([
      scenario.name,
      timed[index]?.outcome ?? '',
      median(column(runs, 'aws_calls')),
      median(column(runs, 'wall_ms')),
      median(column(runs, 'aws_ms')),
      median(column(runs, 'own_ms')),
      median(column(runs, 'cpu_ms')),
    ]);
  }

  // Where the time to the decision goes: each state up to PolicyGate.
  const spent = new Map<string, SpanCost[]>();
  for (const result of timed) {
    const gate = result.states.findIndex((state) => state.name === 'PolicyGate');
    if (gate < 0) continue;
    for (const state of result.states.slice(0, gate + 1)) {
      if (!state.cost) continue;
      spent.set(state.name, [...(spent.get(state.name) ?? []), state.cost]);
    }
  }
  const breakdown: string[][] = [
    ['up to the decision', 'samples', 'AWS calls p50', 'wall p50', 'emulated AWS p50', 'own p50', 'own p99'],
  ];
  for (const [name, costs] of spent) {
    const q = (key: keyof SpanCost, p: number) =>
      quantile(
        column(costs, key).sort((a, b) => a - b),
        p,
      ).toFixed(1);
    breakdown.push([
      name,
      String(costs.length),
      q('aws_calls', 0.5),
      q('wall_ms', 0.5),
      q('aws_ms', 0.5),
      q('own_ms', 0.5),
      q('own_ms', 0.99),
    ]);
  }

  const ownP99 = quantile(
    column(spans(timed, 'to_decision'), 'own_ms').sort((a, b) => a - b),
    0.99,
  );
  console.log(
    `Simulator: per-incident overhead (bench/simulate/run.ts, ${scenarios.length} scenarios × (1 warm-up + ${rounds}) rounds)\n`,
  );
  console.log(table(rows));
  console.log(
    `\nfirst incident of the run (cold module loading): ${first?.name}: decision ${first?.timings.to_decision?.wall_ms ?? '–'} ms wall, ${first?.timings.to_decision?.own_ms ?? '–'} ms own code`,
  );
  console.log(`\nWhere the time to the decision goes (warm rounds, ms):\n`);
  console.log(table(breakdown));
  console.log(`\nPer scenario, event → decision, medians over the ${rounds} warm rounds (ms):\n`);
  console.log(table(perScenario));
  console.log(
    `\n${results.length} incidents in ${wallSeconds.toFixed(1)} s; expectations failed: ${failed.length}${failed.length ? ` (${[...new Set(failed.map((r) => r.name))].join(', ')})` : ''}`,
  );
  const ok = ownP99 <= TARGET_P99_MS;
  console.log(
    `\n${ok ? 'PASS' : 'FAIL'} event → policy decision, the loop's own code, p99 ≤ ${TARGET_P99_MS} ms: ${ownP99.toFixed(1)} ms`,
  );
  console.log(`\n${machine().join('\n')}`);
  if (!ok || failed.length) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
