import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulateScenarios, type ScenarioResult } from '../../local/simulate/run';
import { loadScenario } from '../../local/simulate/scenario';
import { moduleSimulation } from '../../local/simulate/setup';
import { emulatorClientConfig } from '../helpers/aws';
import { testModuleDir } from '../helpers/module';

type Json = Record<string, Record<string, Record<string, Record<string, unknown>>>>;

/**
 * What AWS would refuse, the local loop refuses too: the scenarios run on the synthesised
 * module, and a module that lost a grant or a variable fails the scenario that needs it, naming
 * the function, the action and the resource (or the variable).
 */
describe('a module that drifted from what its handlers need fails the scenario', () => {
  const scenario = join(__dirname, '..', '..', 'scenarios', '02-transient-network-retry.yaml');
  let scratch: string;

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'suture-drift-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** A copy of the test module with `edit` applied to its main.tf.json. */
  function driftedModule(name: string, edit: (main: Json) => void): string {
    const dir = join(scratch, name);
    cpSync(testModuleDir(), dir, { recursive: true });
    const file = join(dir, 'main.tf.json');
    const main = JSON.parse(readFileSync(file, 'utf8')) as Json;
    edit(main);
    writeFileSync(file, JSON.stringify(main));
    return dir;
  }

  async function simulate(moduleDir: string): Promise<ScenarioResult> {
    const scenarios = [{ file: scenario, scenario: loadScenario(scenario) }];
    const simulation = moduleSimulation(scenarios, { moduleDir });
    const [result] = await simulateScenarios(scenarios, {
      moduleDir: simulation.moduleDir,
      variables: simulation.variables,
      matches: simulation.matches,
      motoEndpoint: emulatorClientConfig().endpoint,
    });
    return result!;
  }

  it('passes on the module as synthesised', async () => {
    const result = await simulate(testModuleDir());
    expect(result.expectations.filter((e) => !e.ok)).toEqual([]);
  });

  it('names the function, action and resource when a grant is removed from the module', async () => {
    // Prepare: the execute role loses codepipeline:RetryStageExecution
    const moduleDir = driftedModule('no-retry', (main) => {
      const documents = main.data!.aws_iam_policy_document!;
      const id = Object.keys(documents).find((key) => key.includes('execute_role_repair-pipelines'));
      const statements = documents[id!]!.statement as { actions: string[] }[];
      for (const statement of statements)
        statement.actions = statement.actions.filter(
          (action) => action !== 'codepipeline:RetryStageExecution',
        );
    });

    // Act
    const result = await simulate(moduleDir);

    // Assess
    expect(result.passed).toBe(false);
    expect(result.outcome).not.toBe('resolved');
    const iam = result.expectations.find((e) => e.name === 'iam');
    expect(iam?.ok).toBe(false);
    expect(iam?.actual).toEqual([
      expect.stringMatching(
        /^execute: codepipeline:RetryStageExecution on arn:aws:codepipeline:us-west-2:123456789012:myPipeline\/Build /,
      ),
    ]);
  });

  it('names the function and variable when the module stops setting one a handler reads', async () => {
    // Prepare: execute no longer receives the topic for its notices
    const moduleDir = driftedModule('no-topic', (main) => {
      // The function's fixed variables are a local its environment merges.
      const locals = main.locals as unknown as Record<string, Record<string, string>>;
      const id = Object.keys(locals).find((key) => /^suture_functions_execute_environment_/.test(key));
      expect(locals[id!]!.SUTURE_TOPIC_ARN).toBeDefined();
      delete locals[id!]!.SUTURE_TOPIC_ARN;
    });

    // Act
    const result = await simulate(moduleDir);

    // Assess
    const environment = result.expectations.find((e) => e.name === 'environment');
    expect(environment).toMatchObject({ ok: false, actual: ['execute: SUTURE_TOPIC_ARN'] });
  });
});
