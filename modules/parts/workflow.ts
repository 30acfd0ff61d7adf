import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { SfnStateMachine } from '@cdktf/provider-aws/lib/sfn-state-machine';
import { Fn, TerraformLocal, Token } from 'cdktf';
import { Construct } from 'constructs';
import { LONGEST_FUNCTION_TIMEOUT_SECONDS } from '../functions/catalog';
import { LoopRole } from '../iam';
import {
  buildWorkflowDefinition,
  StateName,
  WORKFLOW_FUNCTIONS,
  type TaskState,
  type WaitState,
  type WorkflowDefinition,
  type WorkflowFunction,
  type WorkflowState,
} from '../workflow/definition';
import { assertValidWorkflow } from '../workflow/validate';
import type { LoopFunctions } from './loop-functions';
import type { LoopScope } from './scope';
import type { SmokeProject } from './smoke-project';

/** Values the definition is validated with when the real timings are Terraform variables. */
const LOOP_TIMING_STAND_INS = { bakeSeconds: 300, approvalTimeoutSeconds: 86_400 } as const;

/** The definition with the bake and approval timings (and the execution timeout) as Terraform references. */
function withTimingReferences(
  scope: Construct,
  definition: WorkflowDefinition,
  bakeSeconds: number,
  approvalTimeoutSeconds: number,
  timeoutLocalId: string,
): WorkflowDefinition {
  const allowance =
    definition.TimeoutSeconds -
    LOOP_TIMING_STAND_INS.bakeSeconds -
    LOOP_TIMING_STAND_INS.approvalTimeoutSeconds;
  // A local, so that the sum renders as a reference inside jsonencode().
  const total = new TerraformLocal(
    scope,
    timeoutLocalId,
    Token.asNumber(
      `\${${Token.asString(bakeSeconds)} + ${Token.asString(approvalTimeoutSeconds)} + ${allowance}}`,
    ),
  );
  const states = { ...definition.States } as Record<string, WorkflowState>;
  states[StateName.bakeTime] = { ...(states[StateName.bakeTime] as WaitState), Seconds: bakeSeconds };
  states[StateName.requestApproval] = {
    ...(states[StateName.requestApproval] as TaskState),
    TimeoutSeconds: approvalTimeoutSeconds,
  };
  return { ...definition, TimeoutSeconds: total.asNumber, States: states };
}

/** Props of {@link Workflow}. */
export interface WorkflowProps {
  readonly namePrefix: string;
  readonly scope: LoopScope;
  readonly functions: LoopFunctions;
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
  readonly bakeSeconds: number;
  readonly approvalTimeoutSeconds: number;
  /** Smoke checks the workflow starts after a repair. @default none */
  readonly smokeProject?: SmokeProject;
}

/**
 * The Standard state machine of docs/workflow.md: its definition comes from the pure builder
 * and is validated with asl-validator while synthesising (an invalid definition fails synth),
 * its role may invoke exactly the workflow's functions, every execution is logged (level ALL,
 * without execution data: the state document holds evidence) and traced with X-Ray.
 */
