/**
 * What the AWS provider would compute for the resources and data sources of the synthesised
 * module, as HCL expressions for tools/hcleval (the request's `computed` rules). Each rule sees
 * `self` (the instance's evaluated arguments and computed attributes), `context` (the
 * {@link ComputedContext}), `address` (e.g. `aws_kms_key.k` or `aws_x.y[0]`), `resource`
 * (`{type, name, key}`), every Terraform function, and `unknown()` for a value known only
 * after apply. An argument the configuration sets wins over its rule (Optional+Computed).
 *
 * Ids AWS would pick at random (KMS key ids, Bedrock agent ids, function URL ids, bucket name
 * suffixes of `bucket_prefix`) are derived from a SHA-256 of account, region and address, so
 * one deployment always gets the same ones. Attributes without a rule are unknown.
 */

/** The deployment target the rules see as `context`. */
export interface ComputedContext {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  readonly dns_suffix: string;
}

/** Rules by resource type (`aws_s3_bucket`) or data source type (`data.aws_region`). */
export type ComputedRules = Record<string, Record<string, string>>;

/** `arn:<partition>:<service>:<region>:<account>:<resource>` as an HCL template. */
function arn(service: string, resource: string, scope: { region?: boolean; account?: boolean } = {}): string {
  const region = scope.region === false ? '' : '${context.region}';
  const account = scope.account === false ? '' : '${context.account}';
  return `"arn:\${context.partition}:${service}:${region}:${account}:${resource}"`;
}

/** The deterministic hex digest ids derive from. */
const DIGEST = 'sha256("${context.account}/${context.region}/${address}")';

/** `length` characters of the digest (hex), upper-cased when `upper`. */
function digestId(length: number, offset = 0, upper = false): string {
  const id = `substr(${DIGEST}, ${offset}, ${length})`;
  return upper ? `upper(${id})` : id;
}

/** A UUID-shaped deterministic id (KMS key ids). */
const UUID = `format("%s-%s-%s-%s-%s", ${[
  [0, 8],
  [8, 4],
  [12, 4],
  [16, 4],
  [20, 12],
]
  .map(([offset, length]) => digestId(length!, offset))
  .join(', ')})`;

/** `name` when set, else `name_prefix` + a deterministic suffix, else unknown. */
function nameOrPrefix(attribute: string, suffixLength: number): string {
  return `try(self.${attribute}, null) != null ? self.${attribute} : (try(self.${attribute}_prefix, null) != null ? "\${self.${attribute}_prefix}\${${digestId(suffixLength)}}" : unknown())`;
}

/** A list of strings from an optional argument (absent or null: empty). */
const list = (expression: string): string => `try([for x in ${expression} : x], [])`;

/**
 * The AWS provider's single-or-list rendering of a string set: null when empty, the string
 * when one, else the distinct values in reverse lexical order. `&{` becomes `${` (IAM policy
 * variables) when `variables` is set.
 */
function stringSet(values: string, variables = false): string {
  const items = variables
    ? `[for x in distinct(${values}) : replace(x, "&{", "$\${")]`
    : `distinct(${values})`;
  return `length(${items}) == 0 ? null : jsondecode(length(${items}) == 1 ? jsonencode(${items}[0]) : jsonencode(reverse(sort(${items}))))`;
}

/**
 * Principal / NotPrincipal: `"*"` for a single `{type = "*", identifiers = ["*"]}`, else an
 * object by type whose value is the identifiers of that type's blocks (a string when one
 * block has one identifier, else each block's identifiers in reverse order, block after block).
 */
function principals(blocks: string): string {
  const ofType = `[for p in ${blocks} : p if p.type == t]`;
  const ids = (p: string) => `[for i in distinct(${p}.identifiers) : replace(i, "&{", "$\${")]`;
  const byType = `{ for t in distinct([for p in ${blocks} : p.type]) : t => jsondecode(length(${ofType}) == 1 && length(${ids(`${ofType}[0]`)}) == 1 ? jsonencode(${ids(`${ofType}[0]`)}[0]) : jsonencode(flatten([for p in ${ofType} : reverse(sort(${ids('p')}))]))) }`;
  const star = `length(${blocks}) == 1 && ${blocks}[0].type == "*" && length(distinct(${blocks}[0].identifiers)) == 1 && contains(${blocks}[0].identifiers, "*")`;
  return `length(${blocks}) == 0 ? null : jsondecode(${star} ? jsonencode("*") : jsonencode(${byType}))`;
}

