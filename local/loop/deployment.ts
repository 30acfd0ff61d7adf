/**
 * What the local loop deploys: the synthesised module evaluated for one account, region and set
 * of input variables (`local/terraform/module.ts`), reduced to what the loop needs to run it on
 * this machine: each function's environment and role, the state machine, the stores to create.
 */
import { resolve } from 'node:path';
import type { PolicyJson, ReplayPrincipal, ResourcePolicies } from '../iam/replay';
import type { DeploymentFacts } from '../iam/requests';
import {
  evaluateModule,
  loadFunctionWiring,
  loadModuleResources,
  loadStateMachineWiring,
  type LocalDeployment,
  type RoleWiring,
} from '../terraform/module';

/** One Lambda function of the module. */
export interface DeployedFunction {
  /** The catalogue name (`execute`), the function name without the name prefix. */
  readonly name: string;
  readonly functionName: string;
  readonly arn: string;
  readonly runtime: string;
  /** The deployment package, an absolute path. */
  readonly packageFile: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly role: ReplayPrincipal;
}

/** One DynamoDB table of the module. */
export interface DeployedTable {
  readonly name: string;
  readonly hashKey: string;
  readonly rangeKey?: string;
  readonly attributes: ReadonlyArray<{ readonly name: string; readonly type: 'S' | 'N' | 'B' }>;
}

/** The module as deployed. */
export interface LoopDeployment {
  readonly moduleDir: string;
  readonly variables: Readonly<Record<string, unknown>>;
  readonly facts: DeploymentFacts;
  readonly functions: readonly DeployedFunction[];
  readonly stateMachine: {
    readonly arn: string;
    readonly definition: Record<string, unknown>;
    readonly role: ReplayPrincipal;
  };
  /** Resource-based policies (KMS key policies, bucket policies) by resource ARN. */
  readonly resourcePolicies: ResourcePolicies;
  readonly tables: readonly DeployedTable[];
  readonly buckets: readonly string[];
  /** The buckets with S3 Object Lock enabled (an `aws_s3_bucket_object_lock_configuration` or the bucket's flag). */
  readonly objectLockBuckets: readonly string[];
  /** KMS keys the module creates, with the id the module evaluated (computed.ts). */
  readonly keys: ReadonlyArray<{
    readonly keyId: string;
    readonly arn: string;
    readonly keyUsage: string;
    readonly keySpec: string;
    readonly description: string;
  }>;
  /** S3 objects the module uploads (e.g. a consumer's policy bundle), with their source file. */
  readonly objects: ReadonlyArray<{ readonly bucket: string; readonly key: string; readonly source: string }>;
  readonly topics: ReadonlyArray<{ readonly name: string; readonly arn: string }>;
  /** Secrets Manager secrets the module creates (empty: the module sets no value). */
  readonly secrets: ReadonlyArray<{ readonly name: string; readonly arn: string }>;
  /** CodeBuild projects the module creates (the smoke checks). */
  readonly codeBuildProjects: ReadonlyArray<{ readonly name: string; readonly buildspec?: string }>;
  /** The event patterns of the module's EventBridge rules that exist with these variables. */
  readonly eventPatterns: readonly Record<string, unknown>[];
  /** The module's outputs (a consumer's view of what was deployed). */
  readonly outputs: Readonly<Record<string, unknown>>;
}

/** A permissions boundary ARN as a policy document: the module's own policy, else unknown. */
function boundaryOf(deployment: LocalDeployment, arn: string): PolicyJson {
  const policy = deployment.instances('aws_iam_policy').find((instance) => instance.attributes.arn === arn);
  if (!policy) {
    // A boundary the module does not create exists in the account; locally it is taken as
    // allowing everything, so only the role's own policies decide (the boundary is checked by
    // the module's tests to be set on every role).
    return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] as never };
  }
  return JSON.parse(
    deployment.known<string>(policy.attributes.policy, `${policy.address}.policy`),
  ) as PolicyJson;
}

/** The resource policies of the module's KMS keys, buckets (and their objects) and queues. */
function resourcePolicies(deployment: LocalDeployment): ResourcePolicies {
  const byArn = new Map<string, PolicyJson>();
  const parse = (value: unknown, what: string) =>
    JSON.parse(deployment.known<string>(value, what)) as PolicyJson;
  for (const key of deployment.instances('aws_kms_key')) {
    if (key.attributes.policy !== undefined && key.attributes.policy !== null)
      byArn.set(
        deployment.known<string>(key.attributes.arn, `${key.address}.arn`),
        parse(key.attributes.policy, `${key.address}.policy`),
      );
  }
  const buckets = new Map(
    deployment
      .instances('aws_s3_bucket')
      .map((bucket) => [
        deployment.known<string>(bucket.attributes.bucket, `${bucket.address}.bucket`),
        deployment.known<string>(bucket.attributes.arn, `${bucket.address}.arn`),
      ]),
  );
  const bucketPolicies = new Map<string, PolicyJson>();
  for (const policy of deployment.instances('aws_s3_bucket_policy')) {
    const bucket = deployment.known<string>(policy.attributes.bucket, `${policy.address}.bucket`);
    bucketPolicies.set(
      buckets.get(bucket) ?? `arn:${deployment.partition}:s3:::${bucket}`,
      parse(policy.attributes.policy, `${policy.address}.policy`),
    );
  }
  return (resource) => {
    const direct = byArn.get(resource);
    if (direct) return direct;
    const bucketArn = /^arn:[^:]+:s3:::[^/]+/.exec(resource)?.[0];
    return bucketArn ? bucketPolicies.get(bucketArn) : undefined;
  };
}

