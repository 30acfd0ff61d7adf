/**
 * A "local apply" of the synthesised Terraform module (dist/module): tools/hcleval evaluates
 * it with HashiCorp's HCL library as `terraform plan` would (variable types, defaults and
 * validations, locals, every resource and data source instance, outputs), and the AWS
 * provider's computed attributes come from the rules of ./computed.ts. What only a real apply
 * would know is an unknown value ({@link UNKNOWN}); {@link LocalDeployment.known} refuses it.
 *
 * From the evaluation the local loop reads what it wires: the state machine definition, the
 * EventBridge patterns, each function's environment and IAM policies, the stores to create.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { repoRoot } from '../../cli/paths';
import { awsComputedRules, type ComputedContext } from './computed';

/** Where a deployment goes. */
export interface DeploymentTarget {
  /** The account the module is "deployed" to (aws_caller_identity.account_id). */
  readonly account: string;
  /** The region the module is "deployed" to (aws_region.region). */
  readonly region: string;
  /** @default aws */
  readonly partition?: string;
  /** Input variables; the module's defaults fill the rest. */
  readonly variables?: Record<string, unknown>;
}

/** The name callers used before: the same as {@link DeploymentTarget}. */
export type ModuleEnvironment = DeploymentTarget;

/** A value known only after apply, as the evaluator writes it. */
export interface UnknownValue {
  readonly $unknown: true;
}

/** The marker of a value known only after apply. */
export const UNKNOWN: UnknownValue = Object.freeze({ $unknown: true });

export function isUnknown(value: unknown): value is UnknownValue {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    (value as Record<string, unknown>).$unknown === true &&
    Object.keys(value).length === 1
  );
}

/** One instance of a resource or data source. */
export interface ResourceInstance {
  /** Terraform's address, e.g. `aws_iam_role.r`, `aws_x.y[0]`, `data.aws_region.r`. */
  readonly address: string;
  /** count.index or each.key; null without count/for_each. */
  readonly key: number | string | null;
  /** The evaluated arguments and computed attributes (unknown ones are {@link UNKNOWN}). */
  readonly attributes: Record<string, unknown>;
}

/** The instances by resource type, then resource name (no instance when count is 0). */
export type ResourceInstances = Record<string, Record<string, ResourceInstance[]>>;

/** One evaluated module. */
export interface LocalDeployment {
  readonly moduleDir: string;
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  /** Input variables after defaults and type conversion. */
  readonly variables: Record<string, unknown>;
  readonly locals: Record<string, unknown>;
  readonly resources: ResourceInstances;
  readonly data: ResourceInstances;
  readonly outputs: Record<string, unknown>;
  /** The instance at a Terraform address (`aws_x.y`, `aws_x.y[0]`, `data.aws_x.y`); throws when none. */
  instance(address: string): ResourceInstance;
  /** Every instance of a resource type (`aws_x`) or data source type (`data.aws_x`). */
  instances(type: string): ResourceInstance[];
  /** `value` when wholly known; else an Error naming `what` and the unknown part. */
  known<T = unknown>(value: unknown, what: string): T;
}

/** The evaluator's diagnostics, when the module cannot be evaluated. */
export interface ModuleDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly summary: string;
  readonly detail?: string;
  readonly range?: {
    filename: string;
    start: { line: number; column: number };
    end: { line: number; column: number };
  };
  /** What was being evaluated: `var.x`, `local.x`, `aws_x.y`, `output.x`, … */
  readonly address?: string;
}

/** The module has errors (each diagnostic with its file and line in the message). */
export class ModuleEvaluationError extends Error {
  constructor(
    readonly moduleDir: string,
    readonly diagnostics: readonly ModuleDiagnostic[],
  ) {
    super(
      `the Terraform module in ${moduleDir} does not evaluate:\n${diagnostics
        .filter((d) => d.severity === 'error')
        .map(formatDiagnostic)
        .join('\n')}`,
    );
    this.name = 'ModuleEvaluationError';
  }
}

/** `file:line,column: Summary: detail (address)`. */
export function formatDiagnostic(d: ModuleDiagnostic): string {
  const where = d.range ? `${d.range.filename}:${d.range.start.line},${d.range.start.column}: ` : '';
  const detail = d.detail ? `: ${d.detail}` : '';
  const address = d.address ? ` (${d.address})` : '';
  return `${where}${d.summary}${detail}${address}`;
}