/** Condition: by test, then by variable, the values of every block in order (one: a string). */
function conditions(blocks: string): string {
  const values = `flatten([for c in ${blocks} : [for v in c.values : replace(v, "&{", "$\${")] if c.test == test && c.variable == variable])`;
  return `length(${blocks}) == 0 ? null : { for test in distinct([for c in ${blocks} : c.test]) : test => { for variable in distinct([for c in ${blocks} : c.variable if c.test == test]) : variable => jsondecode(length(${values}) == 1 ? jsonencode(${values}[0]) : jsonencode(${values})) } }`;
}

/**
 * data.aws_iam_policy_document `.json`, as the provider renders it (the same JSON once parsed;
 * keys in lexical order rather than the provider's field order, no indentation): Version
 * (default 2012-10-17), Id from policy_id, then per statement Sid (when not empty), Effect
 * (default Allow), Action/NotAction/Resource/NotResource, Principal/NotPrincipal, Condition.
 */
function policyDocument(): string {
  const statement = (s: string) =>
    `{ for k, v in {
      Sid = try(${s}.sid == "" ? null : ${s}.sid, null),
      Effect = try(coalesce(${s}.effect, "Allow"), "Allow"),
      Action = ${stringSet(list(`${s}.actions`))},
      NotAction = ${stringSet(list(`${s}.not_actions`))},
      Resource = ${stringSet(list(`${s}.resources`), true)},
      NotResource = ${stringSet(list(`${s}.not_resources`), true)},
      Principal = ${principals(list(`${s}.principals`))},
      NotPrincipal = ${principals(list(`${s}.not_principals`))},
      Condition = ${conditions(list(`${s}.condition`))},
    } : k => v if v != null }`;
  return `{ for k, v in {
    Version = try(coalesce(self.version, "2012-10-17"), "2012-10-17"),
    Id = try(self.policy_id, null),
    Statement = length(${list('self.statement')}) == 0 ? null : [for s in ${list('self.statement')} : ${statement('s')}],
  } : k => v if v != null }`;
}

