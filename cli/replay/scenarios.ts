import type { AuditRecord } from '../../functions/commons/audit';
import { loadLocalLoop } from '../development';
import { UsageError } from '../errors';
import type { ScenarioFile, ScenarioRecorder } from './incidents';

/**
 * Records the policy decisions of `suture simulate` scenarios by running them through the
 * local loop, exactly as `suture simulate` does (module synthesised from this checkout,
 * real handlers, the repository's built policy bundle, emulated AWS), and returns each
 * scenario's audit trail. A scenario holds no policy input: the loop's classify and plan
 * steps build it, so running them is the only faithful way to get it. Decisions after the
 * first (a decision again after an approval) follow the repository's policy.
 */
export function scenarioRecorder(progress: (line: string) => void): ScenarioRecorder {
  return async (files: readonly ScenarioFile[]) => {
    const { loadScenario, moduleSimulation, ScenarioError, simulateScenarios } = await loadLocalLoop(
      'suture replay with scenario files',
    );
    const scenarios = files.map(({ file }) => {
      try {
        return { file, scenario: loadScenario(file) };
      } catch (error) {
        if (error instanceof ScenarioError) throw new UsageError(error.message);
        throw error;
      }
    });
    progress(
      `recording the decisions of ${scenarios.length} scenario file(s) by running them through the local loop…`,
    );
    const trails = new Map<string, readonly AuditRecord[]>();
    const simulation = moduleSimulation(scenarios);
    try {
      await simulateScenarios(scenarios, {
        moduleDir: simulation.moduleDir,
        variables: simulation.variables,
        matches: simulation.matches,
        onAuditTrail: (file, records) => {
          trails.set(file, records);
        },
      });
    } finally {
      simulation.dispose();
    }
    return trails;
  };
}
