import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeModule } from '../../modules/module-synth';
import { localFunctionArn } from '../loop/harness';
import { matchesEventPattern } from '../terraform/event-pattern';
import { loadEventPatterns, loadStateMachineDefinition } from '../terraform/module';
import type { SimulationOptions } from './run';
import type { Scenario } from './scenario';

/** The pipelines the simulated module is deployed for: the ones the default policy data scopes. */
export const SIMULATED_PIPELINES = [{ name: 'myPipeline' }, { name: 'release-pipeline' }];

/** What {@link simulateScenarios} needs from the module, and how to clean up after it. */
export interface ModuleSimulation extends Pick<
  SimulationOptions,
  'definition' | 'eventPatterns' | 'matches'
> {
  /** Deletes the module synthesised for the run (nothing when one was given). */
  dispose(): void;
}

/**
 * Synthesises the module from this checkout (or reads one already synthesised in `moduleDir`)
 * and evaluates its workflow definition and EventBridge patterns for these scenarios, deployed
 * as a user would: the simulated pipelines, and the release-health alarms the scenarios use.
 * Shared by `suture simulate`, `suture replay` (scenario files) and the simulator benchmark.
 */
export function moduleSimulation(
  scenarios: readonly { readonly scenario: Scenario }[],
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
  const dispose = () => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  };
  try {
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
    return {
      definition: loadStateMachineDefinition(moduleDir, {
        ...environment,
        functionArn: (name) => localFunctionArn(name),
      }),
      eventPatterns: loadEventPatterns(moduleDir, environment).map((rule) => rule.pattern),
      matches: (pattern, event) => matchesEventPattern(pattern as Record<string, unknown>, event),
      dispose,
    };
  } catch (error) {
    dispose();
    throw error;
  }
}