interface EvaluatorResponse {
  variables: Record<string, unknown>;
  locals: Record<string, unknown>;
  resources: Record<string, Record<string, { instances: ResourceInstance[] }>>;
  data: Record<string, Record<string, { instances: ResourceInstance[] }>>;
  outputs: Record<string, unknown>;
  diagnostics: ModuleDiagnostic[];
}

/** The evaluator command: scripts/hcleval (builds tools/hcleval once; SUTURE_HCLEVAL overrides). */
function evaluatorCommand(): string {
  return join(repoRoot(), 'scripts', 'hcleval');
}

/** Where in `value` the first unknown is (`''` for the value itself), or undefined. */
function unknownPath(value: unknown, path = ''): string | undefined {
  if (isUnknown(value)) return path || '(the whole value)';
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = unknownPath(item, `${path}[${i}]`);
      if (found !== undefined) return found;
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const found = unknownPath(item, path ? `${path}.${key}` : key);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * Evaluates the module in `moduleDir` deployed to `target` (synchronously: a few hundred
 * milliseconds, plus a one-time `go build` of the evaluator). Throws a
 * {@link ModuleEvaluationError} naming file and line of every error — a failed variable
 * validation with the module's own message, a bad expression, an unknown function, a count
 * that is not known before apply.
 */
export function evaluateModule(moduleDir: string, target: DeploymentTarget): LocalDeployment {
  const dir = resolve(moduleDir);
  const partition = target.partition ?? 'aws';
  const context: ComputedContext = {
    account: target.account,
    region: target.region,
    partition,
    dns_suffix: partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com',
  };
  const request = {
    dir,
    variables: target.variables ?? {},
    path_module: '.',
    context,
    computed: awsComputedRules(),
  };
  const run = spawnSync(evaluatorCommand(), [], {
    input: JSON.stringify(request),
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    timeout: 15 * 60 * 1000,
  });
  if (run.error) throw new Error(`cannot run scripts/hcleval: ${run.error.message}`);
  if (run.status !== 0)
    throw new Error(
      `scripts/hcleval failed (exit ${String(run.status)}): ${run.stderr.trim() || run.stdout.trim()}`,
    );
  const response = JSON.parse(run.stdout) as EvaluatorResponse;
  if (response.diagnostics.some((d) => d.severity === 'error'))
    throw new ModuleEvaluationError(dir, response.diagnostics);

  const flatten = (byType: EvaluatorResponse['resources']): ResourceInstances => {
    const out: ResourceInstances = {};
    for (const [type, names] of Object.entries(byType)) {
      out[type] = {};
      for (const [name, resource] of Object.entries(names)) out[type][name] = resource.instances;
    }
    return out;
  };
  const resources = flatten(response.resources);
  const data = flatten(response.data);
  const all = (type: string): ResourceInstance[] => {
    const source = type.startsWith('data.') ? data[type.slice(5)] : resources[type];
    return Object.values(source ?? {}).flat();
  };
  const byAddress = new Map<string, ResourceInstance>();
  for (const source of [resources, data])
    for (const names of Object.values(source))
      for (const instances of Object.values(names)) for (const i of instances) byAddress.set(i.address, i);

  return {
    moduleDir: dir,
    account: target.account,
    region: target.region,
    partition,
    variables: response.variables,
    locals: response.locals,
    resources,
    data,
    outputs: response.outputs,
    instances: all,
    instance(address) {
      const found = byAddress.get(address);
      if (!found) throw new Error(`the module has no instance ${address}`);
      return found;
    },
    known<T>(value: unknown, what: string): T {
      const path = unknownPath(value);
      if (path !== undefined) {
        const where = path === '(the whole value)' ? '' : ` (at ${path})`;
        throw new Error(`${what} is known only after apply${where}`);
      }
      return value as T;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// What the local loop reads from a deployment

function parseJsonObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${what} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function knownString(deployment: LocalDeployment, value: unknown, what: string): string {
  const known = deployment.known(value, what);
  if (typeof known !== 'string') throw new Error(`${what} is not a string`);
  return known;
}

/** A nested block written as an object or a one-element list (JSON syntax allows both). */
function block(value: unknown): Record<string, unknown> | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first !== null && typeof first === 'object' && !isUnknown(first)
    ? (first as Record<string, unknown>)
    : undefined;
}

/** An IAM policy document, parsed. */
export type IamPolicyDocument = Record<string, unknown>;

export interface RoleWiring {
  readonly address: string;
  readonly name: string;
  readonly arn: string;
  readonly permissionsBoundary?: string;
  /** The role's inline policies: aws_iam_role_policy resources on it, and inline_policy blocks. */
  readonly policies: readonly { readonly name: string; readonly document: IamPolicyDocument }[];
}

export interface FunctionWiring {
  readonly address: string;
  /** The function name without `<namePrefix>-` (e.g. `collect-evidence`). */
  readonly name: string;
  readonly functionName: string;
  readonly arn: string;
  readonly runtime: string;
  readonly handler: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly role: RoleWiring;
}

export interface StateMachineWiring {
  readonly address: string;
  readonly name: string;
  readonly arn: string;
  /** The ASL definition, parsed (function ARNs as the deployment computes them). */
  readonly definition: Record<string, unknown>;
  readonly role: RoleWiring;
}

/** The role whose ARN (or name) is `reference`, with its inline policies. */
export function loadRoleWiring(deployment: LocalDeployment, reference: string, what: string): RoleWiring {
  const role = deployment
    .instances('aws_iam_role')
    .find(
      (r) =>
        r.attributes.arn === reference || r.attributes.name === reference || r.attributes.id === reference,
    );
  if (!role) throw new Error(`${what}: no aws_iam_role in the module has the ARN or name ${reference}`);
  const name = knownString(deployment, role.attributes.name, `${role.address}.name`);
  const arn = knownString(deployment, role.attributes.arn, `${role.address}.arn`);
  const id = role.attributes.id;
  const policies: { name: string; document: IamPolicyDocument }[] = [];
  for (const policy of deployment.instances('aws_iam_role_policy')) {
    const on = policy.attributes.role;
    if (on !== name && on !== id && on !== arn) continue;
    const policyName = knownString(deployment, policy.attributes.name, `${policy.address}.name`);
    const text = knownString(deployment, policy.attributes.policy, `${policy.address}.policy`);
    policies.push({ name: policyName, document: parseJsonObject(text, `${policy.address}.policy`) });
  }
  const inline = role.attributes.inline_policy;
  for (const [i, entry] of (Array.isArray(inline) ? inline : inline ? [inline] : []).entries()) {
    const fields = deployment.known<Record<string, unknown>>(entry, `${role.address}.inline_policy[${i}]`);
    if (typeof fields.name !== 'string' || typeof fields.policy !== 'string') continue;
    policies.push({
      name: fields.name,
      document: parseJsonObject(fields.policy, `${role.address}.inline_policy`),
    });
  }
  const boundary = role.attributes.permissions_boundary;
  return {
    address: role.address,
    name,
    arn,
    ...(boundary === undefined || boundary === null
      ? {}
      : { permissionsBoundary: knownString(deployment, boundary, `${role.address}.permissions_boundary`) }),
    policies,
  };
}

/**
 * Every Lambda function of the deployment: names, ARN, runtime, handler, its environment (every
 * variable known, else an Error naming the function and the variable) and its role with the
 * role's evaluated inline policies.
 */
export function loadFunctionWiring(deployment: LocalDeployment, namePrefix: string): FunctionWiring[] {
  const prefix = `${namePrefix}-`;
  return deployment.instances('aws_lambda_function').map((fn) => {
    const a = fn.attributes;
    const functionName = knownString(deployment, a.function_name, `${fn.address}.function_name`);
    const environment: Record<string, string> = {};
    const variables = block(a.environment)?.variables;
    const vars = deployment.known<Record<string, unknown> | null | undefined>(
      variables,
      `the environment of function ${functionName}`,
    );
    for (const [key, value] of Object.entries(vars ?? {})) {
      const what = `environment variable ${key} of function ${functionName}`;
      const v = deployment.known(value, what);
      if (v === null || typeof v === 'object')
        throw new Error(`${what} is ${v === null ? 'null' : 'not a string'}`);
      environment[key] = String(v);
    }
    const roleArn = knownString(deployment, a.role, `the role of function ${functionName}`);
    return {
      address: fn.address,
      name: functionName.startsWith(prefix) ? functionName.slice(prefix.length) : functionName,
      functionName,
      arn: knownString(deployment, a.arn, `${fn.address}.arn`),
      runtime: knownString(deployment, a.runtime, `${fn.address}.runtime`),
      handler: knownString(deployment, a.handler, `${fn.address}.handler`),
      environment,
      role: loadRoleWiring(deployment, roleArn, `function ${functionName}`),
    };
  });
}

/** The state machine (`stateMachine` = its resource name when the module has several). */
export function loadStateMachineWiring(
  deployment: LocalDeployment,
  stateMachine?: string,
): StateMachineWiring {
  const machines = deployment.resources.aws_sfn_state_machine ?? {};
  const ids = Object.keys(machines);
  const id = stateMachine ?? (ids.length === 1 ? ids[0] : undefined);
  if (id === undefined)
    throw new Error(`expected one aws_sfn_state_machine (or a name), found: ${ids.join(', ') || 'none'}`);
  const machine = machines[id]?.[0];
  if (!machine) throw new Error(`no aws_sfn_state_machine.${id} in the module`);
  const a = machine.attributes;
  return {
    address: machine.address,
    name: knownString(deployment, a.name, `${machine.address}.name`),
    arn: knownString(deployment, a.arn, `${machine.address}.arn`),
    definition: parseJsonObject(
      knownString(deployment, a.definition, `${machine.address}.definition`),
      `${machine.address}.definition`,
    ),
    role: loadRoleWiring(
      deployment,
      knownString(deployment, a.role_arn, `${machine.address}.role_arn`),
      machine.address,
    ),
  };
}

/** A store or other resource the local loop creates, with all its evaluated arguments. */
export interface ModuleResource {
  readonly address: string;
  readonly name: string;
  readonly arn: string;
  readonly arguments: Record<string, unknown>;
}

export interface DynamoDbTable extends ModuleResource {
  readonly hashKey: string;
  readonly rangeKey?: string;
  /** Key attribute types by name (S, N or B). */
  readonly attributeTypes: Readonly<Record<string, string>>;
}

export interface ModuleResources {
  readonly tables: readonly DynamoDbTable[];
  readonly buckets: readonly ModuleResource[];
  readonly topics: readonly ModuleResource[];
  readonly queues: readonly (ModuleResource & { readonly url: string })[];
  readonly codebuildProjects: readonly ModuleResource[];
}

/** The module's DynamoDB tables, S3 buckets, SNS topics, SQS queues and CodeBuild projects. */
export function loadModuleResources(deployment: LocalDeployment): ModuleResources {
  const resource = (i: ResourceInstance, nameAttribute = 'name'): ModuleResource => ({
    address: i.address,
    name: knownString(deployment, i.attributes[nameAttribute], `${i.address}.${nameAttribute}`),
    arn: knownString(deployment, i.attributes.arn, `${i.address}.arn`),
    arguments: i.attributes,
  });
  return {
    tables: deployment.instances('aws_dynamodb_table').map((i) => {
      const attributes = deployment.known<unknown>(i.attributes.attribute ?? [], `${i.address}.attribute`);
      const attributeTypes: Record<string, string> = {};
      for (const entry of Array.isArray(attributes) ? attributes : [attributes]) {
        const { name, type } = entry as { name?: unknown; type?: unknown };
        if (typeof name === 'string' && typeof type === 'string') attributeTypes[name] = type;
      }
      const range = i.attributes.range_key;
      return {
        ...resource(i),
        hashKey: knownString(deployment, i.attributes.hash_key, `${i.address}.hash_key`),
        ...(range === undefined || range === null
          ? {}
          : { rangeKey: knownString(deployment, range, `${i.address}.range_key`) }),
        attributeTypes,
      };
    }),
    buckets: deployment.instances('aws_s3_bucket').map((i) => resource(i, 'bucket')),
    topics: deployment.instances('aws_sns_topic').map((i) => resource(i)),
    queues: deployment.instances('aws_sqs_queue').map((i) => ({
      ...resource(i),
      url: knownString(deployment, i.attributes.url, `${i.address}.url`),
    })),
    codebuildProjects: deployment.instances('aws_codebuild_project').map((i) => resource(i)),
  };
}

// ---------------------------------------------------------------------------------------------
// The state machine definition and event patterns for local simulators

export interface StateMachineOptions extends DeploymentTarget {
  /** The local ARN (or any identifier) of a function, by name without the name prefix. */
  functionArn(functionName: string): string;
  /** Which aws_sfn_state_machine, when the module has more than one. */
  readonly stateMachine?: string;
}

/** One evaluated aws_cloudwatch_event_rule instance. */
export interface EventRulePattern {
  /** The resource name in main.tf.json, e.g. `suture_events_pipeline-failures_A4FFDD08`. */
  readonly id: string;
  /** The evaluated `name` argument (e.g. `suture-pipeline-failures`), when it has one. */
  readonly name: string | undefined;
  readonly pattern: Record<string, unknown>;
}

/** Replaces every function ARN (or ARN:qualifier) string in `value` by `replace(name)`. */
function mapFunctionArns(value: unknown, arns: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') {
    const exact = arns.get(value);
    if (exact !== undefined) return exact;
    for (const [arn, local] of arns) if (value.startsWith(`${arn}:`)) return local + value.slice(arn.length);
    return value;
  }
  if (Array.isArray(value)) return value.map((item) => mapFunctionArns(item, arns));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapFunctionArns(v, arns)]));
  return value;
}

