import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { opaCommand } from '../../cli/policy/build';
import { repoRoot } from '../../cli/paths';
import { DEPRECATED_LAMBDA_RUNTIMES } from '../../modules/functions/runtime';
import { synthesizeModule } from '../../modules/module-synth';
import { baseProps, synthLoop } from '../unit/modules/helpers';

const infraPolicy = join(repoRoot(), 'policies', 'suture', 'infra');

interface Violation {
  readonly code: string;
  readonly msg: string;
}

/** `opa eval <query>` over the infra policy with `input` on stdin. */
function evaluate<T>(query: string, input: unknown = {}): T {
  const run = spawnSync(
    opaCommand(),
    ['eval', '--format', 'json', '--stdin-input', '--data', infraPolicy, query],
    { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (run.status !== 0) throw new Error(`opa eval failed: ${run.stderr}`);
  const result = JSON.parse(run.stdout) as { result: { expressions: { value: T }[] }[] };
  return result.result[0]!.expressions[0]!.value;
}

/** `opa eval data.suture.infra.violations` with the configuration as input. */
function violations(config: unknown): Violation[] {
  return evaluate<Violation[]>('data.suture.infra.violations', config);
}

describe('policies/suture/infra over our own synthesised infrastructure', () => {
  let dir: string;
  let module: Record<string, unknown>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'infra-rego-'));
    const written = synthesizeModule(join(dir, 'module'));
    module = JSON.parse(readFileSync(join(written.dir, 'main.tf.json'), 'utf8')) as Record<string, unknown>;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds nothing in the Terraform module', () => {
    expect(violations(module)).toEqual([]);
  });

  it('finds nothing in a cdktf stack with every optional part on', () => {
    const synth = synthLoop({
      ...baseProps,
      bedrock: { foundationModel: 'anthropic.claude-3-5-sonnet-20240620-v1:0' },
      smokeChecks: {},
    });
    expect(violations(synth.json)).toEqual([]);
  });

  it('finds what a careless change would add to the same configuration', () => {
    const resource = structuredClone(module.resource) as Record<
      string,
      Record<string, Record<string, unknown>>
    >;
    const [queueName] = Object.keys(resource.aws_sqs_queue!);
    delete resource.aws_sqs_queue![queueName!]!.kms_master_key_id;
    const [fnName] = Object.keys(resource.aws_lambda_function!);
    resource.aws_lambda_function![fnName!]!.tracing_config = { mode: 'PassThrough' };
    resource.aws_lambda_function![fnName!]!.runtime = 'nodejs20.x';
    const data = structuredClone(module.data) as Record<
      string,
      Record<string, { statement: { actions: string[] }[] }>
    >;
    const [documentName] = Object.keys(data.aws_iam_policy_document!).filter((name) =>
      name.includes('execute_role_repair'),
    );
    data.aws_iam_policy_document![documentName!]!.statement[0]!.actions.push('codepipeline:*');

    const codes = violations({ ...module, resource, data }).map((violation) => violation.code);

    expect(codes).toEqual([
      'lambda_runtime_deprecated',
      'lambda_untraced',
      'queue_unencrypted',
      'wildcard_mutating_action',
    ]);
  });

  it('denies the same deprecated Lambda runtimes as the construct’s own check', () => {
    expect(evaluate<string[]>('data.suture.infra.deprecated_runtimes').sort()).toEqual(
      [...DEPRECATED_LAMBDA_RUNTIMES].sort(),
    );
  });
});
