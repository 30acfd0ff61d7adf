import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CodebuildProject } from '@cdktf/provider-aws/lib/codebuild-project';
import { Construct } from 'constructs';
import { LoopRole, splat } from '../iam';
import type { LoopScope } from './scope';

/**
 * Default smoke check: the pipeline the validate function names (`SUTURE_PIPELINE`, passed as
 * an environment override on StartBuild) has no stage whose latest execution failed.
 */
export const DEFAULT_SMOKE_BUILDSPEC = `version: 0.2
phases:
  build:
    commands:
      - test -n "$SUTURE_PIPELINE"
      - failed=$(aws codepipeline get-pipeline-state --name "$SUTURE_PIPELINE" --query "length(stageStates[?latestExecution.status=='Failed'])" --output text)
      - echo "failed stages in $SUTURE_PIPELINE = $failed"
      - test "$failed" = "0"
`;

/** Props of {@link SmokeProject}. */
export interface SmokeProjectProps {
  readonly namePrefix: string;
  readonly scope: LoopScope;
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
  /** Buildspec of the smoke checks. @default {@link DEFAULT_SMOKE_BUILDSPEC} */
  readonly buildspec?: string;
  /** Module mode: a Terraform number (0 or 1) deciding whether the project exists. @default exists */
  readonly count?: number;
}

/** Smoke checks run after each repair. */
export interface SmokeChecksSettings {
  /** Buildspec of the smoke checks (may be a Terraform reference). @default {@link DEFAULT_SMOKE_BUILDSPEC} */
  readonly buildspec?: string;
  /**
   * Module mode: a Terraform number (0 or 1) that decides at apply time whether the project
   * exists; the workflow definition and validate's environment follow it.
   * @default the project always exists when settings are given
   */
  readonly count?: number;
}

/**
 * The CodeBuild project the workflow starts after a repair and validate reads before declaring
 * the repair healthy: no source, no
 * artifacts, not privileged, logs to its own encrypted log group with retention.
 */
export class SmokeProject extends Construct {
  readonly project: CodebuildProject;
  /** The project name, known at synth (the workflow definition names it). */
  readonly name: string;
  readonly role: LoopRole;
  readonly logGroup: CloudwatchLogGroup;
  /** Module mode: the Terraform number (0 or 1) the project's resources exist by. */
  readonly count?: number;

  constructor(scope: Construct, id: string, props: SmokeProjectProps) {
    super(scope, id);
    const name = `${props.namePrefix}-smoke`;
    this.name = name;
    if (props.count !== undefined) this.count = props.count;
    const counted = props.count === undefined ? {} : { count: props.count };
    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      ...counted,
      name: `/aws/codebuild/${name}`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.kmsKeyArn,
    });
    this.role = new LoopRole(this, 'role', {
      name: `${name}-build`,
      description: 'Suture smoke checks: reads the state of the pipelines in scope',
      servicePrincipal: 'codebuild.amazonaws.com',
      ...counted,
      trustConditions: [
        { test: 'StringEquals', variable: 'aws:SourceAccount', values: [props.scope.accountId] },
      ],
    });
    this.role.addPolicy('logs', [
      {
        sid: 'WriteBuildLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [`${this.attribute(this.logGroup, 'arn')}:*`],
      },
    ]);
    this.role.addPolicy('pipelines', [
      {
        sid: 'ReadPipelineState',
        actions: ['codepipeline:GetPipelineState'],
        resources: props.scope.pipelineArns,
      },
    ]);
    this.role.addPolicy('kms', [
      { sid: 'UseLoopKey', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.kmsKeyArn] },
    ]);
    this.project = new CodebuildProject(this, 'project', {
      ...counted,
      name,
      description: 'Suture: smoke checks before a repair is declared healthy',
      serviceRole: this.role.arn,
      encryptionKey: props.kmsKeyArn,
      buildTimeout: 15,
      queuedTimeout: 30,
      concurrentBuildLimit: 5,
      source: { type: 'NO_SOURCE', buildspec: props.buildspec ?? DEFAULT_SMOKE_BUILDSPEC },
      artifacts: { type: 'NO_ARTIFACTS' },
      environment: {
        type: 'ARM_CONTAINER',
        computeType: 'BUILD_GENERAL1_SMALL',
        image: 'aws/codebuild/amazonlinux-aarch64-standard:3.0',
        privilegedMode: false,
        imagePullCredentialsType: 'CODEBUILD',
      },
      logsConfig: {
        cloudwatchLogs: { status: 'ENABLED', groupName: this.attribute(this.logGroup, 'name') },
        s3Logs: { status: 'DISABLED' },
      },
    });
  }

  /** ARN of the project. */
  get arn(): string {
    return this.attribute(this.project, 'arn');
  }

  /** Lets `role` (the state machine's) start smoke builds (a policy that exists with the project). */
  grantStartBuild(role: LoopRole): void {
    role.addPolicy(
      'smoke-project',
      [{ sid: 'StartSmokeChecks', actions: ['codebuild:StartBuild'], resources: [this.arn] }],
      this.countOption(),
    );
  }

  /** Lets `role` (validate's) list and read the smoke builds (a policy that exists with the project). */
  grantReadBuilds(role: LoopRole): void {
    role.addPolicy(
      'smoke-project',
      [
        {
          sid: 'ReadSmokeChecks',
          actions: ['codebuild:BatchGetBuilds', 'codebuild:ListBuildsForProject'],
          resources: [this.arn],
        },
      ],
      this.countOption(),
    );
  }

  private countOption(): { count?: number } {
    return this.count === undefined ? {} : { count: this.count };
  }

  /** An attribute of one of the project's resources (`one(x[*].attr)` when they have a count). */
  private attribute(resource: CodebuildProject | CloudwatchLogGroup, name: 'arn' | 'name'): string {
    if (this.count === undefined) return resource[name];
    return splat(resource, name);
  }
}