/** The rules for the types the module has (and a few neighbours). */
export function awsComputedRules(): ComputedRules {
  const document = policyDocument();
  return {
    'data.aws_partition': {
      partition: 'context.partition',
      dns_suffix: 'context.dns_suffix',
      reverse_dns_prefix: 'join(".", reverse(split(".", context.dns_suffix)))',
      id: 'context.partition',
    },
    'data.aws_region': {
      region: 'context.region',
      name: 'context.region',
      id: 'context.region',
      endpoint: '"ec2.${context.region}.${context.dns_suffix}"',
      description: 'unknown()',
    },
    'data.aws_caller_identity': {
      account_id: 'context.account',
      id: 'context.account',
      arn: arn('iam', 'root', { region: false }),
      user_id: 'context.account',
    },
    'data.aws_iam_policy_document': {
      json: `jsonencode(${document})`,
      minified_json: 'self.json',
      id: 'sha256(self.json)',
    },
    aws_dynamodb_table: {
      arn: arn('dynamodb', 'table/${self.name}'),
      id: 'self.name',
    },
    aws_s3_bucket: {
      bucket: nameOrPrefix('bucket', 26),
      id: 'self.bucket',
      arn: arn('s3', '${self.bucket}', { region: false, account: false }),
      bucket_domain_name: '"${self.bucket}.s3.${context.dns_suffix}"',
      bucket_regional_domain_name: '"${self.bucket}.s3.${context.region}.${context.dns_suffix}"',
      region: 'context.region',
    },
    aws_sns_topic: {
      name: nameOrPrefix('name', 26),
      arn: arn('sns', '${self.name}'),
      id: 'self.arn',
    },
    aws_sqs_queue: {
      name: nameOrPrefix('name', 26),
      arn: arn('sqs', '${self.name}'),
      url: '"https://sqs.${context.region}.${context.dns_suffix}/${context.account}/${self.name}"',
      id: 'self.url',
    },
    aws_lambda_function: {
      arn: arn('lambda', 'function:${self.function_name}'),
      id: 'self.function_name',
      version: '"$LATEST"',
      qualified_arn: '"${self.arn}:${self.version}"',
      invoke_arn: arn('apigateway', 'lambda:path/2015-03-31/functions/${self.arn}/invocations', {
        account: false,
      }),
      qualified_invoke_arn: arn(
        'apigateway',
        'lambda:path/2015-03-31/functions/${self.qualified_arn}/invocations',
        {
          account: false,
        },
      ),
    },
    aws_lambda_function_url: {
      url_id: digestId(32),
      function_url: '"https://${self.url_id}.lambda-url.${context.region}.on.aws/"',
      function_arn: `startswith(self.function_name, "arn:") ? self.function_name : ${arn('lambda', 'function:${self.function_name}')}`,
      id: 'self.function_name',
    },
    aws_lambda_permission: {
      id: 'try(self.statement_id, unknown())',
    },
    aws_iam_role: {
      name: nameOrPrefix('name', 26),
      id: 'self.name',
      path: '"/"',
      arn: arn('iam', 'role${self.path}${self.name}', { region: false }),
      unique_id: `"AROA\${${digestId(17, 0, true)}}"`,
    },
    aws_iam_role_policy: {
      name: nameOrPrefix('name', 26),
      id: '"${self.role}:${self.name}"',
    },
    // A partial ARN (no random suffix): Secrets Manager and the local emulator accept it as SecretId.
    aws_secretsmanager_secret: {
      arn: arn('secretsmanager', 'secret:${self.name}'),
      id: 'self.arn',
    },
    aws_kms_key: {
      key_id: UUID,
      id: 'self.key_id',
      arn: arn('kms', 'key/${self.key_id}'),
    },
    aws_kms_alias: {
      id: 'self.name',
      arn: arn('kms', '${self.name}'),
      target_key_arn: `startswith(self.target_key_id, "arn:") ? self.target_key_id : ${arn('kms', 'key/${self.target_key_id}')}`,
    },
    aws_sfn_state_machine: {
      name: nameOrPrefix('name', 26),
      arn: arn('states', 'stateMachine:${self.name}'),
      id: 'self.arn',
    },
    aws_cloudwatch_log_group: {
      name: nameOrPrefix('name', 26),
      arn: arn('logs', 'log-group:${self.name}'),
      id: 'self.name',
    },
    aws_cloudwatch_event_rule: {
      name: nameOrPrefix('name', 26),
      arn: `try(self.event_bus_name, "default") == "default" ? ${arn('events', 'rule/${self.name}')} : ${arn('events', 'rule/${self.event_bus_name}/${self.name}')}`,
      id: 'try(self.event_bus_name, "default") == "default" ? self.name : "${self.event_bus_name}/${self.name}"',
    },
    aws_cloudwatch_metric_alarm: {
      arn: arn('cloudwatch', 'alarm:${self.alarm_name}'),
      id: 'self.alarm_name',
    },
    aws_cloudwatch_dashboard: {
      dashboard_arn: arn('cloudwatch', 'dashboard/${self.dashboard_name}', { region: false }),
      id: 'self.dashboard_name',
    },
    aws_codebuild_project: {
      arn: arn('codebuild', 'project/${self.name}'),
      id: 'self.arn',
    },
    aws_bedrockagent_agent: {
      agent_id: digestId(10, 0, true),
      id: 'self.agent_id',
      agent_arn: arn('bedrock', 'agent/${self.agent_id}'),
      agent_version: '"DRAFT"',
    },
    aws_bedrockagent_agent_alias: {
      agent_alias_id: digestId(10, 0, true),
      agent_alias_arn: arn('bedrock', 'agent-alias/${self.agent_id}/${self.agent_alias_id}'),
      id: '"${self.agent_alias_id},${self.agent_id}"',
    },
    aws_bedrockagent_agent_action_group: {
      action_group_id: digestId(10, 0, true),
      id: '"${self.action_group_id},${self.agent_id},${self.agent_version}"',
    },
    aws_bedrock_guardrail: {
      guardrail_id: digestId(12),
      guardrail_arn: arn('bedrock', 'guardrail/${self.guardrail_id}'),
      version: '"DRAFT"',
      id: '"${self.guardrail_id},${self.version}"',
    },
    aws_bedrock_guardrail_version: {
      version: '"1"',
      id: '"${self.guardrail_arn},${self.version}"',
    },
  };
}
