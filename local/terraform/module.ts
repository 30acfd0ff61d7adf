/**
 * Reads what local simulators need from the synthesised Terraform module (dist/module), by
 * evaluating the module's own expressions with {@link ModuleScope}: the Step Functions
 * definition and the EventBridge rule patterns. Nothing is copied from the sources.
 *
 * Data sources resolve as in the account and region given: `aws_partition.partition` → `aws`,
 * `aws_region.region`/`.name` → `options.region`, `aws_caller_identity.account_id` →
 * `options.account`; anything else goes to `options.data` / `options.resources` (or fails).
 */
import type { AttributeResolver } from './expressions';
import { ModuleScope } from './expressions';

export interface ModuleEnvironment {
  /** The account the module is "deployed" to (aws_caller_identity.account_id). */
  readonly account: string;
  /** The region the module is "deployed" to (aws_region.region). */
  readonly region: string;
  /** Input variables, merged over the defaults of variables.tf.json. */
  readonly variables?: Record<string, unknown>;
  /** Other resource attributes; undefined → an error naming the attribute. */
  readonly resources?: AttributeResolver;
  /** Other data source attributes; undefined → an error naming the attribute. */
  readonly data?: AttributeResolver;
}

export interface StateMachineOptions extends ModuleEnvironment {
  /** The local ARN (or any identifier) of a function, by name without the name prefix. */
  functionArn(functionName: string): string;
  /** Which aws_sfn_state_machine, when the module has more than one. */
  readonly stateMachine?: string;
}

/** One evaluated aws_cloudwatch_event_rule. */
export interface EventRulePattern {
  /** The resource name in main.tf.json, e.g. `suture_events_pipeline-failures_A4FFDD08`. */
  readonly id: string;
  /** The evaluated `name` argument (e.g. `suture-pipeline-failures`), when it has one. */
  readonly name: string | undefined;
  readonly pattern: Record<string, unknown>;
}

function dataSources(options: ModuleEnvironment): AttributeResolver {
  return (type, name, attr) => {
    if (type === 'aws_partition' && attr === 'partition') return 'aws';
    if (type === 'aws_partition' && attr === 'dns_suffix') return 'amazonaws.com';
    if (type === 'aws_region' && (attr === 'region' || attr === 'name')) return options.region;
    if (type === 'aws_caller_identity' && attr === 'account_id') return options.account;
    return options.data?.(type, name, attr);
  };
}

/** A {@link ModuleScope} for `moduleDir` with the AWS data sources of `options`. */
export function loadModuleScope(moduleDir: string, options: ModuleEnvironment): ModuleScope {
  return ModuleScope.load(moduleDir, {
    variables: options.variables ?? {},
    data: dataSources(options),
    ...(options.resources === undefined ? {} : { resources: options.resources }),
  });
}

function parseJson(text: unknown, what: string): Record<string, unknown> {
  if (typeof text !== 'string') throw new Error(`${what} did not evaluate to a string`);
  const value = JSON.parse(text) as unknown;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/**
 * The ASL definition of the module's state machine, with every
 * `aws_lambda_function.<id>.arn` replaced by `options.functionArn(name)`, where `name` is the
 * function's evaluated `function_name` without the `${var.name_prefix}-` prefix
 * (`suture-collect-evidence` → `collect-evidence`).
 */
export function loadStateMachineDefinition(
  moduleDir: string,
  options: StateMachineOptions,
): Record<string, unknown> {
  const resources: AttributeResolver = (type, name, attr) => {
    if (type === 'aws_lambda_function' && attr === 'arn') {
      const block = scope.resources.aws_lambda_function?.[name];
      const functionName = scope.evaluate(block?.function_name);
      if (typeof functionName !== 'string')
        throw new Error(`aws_lambda_function.${name} has no string function_name`);
      const prefix = `${String(scope.variables.name_prefix)}-`;
      return options.functionArn(
        functionName.startsWith(prefix) ? functionName.slice(prefix.length) : functionName,
      );
    }
    return options.resources?.(type, name, attr);
  };
  const scope = loadModuleScope(moduleDir, { ...options, resources });
  const machines = scope.resources.aws_sfn_state_machine ?? {};
  const ids = Object.keys(machines);
  const id = options.stateMachine ?? (ids.length === 1 ? ids[0] : undefined);
  if (id === undefined)
    throw new Error(`expected one aws_sfn_state_machine (or options.stateMachine), found: ${ids.join(', ')}`);
  const machine = machines[id];
  if (machine === undefined) throw new Error(`no aws_sfn_state_machine.${id} in the module`);
  return parseJson(scope.evaluate(machine.definition), `aws_sfn_state_machine.${id}.definition`);
}

/**
 * The evaluated event patterns of the module's aws_cloudwatch_event_rule resources, in
 * main.tf.json order. Rules whose `count` evaluates to 0 are left out.
 */
export function loadEventPatterns(moduleDir: string, options: ModuleEnvironment): EventRulePattern[] {
  const scope = loadModuleScope(moduleDir, options);
  const rules = scope.resources.aws_cloudwatch_event_rule ?? {};
  const out: EventRulePattern[] = [];
  for (const [id, rule] of Object.entries(rules)) {
    if (rule.count !== undefined && scope.evaluate(rule.count) === 0) continue;
    if (rule.event_pattern === undefined) continue;
    const name = rule.name === undefined ? undefined : scope.evaluate(rule.name);
    out.push({
      id,
      name: typeof name === 'string' ? name : undefined,
      pattern: parseJson(scope.evaluate(rule.event_pattern), `aws_cloudwatch_event_rule.${id}.event_pattern`),
    });
  }
  return out;
}
