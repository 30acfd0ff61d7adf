import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { TerraformLocal, Token } from 'cdktf';
import { Construct } from 'constructs';

/** A pipeline the loop watches and may repair. */
export interface PipelineInScope {
  /** CodePipeline name. */
  readonly name: string;
  /** Account of the pipeline. @default the deploying account */
  readonly account?: string;
  /** Region of the pipeline. @default the deploying region */
  readonly region?: string;
  /** Stages the loop never changes without a human. @default none */
  readonly protectedStages?: readonly string[];
  /**
   * SSM parameter path prefixes (`/app/`) whose values the loop may revert to a prior version.
   * @default [`/<name>/`]
   */
  readonly revertibleParameterPrefixes?: readonly string[];
  /**
   * Step Functions state machines (names, in the pipeline's account and region) that the
   * pipeline's actions run and whose failed executions the loop may redrive. @default none
   */
  readonly redrivableStateMachines?: readonly string[];
}

/** A release-health alarm whose ALARM state means "this pipeline's stage is unhealthy". */
export interface ReleaseHealthAlarm {
  readonly alarmName: string;
  /** The pipeline and stage the alarm speaks for. */
  readonly pipeline: string;
  readonly stage: string;
}

/**
 * The pipelines in scope as a Terraform expression (module mode, e.g. `var.pipelines`): a list
 * of objects `{ name, account, region, protected_stages, revertible_parameter_prefixes }` where
 * `account`, `region` and the prefixes may be null (then they default as in {@link PipelineInScope}).
 */
export interface PipelineScopeExpression {
  readonly expression: unknown;
}

/** The release-health alarms as a Terraform expression: objects `{alarm_name, pipeline, stage}`. */
export interface AlarmScopeExpression {
  readonly expression: unknown;
}

/** Props of {@link LoopScope}. */
export interface LoopScopeProps {
  readonly pipelines: readonly PipelineInScope[] | PipelineScopeExpression;
  readonly releaseHealthAlarms: readonly ReleaseHealthAlarm[] | AlarmScopeExpression;
}

const PIPELINE_NAME = /^[A-Za-z0-9.@\-_]{1,100}$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const PARAMETER_PREFIX = /^\/([A-Za-z0-9_.-]+\/)+$/;
const STATE_MACHINE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

function isExpression<T, E extends { readonly expression: unknown }>(value: readonly T[] | E): value is E {
  return !Array.isArray(value);
}

/**
 * Where the loop may look and act: the pipelines in scope and the release-health alarms, with
 * the account, region and partition they default to. Every other part reads the derived lists
 * (ARNs, names, JSON for the functions' environment) from here, as Terraform locals, so the
 * same code serves a concrete list (cdktf apps) and a Terraform variable (module mode).
 */
export class LoopScope extends Construct {
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  /** Pipeline ARNs (a Terraform list). */
  readonly pipelineArns: string[];
  /** `<pipeline ARN>/*`: the stages and actions of the pipelines in scope. */
  readonly pipelineStageArns: string[];
  /** SSM parameter ARNs (with `*` under each revertible prefix). */
  readonly revertibleParameterArns: string[];
  /** `…:execution:<state machine>:*` of the redrivable state machines (a Terraform list, possibly empty). */
  readonly redrivableExecutionArns: string[];
  /** `1` when any pipeline names a redrivable state machine, else `0` (a Terraform number). */
  readonly redriveCountExpression: number;
  /** `SUTURE_SCOPE`: `[{account, region, pipeline}]`. */
  readonly scopeJson: string;
  /** `SUTURE_PROTECTED_STAGES`: `{pipeline: [stage]}`. */
  readonly protectedStagesJson: string;
  /** Release-health alarm ARNs (a Terraform list, possibly empty). */
  readonly alarmArns: string[];
  /** `SUTURE_ALARM_NAMES`: `[name]`. */
  readonly alarmNamesJson: string;
  /** `SUTURE_ALARM_TARGETS`: `{alarmName: {pipeline, stage}}`. */
  readonly alarmTargetsJson: string;
  /**
   * Whether alarms are configured: a boolean for concrete props, `undefined` when only
   * Terraform knows (module mode; use {@link LoopScope.alarmCountExpression}).
   */
  readonly hasAlarms: boolean | undefined;
  /** Whether any pipeline names a redrivable state machine; `undefined` in module mode. */
  readonly hasRedrivable: boolean | undefined;
  /** `1` when alarms are configured, else `0`, as a Terraform number (module mode). */
  readonly alarmCountExpression: number;

