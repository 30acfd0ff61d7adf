import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { localFunctionArn } from '../../local/loop/harness';
import { htmlReport, textReport } from '../../local/simulate/report';
import { simulateScenarios } from '../../local/simulate/run';
import { loadScenario, ScenarioError, type Scenario } from '../../local/simulate/scenario';
import { matchesEventPattern } from '../../local/terraform/event-pattern';
import { loadEventPatterns, loadStateMachineDefinition } from '../../local/terraform/module';
import { synthesizeModule } from '../../modules/module-synth';
import { UsageError } from '../errors';
import { repoRoot } from '../paths';

/** The pipelines the simulated module is deployed for: the ones the default policy data scopes. */
const SIMULATED_PIPELINES = [{ name: 'myPipeline' }, { name: 'release-pipeline' }];

function scenarioFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const path of paths) {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      throw new UsageError(`scenario ${path} does not exist`);
    }
    if (stat.isDirectory()) {
      files.push(
        ...readdirSync(path)
          .filter((name) => /\.(ya?ml|json)$/.test(name))
          .sort()
          .map((name) => join(path, name)),
      );
    } else files.push(path);
  }
  if (files.length === 0) throw new UsageError('no scenario files given (.yaml, .yml or .json)');
  return files;
}

/**
 * `suture simulate [SCENARIO|DIR …] [--json] [--report FILE.html]`: runs scenarios through the
 * whole loop on this machine. The workflow definition and the EventBridge patterns are taken
 * from the module synthesised from this checkout. Exit 0 when every expectation holds, 1
 * otherwise, 2 on an unusable scenario.
 */
export async function simulateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      report: { type: 'string' },
      module: { type: 'string' },
    },
  });
  const files = scenarioFiles(positionals.length ? positionals : [join(repoRoot(), 'scenarios')]);
  const scenarios: { file: string; scenario: Scenario }[] = [];
  for (const file of files) {
    try {
      scenarios.push({ file: relative(process.cwd(), file) || file, scenario: loadScenario(file) });
    } catch (error) {
      if (error instanceof ScenarioError) throw new UsageError(error.message);
      throw error;
    }
  }

  const progress = values.json ? undefined : (line: string) => process.stderr.write(`${line}\n`);
  let moduleDir = values.module;
  let cleanup: string | undefined;
  if (!moduleDir) {
    cleanup = mkdtempSync(join(tmpdir(), 'suture-simulate-'));
    progress?.('synthesising the module (the same artefacts that deploy)…');
    moduleDir = synthesizeModule(join(cleanup, 'module')).dir;
  }
  try {
    // The release-health alarms the scenarios use are configured in the module like a user would.
    const alarms = scenarios
      .filter(({ scenario }) => scenario.event.source === 'alarm')
      .map(({ scenario }) => ({
        alarm_name: scenario.event.alarm_name!,
        pipeline: scenario.pipeline.name,
        stage: scenario.failure.stage,
      }));
    const environment = {
      account: '123456789012',
      region: 'us-west-2',
      variables: {
        pipelines: SIMULATED_PIPELINES,
        bake_seconds: 60,
        approval_timeout_seconds: 3600,
        release_health_alarms: alarms,
      },
    };
    const definition = loadStateMachineDefinition(moduleDir, {
      ...environment,
      functionArn: (name) => localFunctionArn(name),
    });
    const patterns = loadEventPatterns(moduleDir, environment).map((rule) => rule.pattern);
    const results = await simulateScenarios(scenarios, {
      definition,
      eventPatterns: patterns,
      matches: (pattern, event) => matchesEventPattern(pattern as Record<string, unknown>, event),
      ...(progress ? { progress } : {}),
    });
    if (values.report) writeFileSync(values.report, htmlReport(results));
    process.stdout.write(values.json ? `${JSON.stringify(results, null, 2)}\n` : textReport(results));
    if (values.report && !values.json) process.stdout.write(`report: ${values.report}\n`);
    return results.every((r) => r.passed) ? 0 : 1;
  } finally {
    if (cleanup) rmSync(cleanup, { recursive: true, force: true });
  }
}
