import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeModule } from '../../modules/module-synth';
import { matchesEventPattern } from '../terraform/event-pattern';
import type { SimulationOptions } from './run';
import type { Scenario } from './scenario';

/** The pipelines the simulated module is deployed for: the ones the default policy data scopes. */
export const SIMULATED_PIPELINES = [{ name: 'myPipeline' }, { name: 'release-pipeline' }];

/** The module's input variables for simulated runs (each scenario adds its release-health alarms). */
export const SIMULATED_VARIABLES: Readonly<Record<string, unknown>> = {
  pipelines: SIMULATED_PIPELINES,
  bake_seconds: 60,
  approval_timeout_seconds: 3600,
  bedrock: { foundation_model: 'anthropic.claude-3-5-sonnet-20240620-v1:0', timeout_ms: 2000 },
};

/** The pipelines a scenario deploys the module for: the simulated ones, with the scenario's redrivable workflows. */
export function scenarioPipelines(scenario: Scenario): Array<Record<string, unknown>> {
  const pipelines: Array<Record<string, unknown>> = SIMULATED_PIPELINES.map((pipeline) => ({ ...pipeline }));
  const own = pipelines.find((pipeline) => pipeline.name === scenario.pipeline.name);
  if (own && scenario.pipeline.redrivable_state_machines.length > 0)
    own.redrivable_state_machines = scenario.pipeline.redrivable_state_machines;
  return pipelines;
}

/** The release-health alarms a scenario deploys the module with: its alarms, and the alarm that wakes it. */
export function scenarioAlarms(
  scenario: Scenario,
): Array<{ alarm_name: string; pipeline: string; stage: string }> {
  const names = new Set(scenario.alarms.map((alarm) => alarm.name));
  if (scenario.event.source === 'alarm' && scenario.event.alarm_name) names.add(scenario.event.alarm_name);
  return [...names].map((alarm_name) => ({
    alarm_name,
    pipeline: scenario.pipeline.name,
    stage: scenario.failure.stage,
  }));
}

/** What {@link simulateScenarios} needs from the module, and how to clean up after it. */
export interface ModuleSimulation extends Pick<SimulationOptions, 'moduleDir' | 'variables' | 'matches'> {
  /** Deletes the module synthesised for the run (nothing when one was given). */
  dispose(): void;
}

/**
 * Synthesises the module from this checkout (or takes one already synthesised in `moduleDir`)
 * for the local loop to deploy, scenario by scenario, as a user would: the simulated pipelines,
 * and each scenario's release-health alarms. Shared by `suture simulate`, `suture replay`
 * (scenario files) and the simulator benchmark.
 */
export function moduleSimulation(
  _scenarios: readonly { readonly scenario: Scenario }[],
  options: { readonly moduleDir?: string; readonly progress?: (line: string) => void } = {},
): ModuleSimulation {
  let moduleDir = options.moduleDir;
  let scratch: string | undefined;
  if (!moduleDir) {
    scratch = mkdtempSync(join(tmpdir(), 'suture-simulate-'));
    options.progress?.('synthesising the module (the same artefacts that deploy)…');
    try {
      moduleDir = synthesizeModule(join(scratch, 'module')).dir;
    } catch (error) {
      rmSync(scratch, { recursive: true, force: true });
      throw error;
    }
  }
  return {
    moduleDir,
    variables: SIMULATED_VARIABLES,
    matches: (pattern, event) => matchesEventPattern(pattern as Record<string, unknown>, event),
    dispose: () => {
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    },
  };
}