  constructor(scope: Construct, id: string, props: LoopScopeProps) {
    super(scope, id);
    this.accountId = new DataAwsCallerIdentity(this, 'account').accountId;
    this.region = new DataAwsRegion(this, 'region').region;
    this.partition = new DataAwsPartition(this, 'partition').partition;

    const pipelineProps = props.pipelines;
    const alarmProps = props.releaseHealthAlarms;
    const pipelines = new TerraformLocal(
      this,
      'pipelines',
      isExpression(pipelineProps)
        ? this.normaliseExpression(pipelineProps)
        : this.normalisePipelines(pipelineProps),
    );
    const alarms = new TerraformLocal(
      this,
      'alarms',
      isExpression(alarmProps) ? alarmProps.expression : this.normaliseAlarms(alarmProps),
    );
    this.hasAlarms = isExpression(alarmProps) ? undefined : alarmProps.length > 0;
    this.hasRedrivable = isExpression(pipelineProps)
      ? undefined
      : pipelineProps.some((pipeline) => (pipeline.redrivableStateMachines ?? []).length > 0);

    // Local references, rendered bare (local.pipelines) inside the for expressions below.
    const p = pipelines.asString;
    const a = alarms.asString;
    const codepipeline = `arn:\${${this.partition}}:codepipeline:\${p.region}:\${p.account}:\${p.name}`;
    this.pipelineArns = this.local('pipeline_arns', `\${[for p in ${p} : "${codepipeline}"]}`);
    this.pipelineStageArns = this.local('pipeline_stage_arns', `\${[for p in ${p} : "${codepipeline}/*"]}`);
    this.revertibleParameterArns = this.local(
      'revertible_parameter_arns',
      `\${flatten([for p in ${p} : [for prefix in p.parameter_prefixes : "arn:\${${this.partition}}:ssm:\${p.region}:\${p.account}:parameter\${prefix}*"]])}`,
    );
    this.redrivableExecutionArns = this.local(
      'redrivable_execution_arns',
      `\${flatten([for p in ${p} : [for machine in p.state_machines : "arn:\${${this.partition}}:states:\${p.region}:\${p.account}:execution:\${machine}:*"]])}`,
    );
    this.redriveCountExpression = Token.asNumber(
      `\${length(flatten([for p in ${p} : p.state_machines])) > 0 ? 1 : 0}`,
    );
    this.scopeJson = Token.asString(
      `\${jsonencode([for p in ${p} : { account = p.account, region = p.region, pipeline = p.name }])}`,
    );
    this.protectedStagesJson = Token.asString(
      `\${jsonencode({ for p in ${p} : p.name => p.protected_stages })}`,
    );
    this.alarmArns = this.local(
      'alarm_arns',
      `\${[for x in ${a} : "arn:\${${this.partition}}:cloudwatch:\${${this.region}}:\${${this.accountId}}:alarm:\${x.alarm_name}"]}`,
    );
    this.alarmNamesJson = Token.asString(`\${jsonencode([for x in ${a} : x.alarm_name])}`);
    this.alarmTargetsJson = Token.asString(
      `\${jsonencode({ for x in ${a} : x.alarm_name => { pipeline = x.pipeline, stage = x.stage } })}`,
    );
    this.alarmCountExpression = Token.asNumber(`\${length(${a}) > 0 ? 1 : 0}`);
  }

  private local(name: string, expression: string): string[] {
    return new TerraformLocal(this, name, expression).asList;
  }

  /** The same normalisation as {@link normalisePipelines}, done by Terraform. */
  private normaliseExpression(pipelines: PipelineScopeExpression): string {
    const input = Token.asString(pipelines.expression);
    return [
      `\${[for p in ${input} : {`,
      'name = p.name,',
      `account = coalesce(p.account, ${this.accountId}),`,
      `region = coalesce(p.region, ${this.region}),`,
      'protected_stages = p.protected_stages,',
      'parameter_prefixes = p.revertible_parameter_prefixes != null ? p.revertible_parameter_prefixes : ["/${p.name}/"],',
      'state_machines = p.redrivable_state_machines',
      '}]}',
    ].join(' ');
  }

  private normalisePipelines(pipelines: readonly PipelineInScope[]): unknown[] {
    if (pipelines.length === 0) {
      throw new Error(
        'pipelines: at least one pipeline must be in scope (the loop never acts on "every pipeline")',
      );
    }
    const seen = new Set<string>();
    return pipelines.map((pipeline) => {
      const where = `pipelines["${pipeline.name}"]`;
      if (!Token.isUnresolved(pipeline.name) && !PIPELINE_NAME.test(pipeline.name)) {
        throw new Error(`${where}: not a CodePipeline name`);
      }
      if (pipeline.account && !Token.isUnresolved(pipeline.account) && !ACCOUNT.test(pipeline.account)) {
        throw new Error(`${where}: account must be 12 digits`);
      }
      if (pipeline.region && !Token.isUnresolved(pipeline.region) && !REGION.test(pipeline.region)) {
        throw new Error(`${where}: "${pipeline.region}" is not a region`);
      }
      const key = `${pipeline.account ?? ''}/${pipeline.region ?? ''}/${pipeline.name}`;
      if (seen.has(key)) throw new Error(`${where}: listed twice`);
      seen.add(key);
      const prefixes = pipeline.revertibleParameterPrefixes ?? [`/${pipeline.name}/`];
      for (const prefix of prefixes) {
        if (!Token.isUnresolved(prefix) && !PARAMETER_PREFIX.test(prefix)) {
          throw new Error(
            `${where}: parameter prefix "${prefix}" must look like /path/ (leading and trailing /)`,
          );
        }
      }
      for (const machine of pipeline.redrivableStateMachines ?? []) {
        if (!Token.isUnresolved(machine) && !STATE_MACHINE_NAME.test(machine))
          throw new Error(`${where}: "${machine}" is not a state machine name`);
      }
      return {
        name: pipeline.name,
        account: pipeline.account ?? this.accountId,
        region: pipeline.region ?? this.region,
        protected_stages: [...(pipeline.protectedStages ?? [])],
        parameter_prefixes: [...prefixes],
        state_machines: [...(pipeline.redrivableStateMachines ?? [])],
      };
    });
  }

  private normaliseAlarms(alarms: readonly ReleaseHealthAlarm[]): unknown[] {
    const seen = new Set<string>();
    return alarms.map((alarm) => {
      if (seen.has(alarm.alarmName))
        throw new Error(`releaseHealthAlarms: "${alarm.alarmName}" listed twice`);
      seen.add(alarm.alarmName);
      if (!alarm.alarmName || !alarm.pipeline || !alarm.stage) {
        throw new Error('releaseHealthAlarms: alarmName, pipeline and stage are all required');
      }
      return { alarm_name: alarm.alarmName, pipeline: alarm.pipeline, stage: alarm.stage };
    });
  }
}
