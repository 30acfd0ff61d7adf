import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { AssetType, Lazy, TerraformAsset, TerraformLocal, Token } from 'cdktf';
import { Construct } from 'constructs';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { bundleFunctions } from '../functions/bundle';
import { HANDLER, LOOP_FUNCTIONS, type LoopFunctionName } from '../functions/catalog';
import { LAMBDA_RUNTIME } from '../functions/runtime';
import { LoopRole } from '../iam';

/** The Lambda runtime every function targets (esbuild's target is its Node.js major). */
export { LAMBDA_RUNTIME };
/** The metric namespace the functions write through Powertools (EMF). */
export const METRICS_NAMESPACE = 'Suture';
/** The service name the functions log, trace and dimension metrics with. */
export const SERVICE_NAME = 'suture';

/**
 * An asset path as Terraform should read it: relative to the module that holds it, so the same
 * synthesised code works as a root module (`path.module` is `.`) and as a child module.
 */
export function modulePath(asset: TerraformAsset): string {
  return `\${path.module}/${asset.path}`;
}

/** Props of {@link LoopFunction}. */
export interface LoopFunctionProps {
  readonly name: LoopFunctionName;
  readonly namePrefix: string;
  /** The deployment package (a zip with `index.js`). */
  readonly zipFile: string;
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
  /** Environment shared by every function (e.g. `SUTURE_AUDIT_TABLE`). */
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * One function of the loop: its own role, its own log group (retention, KMS), X-Ray active
 * tracing, JSON logs, environment encrypted with the loop's key. Other parts add environment
 * variables and grants to it.
 */
export class LoopFunction extends Construct {
  readonly name: LoopFunctionName;
  readonly role: LoopRole;
  readonly logGroup: CloudwatchLogGroup;
  readonly function: LambdaFunction;
  readonly asset: TerraformAsset;
  private readonly environment: Record<string, string>;
  /** Module mode: `cond ? local.vars : {}` terms merged into the environment at apply time. */
  private readonly conditionalTerms: string[] = [];
  private fixedEnvironment?: TerraformLocal;

  constructor(scope: Construct, id: string, props: LoopFunctionProps) {
    super(scope, id);
    const spec = LOOP_FUNCTIONS[props.name];
    this.name = props.name;
    const functionName = `${props.namePrefix}-${props.name}`;
    this.environment = {
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      ...props.environment,
    };
    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: `/aws/lambda/${functionName}`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.kmsKeyArn,
    });
    this.role = new LoopRole(this, 'role', {
      name: functionName,
      description: `Suture ${props.name} function`,
      servicePrincipal: 'lambda.amazonaws.com',
    });
    this.role.addPolicy('logs', [
      {
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [`${this.logGroup.arn}:*`],
      },
    ]);
    this.role.addPolicy('tracing', [
      {
        sid: 'WriteTraces',
        actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        resources: ['*'],
      },
    ]);
    this.asset = new TerraformAsset(this, 'code', { path: props.zipFile, type: AssetType.FILE });
    const zipSha256 = createHash('sha256').update(readFileSync(props.zipFile)).digest('base64');
    this.function = new LambdaFunction(this, 'function', {
      functionName,
      description: spec.description,
      role: this.role.arn,
      runtime: LAMBDA_RUNTIME,
      architectures: ['arm64'],
      handler: HANDLER,
      filename: modulePath(this.asset),
      sourceCodeHash: zipSha256,
      memorySize: spec.memoryMb,
      timeout: spec.timeoutSeconds,
      kmsKeyArn: props.kmsKeyArn,
      tracingConfig: { mode: 'Active' },
      loggingConfig: { logFormat: 'JSON', logGroup: this.logGroup.name },
      environment: { variables: Lazy.anyValue({ produce: () => this.renderEnvironment() }) as never },
      dependsOn: [this.logGroup],
    });
  }

  /** The function's ARN. */
  get arn(): string {
    return this.function.arn;
  }

  /** The function's name. */
  get functionName(): string {
    return this.function.functionName;
  }

  /** Adds an environment variable; a name may be set once. */
  addEnvironment(name: string, value: string): void {
    if (!/^[A-Z][A-Z0-9_]*$/.test(name))
      throw new Error(`environment variable "${name}" must be UPPER_SNAKE_CASE`);
    if (name in this.environment)
      throw new Error(`${this.name}: environment variable ${name} is already set`);
    if (!Token.isUnresolved(value) && value.length > 4096)
      throw new Error(`${this.name}: ${name} is too long`);
    this.environment[name] = value;
  }

  /**
   * Module mode: adds variables that exist only when `count` (a Terraform number, 0 or 1) is 1,
   * e.g. the Bedrock agent's ids when the agent is optional.
   */
  addConditionalEnvironment(count: number, variables: Readonly<Record<string, string>>): void {
    for (const name of Object.keys(variables)) {
      if (name in this.environment)
        throw new Error(`${this.name}: environment variable ${name} is already set`);
    }
    // Locals, so that the merge expression below only references them (cdktf cannot nest raw
    // expressions inside its own function calls).
    this.fixedEnvironment ??= new TerraformLocal(
      this,
      'environment',
      Lazy.anyValue({ produce: () => sorted(this.environment) }),
    );
    const index = this.conditionalTerms.length;
    const extra = new TerraformLocal(this, `environment-${index}`, sorted(variables));
    // `merge()` is the empty map: a `{}` here would end cdktf's expression parsing early and
    // break every reference after it (a second conditional term).
    this.conditionalTerms.push(`(${Token.asString(count)}) > 0 ? ${extra.asString} : merge()`);
  }

  private renderEnvironment(): unknown {
    if (!this.fixedEnvironment) return sorted(this.environment);
    return `\${merge(${[this.fixedEnvironment.asString, ...this.conditionalTerms].join(', ')})}`;
  }
}

function sorted(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Props of {@link LoopFunctions}. */
export interface LoopFunctionsProps {
  readonly namePrefix: string;
  readonly functions: readonly LoopFunctionName[];
  /** The policy bundle archive shipped inside the functions that evaluate policy. */
  readonly policyBundleFile: string;
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Deployment packages built elsewhere, by function; the others are bundled with esbuild at synth.
   * @default every function is bundled from `functions/<name>/index.ts`
   */
  readonly prebuiltPackages?: Partial<Readonly<Record<LoopFunctionName, string>>>;
}

/** The loop's functions, bundled at synth into deterministic zips (one esbuild run for all). */
export class LoopFunctions extends Construct {
  private readonly byName = new Map<LoopFunctionName, LoopFunction>();

  constructor(scope: Construct, id: string, props: LoopFunctionsProps) {
    super(scope, id);
    const prebuilt = props.prebuiltPackages ?? {};
    const toBundle = props.functions.filter((name) => !prebuilt[name]);
    const bundled = bundleFunctions({ functions: toBundle, policyBundleFile: props.policyBundleFile });
    for (const name of props.functions) {
      const zipFile = prebuilt[name] ?? (bundled.get(name)?.zipFile as string);
      this.byName.set(
        name,
        new LoopFunction(this, name, {
          name,
          namePrefix: props.namePrefix,
          zipFile,
          kmsKeyArn: props.kmsKeyArn,
          logRetentionDays: props.logRetentionDays,
          environment: props.environment,
        }),
      );
    }
  }

  /** The function named `name`. */
  get(name: LoopFunctionName): LoopFunction {
    const fn = this.byName.get(name);
    if (!fn) throw new Error(`function ${name} is not part of this loop`);
    return fn;
  }

  /** Every function, in catalogue order. */
  all(): LoopFunction[] {
    return [...this.byName.values()];
  }
}