/**
 * The ASL definition of the module's state machine, with every function ARN the deployment
 * computes replaced by `options.functionArn(name)`, where `name` is the function's name
 * without the `${var.name_prefix}-` prefix (`suture-collect-evidence` → `collect-evidence`).
 */
export function loadStateMachineDefinition(
  moduleDir: string,
  options: StateMachineOptions,
): Record<string, unknown> {
  const deployment = evaluateModule(moduleDir, options);
  const namePrefix = knownString(deployment, deployment.variables.name_prefix, 'var.name_prefix');
  const prefix = `${namePrefix}-`;
  const arns = new Map<string, string>();
  for (const fn of deployment.instances('aws_lambda_function')) {
    const functionName = knownString(deployment, fn.attributes.function_name, `${fn.address}.function_name`);
    const name = functionName.startsWith(prefix) ? functionName.slice(prefix.length) : functionName;
    arns.set(knownString(deployment, fn.attributes.arn, `${fn.address}.arn`), options.functionArn(name));
  }
  const machines = deployment.resources.aws_sfn_state_machine ?? {};
  const ids = Object.keys(machines);
  const id = options.stateMachine ?? (ids.length === 1 ? ids[0] : undefined);
  if (id === undefined)
    throw new Error(`expected one aws_sfn_state_machine (or options.stateMachine), found: ${ids.join(', ')}`);
  const machine = machines[id]?.[0];
  if (!machine) throw new Error(`no aws_sfn_state_machine.${id} in the module`);
  const text = knownString(deployment, machine.attributes.definition, `${machine.address}.definition`);
  return mapFunctionArns(parseJsonObject(text, `${machine.address}.definition`), arns) as Record<
    string,
    unknown
  >;
}

/**
 * The evaluated event patterns of the module's aws_cloudwatch_event_rule instances (a rule
 * whose count is 0 has none), by resource name.
 */
export function loadEventPatterns(moduleDir: string, options: DeploymentTarget): EventRulePattern[] {
  const deployment = evaluateModule(moduleDir, options);
  const out: EventRulePattern[] = [];
  for (const [id, instances] of Object.entries(deployment.resources.aws_cloudwatch_event_rule ?? {})) {
    for (const rule of instances) {
      const pattern = rule.attributes.event_pattern;
      if (pattern === undefined || pattern === null) continue;
      const name = rule.attributes.name;
      out.push({
        id,
        name: typeof name === 'string' ? name : undefined,
        pattern: parseJsonObject(
          knownString(deployment, pattern, `${rule.address}.event_pattern`),
          `${rule.address}.event_pattern`,
        ),
      });
    }
  }
  return out;
}