export class Workflow extends Construct {
  readonly stateMachine: SfnStateMachine;
  readonly logGroup: CloudwatchLogGroup;
  readonly role: LoopRole;
  /** ARN pattern of this state machine's executions. */
  readonly executionArns: string;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);
    const name = `${props.namePrefix}-loop`;
    // Module mode passes Terraform numbers: the definition is built and validated with
    // stand-ins, then the two timings are put back as references.
    const bakeIsToken = Token.isUnresolved(props.bakeSeconds);
    const approvalIsToken = Token.isUnresolved(props.approvalTimeoutSeconds);
    const functionArns = Object.fromEntries(
      WORKFLOW_FUNCTIONS.map((fn) => [fn, props.functions.get(fn).arn]),
    ) as Record<WorkflowFunction, string>;
    const definitionWith = (
      smokeProjectName: string | undefined,
      timeoutLocalId: string,
    ): WorkflowDefinition => {
      const timings = {
        bakeSeconds: bakeIsToken ? LOOP_TIMING_STAND_INS.bakeSeconds : props.bakeSeconds,
        approvalTimeoutSeconds: approvalIsToken
          ? LOOP_TIMING_STAND_INS.approvalTimeoutSeconds
          : props.approvalTimeoutSeconds,
        // A task outlives its function by a minute at most; then the state machine gives up on it.
        taskTimeoutSeconds: LONGEST_FUNCTION_TIMEOUT_SECONDS + 60,
        ...(smokeProjectName ? { smokeProjectName } : {}),
      };
      assertValidWorkflow(timings);
      const built = buildWorkflowDefinition({ ...timings, functionArns });
      return bakeIsToken || approvalIsToken
        ? withTimingReferences(this, built, props.bakeSeconds, props.approvalTimeoutSeconds, timeoutLocalId)
        : built;
    };
    const render = (definition: WorkflowDefinition): string =>
      bakeIsToken || approvalIsToken ? Fn.jsonencode(definition) : JSON.stringify(definition);
    const smoke = props.smokeProject;
    let definitionText: string;
    if (smoke?.count === undefined) {
      definitionText = render(definitionWith(smoke?.name, 'execution-timeout'));
    } else {
      // Module mode, optional smoke checks: both definitions are built and validated here; the
      // one matching the project's count is deployed (a StartSmokeChecks state is there only
      // when the project is; Step Functions refuses unreachable states).
      const withSmoke = new TerraformLocal(
        this,
        'definition-with-smoke-checks',
        render(definitionWith(smoke.name, 'execution-timeout')),
      );
      const without = new TerraformLocal(
        this,
        'definition-without-smoke-checks',
        render(definitionWith(undefined, 'execution-timeout-without-smoke-checks')),
      );
      definitionText = Token.asString(
        `\${${Token.asString(smoke.count)} > 0 ? ${withSmoke.asString} : ${without.asString}}`,
      );
    }

    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: `/aws/vendedlogs/states/${name}`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.kmsKeyArn,
    });
    this.role = new LoopRole(this, 'role', {
      name: `${name}-state-machine`,
      description: 'Suture workflow: invokes the loop functions, logs and traces',
      servicePrincipal: 'states.amazonaws.com',
      trustConditions: [
        { test: 'StringEquals', variable: 'aws:SourceAccount', values: [props.scope.accountId] },
      ],
    });
    const invoked = WORKFLOW_FUNCTIONS.map((fn) => props.functions.get(fn).arn);
    this.role.addPolicy('invoke-functions', [
      {
        sid: 'InvokeWorkflowFunctions',
        actions: ['lambda:InvokeFunction'],
        resources: [...invoked, ...invoked.map((arn) => `${arn}:*`)],
      },
    ]);
    this.role.addPolicy('logs', [
      {
        sid: 'DeliverExecutionLogs',
        actions: [
          'logs:CreateLogDelivery',
          'logs:DeleteLogDelivery',
          'logs:DescribeLogGroups',
          'logs:DescribeResourcePolicies',
          'logs:GetLogDelivery',
          'logs:ListLogDeliveries',
          'logs:PutResourcePolicy',
          'logs:UpdateLogDelivery',
        ],
        resources: ['*'],
      },
    ]);
    props.smokeProject?.grantStartBuild(this.role);
    this.role.addPolicy('tracing', [
      {
        sid: 'WriteTraces',
        actions: [
          'xray:GetSamplingRules',
          'xray:GetSamplingTargets',
          'xray:PutTelemetryRecords',
          'xray:PutTraceSegments',
        ],
        resources: ['*'],
      },
    ]);

    this.stateMachine = new SfnStateMachine(this, 'state-machine', {
      name,
      type: 'STANDARD',
      roleArn: this.role.arn,
      definition: definitionText,
      loggingConfiguration: {
        level: 'ALL',
        includeExecutionData: false,
        logDestination: `${this.logGroup.arn}:*`,
      },
      tracingConfiguration: { enabled: true },
    });
    const { partition, region, accountId } = props.scope;
    this.executionArns = `arn:${partition}:states:${region}:${accountId}:execution:${name}:*`;
  }

  /** Lets `role` start executions of this state machine (and read them back: triage dedupes). */
  grantStartExecution(role: LoopRole): void {
    role.addPolicy('start-workflow', [
      { sid: 'StartLoopExecution', actions: ['states:StartExecution'], resources: [this.stateMachine.arn] },
      {
        sid: 'DescribeLoopExecution',
        actions: ['states:DescribeExecution'],
        resources: [this.executionArns],
      },
    ]);
  }

  /** Lets `role` resume a waiting approval task (SendTaskSuccess/SendTaskFailure) of this state machine. */
  grantSendTaskResult(role: LoopRole): void {
    role.addPolicy('resume-workflow', [
      {
        sid: 'ResumeApprovalTask',
        actions: ['states:SendTaskFailure', 'states:SendTaskSuccess'],
        resources: [this.stateMachine.arn],
      },
    ]);
  }
}
