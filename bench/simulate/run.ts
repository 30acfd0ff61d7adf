/**
 * Simulator: per-incident overhead of the loop's own code.
 *
 * Synthesises the module, takes the workflow definition and the EventBridge patterns from it
 * the way `suture simulate` does, then runs the shipped scenarios (`scenarios/*.yaml`) in
 * rounds, one `simulateScenarios` call (a fresh moto and local loop) per round: one warm-up
 * round (discarded; its first incident pays for loading the handlers' modules and is reported
 * on its own) and R timed rounds. (One call with the list repeated does not work: scenarios
 * create SSM parameters that a second pass in the same world collides with.) Reported: event → policy decision (`timings.to_decision_ms`, the end of the
 * PolicyGate state) and event → validated (`timings.to_validated_ms`, scenarios that reach
 * Validate). The fake Bedrock agent answers at once, so no model latency is included; the
 * simulator's clocks are `Date.now()` (1 ms resolution). Target: event → decision p99 ≤ 50 ms.
 *
 *   npx tsx bench/simulate/run.ts [--rounds R]
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { repoRoot } from '../../cli/paths';
import { localFunctionArn } from '../../local/loop/harness';
import { simulateScenarios, type ScenarioResult } from '../../local/simulate/run';
import { loadScenario } from '../../local/simulate/scenario';
import { matchesEventPattern } from '../../local/terraform/event-pattern';
import { loadEventPatterns, loadStateMachineDefinition } from '../../local/terraform/module';
import { synthesizeModule } from '../../modules/module-synth';
import { machine, quantile, table } from '../common';

const TARGET_P99_MS = 50;
/** The pipelines `suture simulate` deploys the module for. */
const SIMULATED_PIPELINES = [{ name: 'myPipeline' }, { name: 'release-pipeline' }];

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
    quantile(sorted, 0.5).toFixed(0),
    quantile(sorted, 0.99).toFixed(0),
    (sorted[sorted.length - 1] ?? Number.NaN).toFixed(0),
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

  const scratch = mkdtempSync(join(tmpdir(), 'bench-simulate-'));
  let results: ScenarioResult[];
  let wallSeconds: number;
  try {
    const moduleDir = synthesizeModule(join(scratch, 'module')).dir;
    const environment = {
      account: '123456789012',
      region: 'us-west-2',
      variables: {
        pipelines: SIMULATED_PIPELINES,
        bake_seconds: 60,
        approval_timeout_seconds: 3600,
        release_health_alarms: scenarios
          .filter(({ scenario }) => scenario.event.source === 'alarm')
          .map(({ scenario }) => ({
            alarm_name: scenario.event.alarm_name!,
            pipeline: scenario.pipeline.name,
            stage: scenario.failure.stage,
          })),
      },
    };
    const definition = loadStateMachineDefinition(moduleDir, {
      ...environment,
      functionArn: (name) => localFunctionArn(name),
    });
    const eventPatterns = loadEventPatterns(moduleDir, environment).map((rule) => rule.pattern);
    results = [];
    const started = performance.now();
    for (let round = 0; round <= rounds; round += 1) {
      results.push(
        ...(await simulateScenarios(scenarios, {
          definition,
          eventPatterns,
          matches: (pattern, event) => matchesEventPattern(pattern as Record<string, unknown>, event),
        })),
      );
    }
    wallSeconds = (performance.now() - started) / 1000;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const failed = results.filter((result) => !result.passed);
  const warmUp = results.slice(0, scenarios.length);
  const timed = results.slice(scenarios.length);
  const decisions = (list: readonly ScenarioResult[]) =>
    list.flatMap((r) => (r.timings.to_decision_ms === undefined ? [] : [r.timings.to_decision_ms]));
  const validated = (list: readonly ScenarioResult[]) =>
    list.flatMap((r) => (r.timings.to_validated_ms === undefined ? [] : [r.timings.to_validated_ms]));

  const rows: string[][] = [
    ['measurement (ms)', 'incidents', 'p50', 'p99', 'max'],
    [`event → policy decision, ${rounds} warm rounds`, ...stats(decisions(timed))],
    [`event → validated, ${rounds} warm rounds`, ...stats(validated(timed))],
    [
      `event → policy decision, ${rounds} warm rounds without each round's first incident`,
      ...stats(decisions(timed.filter((_, i) => i % scenarios.length !== 0))),
    ],
    ['event → policy decision, warm-up round (discarded)', ...stats(decisions(warmUp))],
  ];
  const first = warmUp[0];
  const perScenario: string[][] = [['scenario', 'outcome', 'decision p50', 'validated p50', 'total p50']];
  for (const [index, { scenario }] of scenarios.entries()) {
    const runs = timed.filter((_, i) => i % scenarios.length === index);
    const median = (values: number[]) =>
      values.length
        ? quantile(
            [...values].sort((a, b) => a - b),
            0.5,
          ).toFixed(0)
        : '–';
    perScenario.push([
      scenario.name,
      runs[0]?.outcome ?? '',
      median(decisions(runs)),
      median(validated(runs)),
      median(runs.map((r) => r.timings.total_ms)),
    ]);
  }

  // Where the time to the decision goes: each state up to PolicyGate, and the gaps between them.
  const spent = new Map<string, number[]>();
  const add = (key: string, ms: number) => spent.set(key, [...(spent.get(key) ?? []), ms]);
  for (const result of timed) {
    const gate = result.states.findIndex((state) => state.name === 'PolicyGate');
    if (gate < 0) continue;
    const before = result.states.slice(0, gate + 1);
    for (const [i, state] of before.entries()) {
      add(`${state.name} (${state.type})`, state.endedAt - state.startedAt);
      const previous = before[i - 1];
      if (previous) add('between states', state.startedAt - previous.endedAt);
    }
  }
  const breakdown: string[][] = [['up to the decision (ms)', 'samples', 'p50', 'p99', 'max']];
  for (const [key, values] of spent) breakdown.push([key, ...stats(values)]);

  const p99 = quantile(
    [...decisions(timed)].sort((a, b) => a - b),
    0.99,
  );
  console.log(
    `Simulator: per-incident overhead (bench/simulate/run.ts, ${scenarios.length} scenarios × (1 warm-up + ${rounds}) rounds)\n`,
  );
  console.log(table(rows));
  console.log(
    `\nfirst incident of the run (cold module loading): ${first?.name}: decision ${first?.timings.to_decision_ms ?? '–'} ms, total ${first?.timings.total_ms} ms`,
  );
  console.log(
    `\nWhere the time to the decision goes (warm rounds; per state, and per gap between states):\n`,
  );
  console.log(table(breakdown));
  console.log(`\nPer scenario, medians over the ${rounds} warm rounds:\n`);
  console.log(table(perScenario));
  console.log(
    `\n${results.length} incidents in ${wallSeconds.toFixed(1)} s; expectations failed: ${failed.length}${failed.length ? ` (${[...new Set(failed.map((r) => r.name))].join(', ')})` : ''}`,
  );
  const ok = p99 <= TARGET_P99_MS;
  console.log(
    `\n${ok ? 'PASS' : 'FAIL'} event → policy decision p99 ≤ ${TARGET_P99_MS} ms: ${p99.toFixed(0)} ms`,
  );
  console.log(`\n${machine().join('\n')}`);
  if (!ok || failed.length) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
