import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeModule } from '../../modules/module-synth';
import { matchesEventPattern } from '../../local/terraform/event-pattern';
import {
  evaluateModule,
  isUnknown,
  loadEventPatterns,
  loadFunctionWiring,
  loadModuleResources,
  loadStateMachineDefinition,
  loadStateMachineWiring,
  ModuleEvaluationError,
  type LocalDeployment,
} from '../../local/terraform/module';

type Json = Record<string, unknown>;

const target = {
  account: '123456789012',
  region: 'us-west-2',
  variables: { pipelines: [{ name: 'myPipeline' }] },
};

/** Every statement of a parsed policy document, as a list. */
function statements(document: Json): Json[] {
  const s = document.Statement;
  return (Array.isArray(s) ? s : [s]) as Json[];
}

/** Writes a module of the given *.tf.json files into a fresh directory. */
function writeModule(root: string, name: string, files: Record<string, unknown>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files))
    writeFileSync(join(dir, file), JSON.stringify(content, null, 2));
  return dir;
}

describe('the synthesised module, evaluated locally with HCL (tools/hcleval)', () => {
  let root: string;
  let moduleDir: string;
  let deployment: LocalDeployment;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'suture-hcl-'));
    moduleDir = synthesizeModule(join(root, 'module')).dir;
    deployment = evaluateModule(moduleDir, target);
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('gives the state machine definition with local function ARNs', () => {
    // Prepare
    const localArn = (name: string): string => `arn:aws:lambda:us-west-2:123456789012:function:local-${name}`;

    // Act
    const definition = loadStateMachineDefinition(moduleDir, { ...target, functionArn: localArn });

    // Assess
    expect(definition.StartAt).toBe('CollectEvidence');
    expect(definition.TimeoutSeconds).toBe(300 + 86400 + 86400);
    const states = definition.States as Record<string, Json>;
    // Smoke checks are on by default: one CodeBuild task, the others invoke functions.
    const isSmoke = (state: Json): boolean => state.Resource === 'arn:aws:states:::codebuild:startBuild';
    expect(states.StartSmokeChecks).toMatchObject({ Parameters: { ProjectName: 'suture-smoke' } });
    const tasks = Object.values(states).filter((state) => state.Type === 'Task' && !isSmoke(state));
    expect(tasks.length).toBeGreaterThan(5);
    for (const task of tasks) {
      const resource = task.Resource as string;
      const functionArn = resource.startsWith('arn:aws:states:::lambda:invoke')
        ? (task.Parameters as Json).FunctionName
        : resource;
      expect(functionArn).toMatch(/^arn:aws:lambda:us-west-2:123456789012:function:local-[a-z-]+$/);
    }
    expect(states.CollectEvidence?.Resource).toBe(localArn('collect-evidence'));
    expect(JSON.stringify(definition)).not.toMatch(/aws_lambda_function|\$\{|\$unknown/);
  });

  it('gives the pipeline-failure rule pattern, and the alarm rule only when alarms are given', () => {
    // Prepare
    const event = (state: string, pipeline: string): Json => ({
      version: '0',
      source: 'aws.codepipeline',
      account: '123456789012',
      region: 'us-west-2',
      'detail-type': 'CodePipeline Action Execution State Change',
      resources: [`arn:aws:codepipeline:us-west-2:123456789012:${pipeline}`],
      detail: { pipeline, stage: 'Build', action: 'Build', state },
    });
    const alarms = [{ alarm_name: 'release-errors', pipeline: 'myPipeline', stage: 'Prod' }];

    // Act
    const patterns = loadEventPatterns(moduleDir, target);
    const withAlarms = loadEventPatterns(moduleDir, {
      ...target,
      variables: { ...target.variables, release_health_alarms: alarms },
    });

    // Assess
    const rule = patterns.find((p) => p.id.includes('pipeline-failures'));
    expect(rule?.name).toBe('suture-pipeline-failures');
    expect(rule?.pattern.resources).toEqual(['arn:aws:codepipeline:us-west-2:123456789012:myPipeline']);
    expect(patterns.some((p) => p.id.includes('alarms'))).toBe(false); // count = 0 without alarms
    expect(matchesEventPattern(rule!.pattern, event('FAILED', 'myPipeline'))).toBe(true);
    expect(matchesEventPattern(rule!.pattern, event('SUCCEEDED', 'myPipeline'))).toBe(false);
    expect(matchesEventPattern(rule!.pattern, event('FAILED', 'otherPipeline'))).toBe(false);
    const alarmRule = withAlarms.find((p) => p.id.includes('alarms'));
    expect(JSON.stringify(alarmRule?.pattern)).toContain(
      'arn:aws:cloudwatch:us-west-2:123456789012:alarm:release-errors',
    );
  });

  it('knows every function’s environment and IAM policies', () => {
    // Act
    const functions = loadFunctionWiring(deployment, 'suture');

    // Assess
    expect(functions.map((f) => f.name).sort()).toEqual([
      'approval',
      'classify',
      'collect-evidence',
      'execute',
      'notify',
      'plan',
      'policy-gate',
      'triage',
      'validate',
    ]);
    for (const fn of functions) {
      expect(fn.functionName).toBe(`suture-${fn.name}`);
      expect(fn.arn).toBe(`arn:aws:lambda:us-west-2:123456789012:function:suture-${fn.name}`);
      expect(fn.runtime).toMatch(/^nodejs/);
      expect(Object.keys(fn.environment).length).toBeGreaterThan(0);
      expect(fn.role.arn).toBe(`arn:aws:iam::123456789012:role/${fn.role.name}`);
      expect(fn.role.policies.length).toBeGreaterThan(0);
      for (const policy of fn.role.policies) {
        expect(policy.document.Version).toBe('2012-10-17');
        for (const statement of statements(policy.document)) {
          expect(['Allow', 'Deny']).toContain(statement.Effect);
          expect(statement.Action ?? statement.NotAction).toBeDefined();
        }
      }
      expect(JSON.stringify(fn)).not.toMatch(/\$unknown|\$\{/);
    }
    // The wiring connects: the approval function's table is the module's table, and its policy
    // grants exactly that table.
    const { tables } = loadModuleResources(deployment);
    const approvals = tables.find((t) => t.name === 'suture-approvals')!;
    const approval = functions.find((f) => f.name === 'approval')!;
    expect(approval.environment.SUTURE_APPROVAL_TABLE).toBe(approvals.name);
    const grant = approval.role.policies.find((p) => p.name === 'approvals-table')!;
    expect(statements(grant.document)[0]!.Resource).toBe(approvals.arn);
  });

  it('renders aws_iam_policy_document JSON as the AWS provider does', () => {
    // Act
    const functions = loadFunctionWiring(deployment, 'suture');
    const keyPolicy = deployment.known<string>(
      deployment
        .instances('data.aws_iam_policy_document')
        .find((i) => i.address.includes('encryption_policy'))?.attributes.json,
      'the key policy',
    );

    // Assess: one action is a string, several are distinct and in reverse lexical order.
    const logs = functions.find((f) => f.name === 'approval')!.role.policies.find((p) => p.name === 'logs')!;
    expect(statements(logs.document)[0]).toEqual({
      Sid: 'WriteOwnLogs',
      Effect: 'Allow',
      Action: ['logs:PutLogEvents', 'logs:CreateLogStream'],
      Resource: 'arn:aws:logs:us-west-2:123456789012:log-group:/aws/lambda/suture-approval:*',
    });
    const [administer, logsService, services] = statements(JSON.parse(keyPolicy) as Json);
    const actions = administer!.Action as string[];
    expect(actions).toEqual([...new Set(actions)].sort().reverse());
    expect(actions.filter((a) => a === 'kms:DescribeKey')).toHaveLength(1); // listed twice in the module
    expect(administer!.Principal).toEqual({ AWS: 'arn:aws:iam::123456789012:root' });
    expect(logsService!.Condition).toEqual({
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:us-west-2:123456789012:log-group:*' },
    });
    expect(services!.Principal).toEqual({ Service: ['events.amazonaws.com', 'cloudwatch.amazonaws.com'] });
    expect(services!.Condition).toEqual({ StringEquals: { 'aws:SourceAccount': '123456789012' } });
  });

  it('gives the state machine, its role and the stores to create', () => {
    // Act
    const machine = loadStateMachineWiring(deployment);
    const stores = loadModuleResources(deployment);

    // Assess
    expect(machine.arn).toBe('arn:aws:states:us-west-2:123456789012:stateMachine:suture-loop');
    expect(machine.definition.StartAt).toBe('CollectEvidence');
    const invoke = machine.role.policies.find((p) => p.name === 'invoke-functions')!;
    expect(JSON.stringify(invoke.document)).toContain(
      'arn:aws:lambda:us-west-2:123456789012:function:suture-classify',
    );
    const audit = stores.tables.find((t) => t.name === 'suture-audit')!;
    expect(audit).toMatchObject({
      hashKey: 'incident_id',
      rangeKey: 'seq',
      attributeTypes: { incident_id: 'S', seq: 'N' },
    });
    expect(stores.buckets).toHaveLength(1);
    expect(stores.buckets[0]!.name).toMatch(/^suture-evidence-[0-9a-f]{26}$/); // bucket_prefix + a stable suffix
    expect(stores.queues[0]!.url).toBe('https://sqs.us-west-2.amazonaws.com/123456789012/suture-events-dlq');
    expect(stores.topics[0]!.arn).toBe('arn:aws:sns:us-west-2:123456789012:suture-notifications');
    expect(evaluateModule(moduleDir, target).outputs).toEqual(deployment.outputs); // deterministic ids
  });

  it('applies optional attribute defaults and the Bedrock agent when var.bedrock is set', () => {
    // Act
    const withBedrock = evaluateModule(moduleDir, {
      ...target,
      variables: { ...target.variables, bedrock: { foundation_model: 'anthropic.claude-3-5-sonnet' } },
    });

    // Assess
    expect(withBedrock.variables.bedrock).toEqual({
      foundation_model: 'anthropic.claude-3-5-sonnet',
      alias_name: 'live',
      timeout_ms: 20000,
    });
    const plan = loadFunctionWiring(withBedrock, 'suture').find((f) => f.name === 'plan')!;
    expect(plan.environment.SUTURE_BEDROCK_TIMEOUT_MS).toBe('20000');
    expect(plan.environment.SUTURE_BEDROCK_AGENT_ID).toBe(withBedrock.outputs.bedrock_agent_id);
    expect(deployment.outputs.bedrock_agent_id).toBeNull();
    expect(
      loadFunctionWiring(deployment, 'suture').find((f) => f.name === 'plan')!.environment,
    ).not.toHaveProperty('SUTURE_BEDROCK_AGENT_ID');
  });

  it('reports a failed variable validation with the module’s own message, as Terraform does', () => {
    // Act
    const badPrefix = (): unknown =>
      evaluateModule(moduleDir, { ...target, variables: { ...target.variables, name_prefix: 'X' } });
    const noPipelines = (): unknown => evaluateModule(moduleDir, { ...target, variables: { pipelines: [] } });

    // Assess
    expect(badPrefix).toThrow(ModuleEvaluationError);
    expect(badPrefix).toThrow(
      /variables\.tf\.json:\d+,\d+: Invalid value for variable: name_prefix must be 2-24 lowercase letters, digits or dashes, starting with a letter\.\s+This was checked by the validation rule at variables\.tf\.json:\d+/,
    );
    expect(badPrefix).toThrow(/\(var\.name_prefix\)/);
    expect(noPipelines).toThrow(/At least one pipeline must be in scope\./);
  });

  it('takes github_api_url over https (or loopback http) only, and wires it and the GitHub secret into execute', () => {
    // Act
    const withUrl = (url: string) => () =>
      evaluateModule(moduleDir, { ...target, variables: { ...target.variables, github_api_url: url } });
    const enterprise = withUrl('https://github.example.com/api/v3')() as ReturnType<typeof evaluateModule>;
    const execute = loadFunctionWiring(enterprise, 'suture').find((f) => f.name === 'execute')!;

    // Assess
    expect(withUrl('http://github.example.com/api/v3')).toThrow(/github_api_url must be an https:\/\/ URL/);
    expect(withUrl('https://github.example.com/api v3')).toThrow(/github_api_url must be an https:\/\/ URL/);
    expect(withUrl('http://127.0.0.1:8080')).not.toThrow();
    expect(execute.environment.SUTURE_GITHUB_API_URL).toBe('https://github.example.com/api/v3');
    expect(execute.environment.SUTURE_GITHUB_SECRET_ARN).toBe(enterprise.outputs.github_secret_arn);
    expect(execute.environment.SUTURE_GITHUB_SECRET_ARN).toMatch(
      /^arn:aws:secretsmanager:us-west-2:\d{12}:secret:.+-github$/,
    );
  });

  it('requires the pipelines variable and refuses undeclared or ill-typed ones', () => {
    expect(() => evaluateModule(moduleDir, { account: '123456789012', region: 'us-west-2' })).toThrow(
      /No value for required variable: The module input variable "pipelines" is not set/,
    );
    expect(() =>
      evaluateModule(moduleDir, { ...target, variables: { ...target.variables, colour: 'red' } }),
    ).toThrow(/Value for undeclared variable: A variable named "colour"/);
    expect(() =>
      evaluateModule(moduleDir, {
        ...target,
        variables: { pipelines: [{ name: 'p', protected_stages: 'Prod' }] },
      }),
    ).toThrow(/Invalid value for input variable: The given value is not suitable for var\.pipelines/);
  });

  it('names file and line of a bad expression and of an unknown function', () => {
    // Prepare: the real module with one broken local each.
    const broken = (name: string, expression: string): string => {
      const dir = join(root, name);
      cpSync(moduleDir, dir, { recursive: true });
      const main = JSON.parse(readFileSync(join(dir, 'main.tf.json'), 'utf8')) as { locals: Json };
      main.locals.broken = expression;
      writeFileSync(join(dir, 'main.tf.json'), JSON.stringify(main, null, 2));
      return dir;
    };
    const syntax = broken('syntax', '${var.name_prefix +}');
    const unknownFunction = broken('function', '${frobnicate(var.name_prefix)}');

    // Act + Assess
    expect(() => evaluateModule(syntax, target)).toThrow(/main\.tf\.json:\d+,\d+: Invalid expression/);
    expect(() => evaluateModule(unknownFunction, target)).toThrow(
      /main\.tf\.json:\d+,\d+: Call to unknown function: There is no function named "frobnicate"\. \(local\.broken\)/,
    );
  });

  it('refuses a value known only after apply, and a count that depends on one', () => {
    // Prepare: a module with a resource type no rule computes.
    const dir = writeModule(root, 'unknowns', {
      'main.tf.json': {
        variable: { replicas: { type: 'number', default: 2 } },
        resource: {
          aws_widget: { w: { count: '${var.replicas}', label: 'w-${count.index}' } },
          aws_gadget: {
            g: { for_each: { a: 1, b: 2 }, size: '${each.value * 10}', widget: '${aws_widget.w[0].id}' },
          },
        },
        output: {
          widget_id: { value: '${aws_widget.w[1].id}' },
          labels: { value: '${aws_widget.w[*].label}' },
        },
      },
    });
    const countsOnUnknown = writeModule(root, 'unknown-count', {
      'main.tf.json': {
        resource: {
          aws_widget: { w: { name: 'w' } },
          aws_gadget: { g: { count: '${length(aws_widget.w.id)}' } },
        },
      },
    });

    // Act
    const local = evaluateModule(dir, { account: '123456789012', region: 'us-west-2' });

    // Assess
    expect(local.outputs.labels).toEqual(['w-0', 'w-1']);
    expect(isUnknown(local.outputs.widget_id)).toBe(true);
    expect(() => local.known(local.outputs.widget_id, 'output.widget_id')).toThrow(
      'output.widget_id is known only after apply',
    );
    const gadget = local.instance('aws_gadget.g["b"]');
    expect(gadget).toMatchObject({ key: 'b', attributes: { size: 20 } });
    expect(() => local.known(gadget.attributes, gadget.address)).toThrow(
      'aws_gadget.g["b"] is known only after apply (at widget)',
    );
    expect(() => evaluateModule(countsOnUnknown, { account: '123456789012', region: 'us-west-2' })).toThrow(
      /main\.tf\.json:\d+,\d+: Invalid count argument: The "count" value depends on values that cannot be determined until apply/,
    );
  });
});