/**
 * Evaluates the module at `moduleDir` with `variables` for `location`, as `terraform apply`
 * would deploy it, and gathers what the local loop runs: every value it uses must be known.
 */
export function deployModule(
  moduleDir: string,
  variables: Readonly<Record<string, unknown>>,
  location: { readonly account: string; readonly region: string },
): LoopDeployment {
  const evaluated = evaluateModule(moduleDir, { ...location, variables: { ...variables } });
  const prefix = String(evaluated.variables.name_prefix);
  const stores = loadModuleResources(evaluated);
  const tables: DeployedTable[] = stores.tables.map((table) => ({
    name: table.name,
    hashKey: table.hashKey,
    ...(table.rangeKey ? { rangeKey: table.rangeKey } : {}),
    attributes: Object.entries(table.attributeTypes).map(([name, type]) => ({
      name,
      type: type as 'S' | 'N' | 'B',
    })),
  }));
  const hashKeys = new Map(tables.map((table) => [table.name, table.hashKey]));
  const facts: DeploymentFacts = {
    account: evaluated.account,
    region: evaluated.region,
    partition: evaluated.partition,
    hashKeyOf: (table) => hashKeys.get(table),
  };
  const toPrincipal = (name: string, role: RoleWiring): ReplayPrincipal => ({
    name,
    roleArn: role.arn,
    policies: role.policies.map((policy) => ({
      name: policy.name,
      document: policy.document as unknown as PolicyJson,
    })),
    ...(role.permissionsBoundary
      ? { permissionsBoundary: boundaryOf(evaluated, role.permissionsBoundary) }
      : {}),
  });
  const machine = loadStateMachineWiring(evaluated);
  const functions = loadFunctionWiring(evaluated, prefix).map((fn) => {
    const filename = evaluated.known<string>(
      evaluated.instance(fn.address).attributes.filename,
      `${fn.address}.filename`,
    );
    return {
      name: fn.name,
      functionName: fn.functionName,
      arn: fn.arn,
      runtime: fn.runtime,
      packageFile: resolve(moduleDir, filename),
      environment: fn.environment,
      role: toPrincipal(fn.name, fn.role),
    };
  });
  return {
    moduleDir,
    variables: evaluated.variables,
    facts,
    resourcePolicies: resourcePolicies(evaluated),
    functions,
    stateMachine: {
      arn: machine.arn,
      definition: machine.definition,
      role: toPrincipal('state-machine', machine.role),
    },
    tables,
    buckets: stores.buckets.map((bucket) => bucket.name),
    objectLockBuckets: [
      ...evaluated
        .instances('aws_s3_bucket')
        .filter((bucket) => bucket.attributes.object_lock_enabled === true)
        .map((bucket) => evaluated.known<string>(bucket.attributes.bucket, `${bucket.address}.bucket`)),
      ...evaluated
        .instances('aws_s3_bucket_object_lock_configuration')
        .filter((lock) => (lock.attributes.object_lock_enabled ?? 'Enabled') === 'Enabled')
        .map((lock) => evaluated.known<string>(lock.attributes.bucket, `${lock.address}.bucket`)),
    ],
    keys: evaluated.instances('aws_kms_key').map((key) => ({
      keyId: evaluated.known<string>(key.attributes.key_id, `${key.address}.key_id`),
      arn: evaluated.known<string>(key.attributes.arn, `${key.address}.arn`),
      keyUsage: typeof key.attributes.key_usage === 'string' ? key.attributes.key_usage : 'ENCRYPT_DECRYPT',
      keySpec:
        typeof key.attributes.customer_master_key_spec === 'string'
          ? key.attributes.customer_master_key_spec
          : 'SYMMETRIC_DEFAULT',
      description: typeof key.attributes.description === 'string' ? key.attributes.description : '',
    })),
    objects: evaluated.instances('aws_s3_object').map((object) => ({
      bucket: evaluated.known<string>(object.attributes.bucket, `${object.address}.bucket`),
      key: evaluated.known<string>(object.attributes.key, `${object.address}.key`),
      source: resolve(
        moduleDir,
        evaluated.known<string>(object.attributes.source, `${object.address}.source`),
      ),
    })),
    topics: stores.topics.map((topic) => ({ name: topic.name, arn: topic.arn })),
    secrets: evaluated.instances('aws_secretsmanager_secret').map((secret) => ({
      name: evaluated.known<string>(secret.attributes.name, `${secret.address}.name`),
      arn: evaluated.known<string>(secret.attributes.arn, `${secret.address}.arn`),
    })),
    codeBuildProjects: stores.codebuildProjects.map((project) => {
      const source = project.arguments.source as
        { buildspec?: unknown } | { buildspec?: unknown }[] | undefined;
      const first = Array.isArray(source) ? source[0] : source;
      return {
        name: project.name,
        ...(typeof first?.buildspec === 'string' ? { buildspec: first.buildspec } : {}),
      };
    }),
    eventPatterns: evaluated
      .instances('aws_cloudwatch_event_rule')
      .filter((rule) => rule.attributes.event_pattern !== undefined && rule.attributes.event_pattern !== null)
      .map(
        (rule) =>
          JSON.parse(
            evaluated.known<string>(rule.attributes.event_pattern, `${rule.address}.event_pattern`),
          ) as Record<string, unknown>,
      ),
    outputs: evaluated.outputs,
  };
}
