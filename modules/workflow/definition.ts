/**
 * The loop's Step Functions definition (Amazon States Language, JSONPath), built by a pure
 * function from the function ARNs and two timings. docs/workflow.md is the contract this file
 * implements: state names, `ResultPath`s, payloads and the `ErrorEquals` lists.
 *
 * Kept free of cdktf so the same definition can be validated, snapshot and executed by a local
 * ASL interpreter with the real handlers; the construct only fills in the ARNs.
 */

/** The names of the workflow's states; the contract the diagram in docs/workflow.md draws. */
export const StateName = {
  collectEvidence: 'CollectEvidence',
  classify: 'Classify',
  planRemediation: 'PlanRemediation',
  policyGate: 'PolicyGate',
  routeDecision: 'RouteDecision',
  requestApproval: 'RequestApproval',
  isApproved: 'IsApproved',
  isDelayed: 'IsDelayed',
  delayRepair: 'DelayRepair',
  executeRepair: 'ExecuteRepair',
  isExecuted: 'IsExecuted',
  startSmokeChecks: 'StartSmokeChecks',
  bakeTime: 'BakeTime',
  validate: 'Validate',
  isHealthy: 'IsHealthy',
  notifyResolved: 'NotifyResolved',
  resolved: 'Resolved',
  escalate: 'Escalate',
  escalated: 'Escalated',
} as const;
/** One of the workflow's state names. */
export type StateName = (typeof StateName)[keyof typeof StateName];

/** The Lambda functions the state machine invokes (triage starts it; approval resumes it). */
export const WORKFLOW_FUNCTIONS = [
  'collect-evidence',
  'classify',
  'plan',
  'policy-gate',
  'execute',
  'validate',
  'notify',
] as const;
/** A function the state machine invokes. */
export type WorkflowFunction = (typeof WORKFLOW_FUNCTIONS)[number];

/** Error names of the `Retry`/`Catch` contract (docs/workflow.md, "Error names"). */
export const WorkflowError = {
  lambdaService: [
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
  ],
  /** A function that crashed, ran out of memory or timed out (no error of its own). */
  functionCrashed: 'Lambda.Unknown',
  transientAws: 'TransientAwsError',
  validationPending: 'ValidationPendingError',
  approvalRejected: 'ApprovalRejectedError',
  executionRefused: 'ExecutionRefusedError',
  timeout: 'States.Timeout',
  heartbeatTimeout: 'States.HeartbeatTimeout',
  all: 'States.ALL',
} as const;

/** The callback integration: the approval waits for SendTaskSuccess/SendTaskFailure. */
export const LAMBDA_INVOKE_WAIT_FOR_TASK_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
/** CodeBuild's optimised integration (request-response: start, do not wait). */
export const CODEBUILD_START_BUILD = 'arn:aws:states:::codebuild:startBuild';

/** A `Retry` rule. */
export interface RetryRule {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds: number;
  readonly MaxAttempts: number;
  readonly BackoffRate: number;
}

/** A `Catch` rule. */
export interface CatchRule {
  readonly ErrorEquals: readonly string[];
  readonly Next: StateName;
  readonly ResultPath: string;
}

/** A `Task` state (Lambda or the Lambda callback integration). */
export interface TaskState {
  readonly Type: 'Task';
  readonly Comment: string;
  readonly Resource: string;
  readonly InputPath?: string;
  readonly Parameters?: Readonly<Record<string, unknown>>;
  /** Absent: the result replaces the whole state document (ASL's default, `$`). */
  readonly ResultPath?: string | null;
  readonly TimeoutSeconds?: number;
  readonly Retry: readonly RetryRule[];
  readonly Catch?: readonly CatchRule[];
  readonly Next?: StateName;
  readonly End?: true;
}

/** One rule of a `Choice` state. */
export interface ChoiceRule {
  readonly And: readonly Readonly<Record<string, unknown>>[];
  readonly Next: StateName;
}

/** A `Choice` state. */
export interface ChoiceState {
  readonly Type: 'Choice';
  readonly Comment: string;
  readonly Choices: readonly ChoiceRule[];
  readonly Default: StateName;
}

/** A `Wait` state (fixed seconds or seconds read from the state document). */
export interface WaitState {
  readonly Type: 'Wait';
  readonly Comment: string;
  readonly Seconds?: number;
  readonly SecondsPath?: string;
  readonly Next: StateName;
}

/** A `Succeed` state. */
export interface SucceedState {
  readonly Type: 'Succeed';
  readonly Comment: string;
}

/** Any state of the workflow. */
export type WorkflowState = TaskState | ChoiceState | WaitState | SucceedState;

/** The whole definition, as serialised into `aws_sfn_state_machine.definition`. */
export interface WorkflowDefinition {
  readonly Comment: string;
  readonly QueryLanguage: 'JSONPath';
  readonly StartAt: StateName;
  readonly TimeoutSeconds: number;
  readonly States: Readonly<Partial<Record<StateName, WorkflowState>>>;
}

/** Inputs of {@link buildWorkflowDefinition}. */
export interface WorkflowDefinitionProps {
  /** ARN of each function the workflow invokes (cdktf tokens are fine: they stay strings). */
  readonly functionArns: Readonly<Record<WorkflowFunction, string>>;
  /** How long the repaired pipeline bakes before validation, in seconds (0 to 31,536,000). */
  readonly bakeSeconds: number;
  /** How long a request for approval waits for a human, in seconds (≥ 60). */
  readonly approvalTimeoutSeconds: number;
  /**
   * Upper bound of one Lambda task, in seconds; set it above the longest function timeout.
   * @default 900 (Lambda's own maximum)
   */
  readonly taskTimeoutSeconds?: number;
  /**
   * CodeBuild project the workflow starts after a repair (with `SUTURE_PIPELINE` set), so that
   * validate finds a smoke build newer than the repair.
   * @default none: no smoke checks (validate observes the pipeline and alarms only)
   */
  readonly smokeProjectName?: string;
}

/** Lambda's maximum function timeout: a task never needs longer. */
const DEFAULT_TASK_TIMEOUT_SECONDS = 900;

/** Longest Standard execution we allow: approval and bake plus a day of work and retries. */
const WORK_ALLOWANCE_SECONDS = 24 * 60 * 60;

const lambdaServiceRetry: RetryRule = {
  ErrorEquals: WorkflowError.lambdaService,
  IntervalSeconds: 2,
  MaxAttempts: 6,
  BackoffRate: 2,
};
/**
 * A function that died part-way is run again: every handler is idempotent (the executor through
 * its idempotency record, which a retry inside the dead invocation's time finds in progress and
 * refuses: the task then escalates rather than risk a second mutation).
 */
const crashedFunctionRetry: RetryRule = {
  ErrorEquals: [WorkflowError.functionCrashed],
  IntervalSeconds: 2,
  MaxAttempts: 2,
  BackoffRate: 2,
};
const transientAwsRetry: RetryRule = {
  ErrorEquals: [WorkflowError.transientAws],
  IntervalSeconds: 5,
  MaxAttempts: 4,
  BackoffRate: 2,
};
const validationPendingRetry: RetryRule = {
  ErrorEquals: [WorkflowError.validationPending],
  IntervalSeconds: 30,
  MaxAttempts: 10,
  BackoffRate: 1.5,
};
const catchToEscalate = (errors: readonly string[] = [WorkflowError.all]): CatchRule => ({
  ErrorEquals: errors,
  Next: StateName.escalate,
  ResultPath: '$.error',
});

/**
 * Invokes a function and stores what it returned at `resultPath`.
 *
 * The Resource is the function ARN itself (Step Functions' Lambda integration in its
 * response-only form), not `arn:aws:states:::lambda:invoke`: with the optimised integration
 * the result is the Lambda response envelope (`{ Payload, StatusCode, … }`), and no JSONPath
 * `ResultSelector` can unwrap `Payload` into `$.evidence` without also replacing the state
 * document, whereas the contract puts each handler's return value itself at its `ResultPath`.
 * The error names are the same (`Lambda.ServiceException`, …), and a local ASL interpreter
 * runs this form as-is.
 */
function lambdaTask(options: {
  readonly comment: string;
  readonly functionArn: string;
  readonly inputPath?: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
  /** `undefined`: no ResultPath, so the result is the whole new state document. */
  readonly resultPath: string | null | undefined;
  readonly next: StateName;
  readonly timeoutSeconds: number;
  readonly retry?: readonly RetryRule[];
  readonly catchToEscalate?: boolean;
}): TaskState {
  return {
    Type: 'Task',
    Comment: options.comment,
    Resource: options.functionArn,
    ...(options.inputPath ? { InputPath: options.inputPath } : {}),
    ...(options.parameters ? { Parameters: options.parameters } : {}),
    ...(options.resultPath !== undefined ? { ResultPath: options.resultPath } : {}),
    TimeoutSeconds: options.timeoutSeconds,
    Retry: [lambdaServiceRetry, crashedFunctionRetry, transientAwsRetry, ...(options.retry ?? [])],
    ...(options.catchToEscalate === false ? {} : { Catch: [catchToEscalate()] }),
    Next: options.next,
  };
}

/** `path` holds a boolean that is true (false when absent or of another type: fails closed). */
function isTrue(path: string): ReadonlyArray<Readonly<Record<string, unknown>>> {
  return [
    { Variable: path, IsPresent: true },
    { Variable: path, IsBoolean: true },
    { Variable: path, BooleanEquals: true },
  ];
}

/** Starts the smoke build for the repaired pipeline; validate judges it after the bake time. */
function smokeTask(projectName: string): TaskState {
  return {
    Type: 'Task',
    Comment: 'Starts the smoke checks of the repaired pipeline (validate reads their result).',
    Resource: CODEBUILD_START_BUILD,
    Parameters: {
      ProjectName: projectName,
      EnvironmentVariablesOverride: [
        { Name: 'SUTURE_PIPELINE', 'Value.$': '$.incident.pipeline', Type: 'PLAINTEXT' },
      ],
    },
    ResultPath: null,
    TimeoutSeconds: 60,
    Retry: [
      {
        ErrorEquals: ['CodeBuild.AccountLimitExceededException'],
        IntervalSeconds: 5,
        MaxAttempts: 4,
        BackoffRate: 2,
      },
    ],
    Catch: [catchToEscalate()],
    Next: StateName.bakeTime,
  };
}

function checkTimings(props: WorkflowDefinitionProps): void {
  const { bakeSeconds, approvalTimeoutSeconds } = props;
  if (!Number.isInteger(bakeSeconds) || bakeSeconds < 0 || bakeSeconds > 31_536_000) {
    throw new RangeError(`bakeSeconds must be an integer from 0 to 31536000, got ${bakeSeconds}`);
  }
  if (!Number.isInteger(approvalTimeoutSeconds) || approvalTimeoutSeconds < 60) {
    throw new RangeError(`approvalTimeoutSeconds must be an integer ≥ 60, got ${approvalTimeoutSeconds}`);
  }
  const taskTimeout = props.taskTimeoutSeconds ?? DEFAULT_TASK_TIMEOUT_SECONDS;
  if (!Number.isInteger(taskTimeout) || taskTimeout < 1) {
    throw new RangeError(`taskTimeoutSeconds must be a positive integer, got ${taskTimeout}`);
  }
  for (const name of WORKFLOW_FUNCTIONS) {
    if (!props.functionArns[name]) throw new Error(`functionArns is missing "${name}"`);
  }
}

/**
 * Builds the workflow definition of docs/workflow.md. Pure: the same props always give an
 * equal object, and nothing is read from the environment.
 *
 * Every Task retries the Lambda service errors (2 s × 2, 6 attempts), a crashed function
 * (`Lambda.Unknown`, 2 s × 2, 2 attempts) and `TransientAwsError`
 * (5 s × 2, 4 attempts); Validate also retries `ValidationPendingError` (30 s × 1.5, 10
 * attempts). Every Task but Escalate catches `States.ALL` into Escalate with the error at
 * `$.error`; Escalate is where failures end, so a failure there fails the execution (and the
 * `ExecutionsFailed` alarm pages) instead of looping.
 */
export function buildWorkflowDefinition(props: WorkflowDefinitionProps): WorkflowDefinition {
  checkTimings(props);
  const arn = props.functionArns;
  const timeoutSeconds = props.taskTimeoutSeconds ?? DEFAULT_TASK_TIMEOUT_SECONDS;
  const states: Partial<Record<StateName, WorkflowState>> = {
    [StateName.collectEvidence]: lambdaTask({
      comment:
        'Completes the incident from the execution and writes bounded, redacted evidence; the full evidence goes to S3.',
      timeoutSeconds,
      functionArn: arn['collect-evidence'],
      // No ResultPath (ASL's default `$`): the handler returns the whole state document, with
      // the incident completed from the execution (stage, action, provider, fingerprint), the
      // attempts counted for it, and `evidence`. (aws-local-stepfunctions mishandles an
      // explicit "$", and the default means the same on AWS.)
      resultPath: undefined,
      next: StateName.classify,
    }),
    [StateName.classify]: lambdaTask({
      comment: 'Deterministic failure class with confidence and the matched signature.',
      timeoutSeconds,
      functionArn: arn.classify,
      resultPath: '$.classification',
      next: StateName.planRemediation,
    }),
    [StateName.planRemediation]: lambdaTask({
      comment: 'A proposal from a playbook or the model, and the complete policy input.',
      timeoutSeconds,
      functionArn: arn.plan,
      resultPath: '$.plan',
      next: StateName.policyGate,
    }),
    [StateName.policyGate]: lambdaTask({
      comment: 'The compiled policy decides: allow, require approval, or deny.',
      timeoutSeconds,
      functionArn: arn['policy-gate'],
      // The gate sees exactly the policy input the plan built; ResultPath still applies to the
      // whole state document (the raw input), so the decision lands beside the plan.
      inputPath: '$.plan.gate_input',
      resultPath: '$.decision',
      next: StateName.routeDecision,
    }),
    [StateName.routeDecision]: {
      Type: 'Choice',
      Comment:
        'escalate proposals → escalate; allow → execute; require_approval → ask a human; else escalate.',
      Choices: [
        {
          // Nothing to execute: whatever the decision, a human takes it (docs/workflow.md).
          And: [
            { Variable: '$.plan.proposal.action', IsPresent: true },
            { Variable: '$.plan.proposal.action', IsString: true },
            { Variable: '$.plan.proposal.action', StringEquals: 'escalate' },
          ],
          Next: StateName.escalate,
        },
        { And: isTrue('$.decision.allow'), Next: StateName.isDelayed },
        { And: isTrue('$.decision.require_approval'), Next: StateName.requestApproval },
      ],
      Default: StateName.escalate,
    },
    [StateName.requestApproval]: {
      Type: 'Task',
      Comment: 'Sends the approval request and waits for the callback (SendTaskSuccess/Failure).',
      Resource: LAMBDA_INVOKE_WAIT_FOR_TASK_TOKEN,
      Parameters: {
        FunctionName: arn.notify,
        Payload: { 'state.$': '$', 'task_token.$': '$$.Task.Token', kind: 'approval' },
      },
      ResultPath: '$.approval',
      TimeoutSeconds: props.approvalTimeoutSeconds,
      Retry: [lambdaServiceRetry, crashedFunctionRetry, transientAwsRetry],
      Catch: [
        catchToEscalate([WorkflowError.approvalRejected]),
        catchToEscalate([WorkflowError.timeout, WorkflowError.heartbeatTimeout]),
        catchToEscalate(),
      ],
      Next: StateName.isApproved,
    },
    [StateName.isApproved]: {
      Type: 'Choice',
      Comment: 'Only an explicit approval executes; anything else escalates.',
      Choices: [{ And: isTrue('$.approval.approved'), Next: StateName.isDelayed }],
      Default: StateName.escalate,
    },
    [StateName.isDelayed]: {
      Type: 'Choice',
      Comment: 'A retry_stage with delay_seconds waits first: rate limits are retried later, not now.',
      Choices: [
        {
          And: [
            { Variable: '$.plan.proposal.action', IsPresent: true },
            { Variable: '$.plan.proposal.action', IsString: true },
            { Variable: '$.plan.proposal.action', StringEquals: 'retry_stage' },
            { Variable: '$.plan.proposal.parameters.delay_seconds', IsPresent: true },
            { Variable: '$.plan.proposal.parameters.delay_seconds', IsNumeric: true },
            { Variable: '$.plan.proposal.parameters.delay_seconds', NumericGreaterThan: 0 },
          ],
          Next: StateName.delayRepair,
        },
      ],
      Default: StateName.executeRepair,
    },
    [StateName.delayRepair]: {
      Type: 'Wait',
      Comment: 'The delay the proposal asked for (the policy bounds it).',
      SecondsPath: '$.plan.proposal.parameters.delay_seconds',
      Next: StateName.executeRepair,
    },
    [StateName.executeRepair]: {
      ...lambdaTask({
        comment: 'Re-evaluates the policy, then performs the allowed action once (idempotent).',
        timeoutSeconds,
        functionArn: arn.execute,
        resultPath: '$.execution',
        next: StateName.isExecuted,
      }),
      Catch: [catchToEscalate([WorkflowError.executionRefused]), catchToEscalate()],
    },
    [StateName.isExecuted]: {
      Type: 'Choice',
      Comment: 'A no-op (e.g. the escalate action) has nothing to validate: a human takes it.',
      Choices: [
        {
          And: [
            { Variable: '$.execution.outcome', IsPresent: true },
            { Variable: '$.execution.outcome', IsString: true },
            {
              Or: [
                { Variable: '$.execution.outcome', StringEquals: 'executed' },
                { Variable: '$.execution.outcome', StringEquals: 'already_handled' },
              ],
            },
          ],
          Next: props.smokeProjectName ? StateName.startSmokeChecks : StateName.bakeTime,
        },
      ],
      Default: StateName.escalate,
    },
    ...(props.smokeProjectName ? { [StateName.startSmokeChecks]: smokeTask(props.smokeProjectName) } : {}),
    [StateName.bakeTime]: {
      Type: 'Wait',
      Comment: 'Lets the repaired pipeline run before it is judged.',
      Seconds: props.bakeSeconds,
      Next: StateName.validate,
    },
    [StateName.validate]: lambdaTask({
      comment: 'Observes the pipeline, alarms and the optional smoke build; reports only what it saw.',
      timeoutSeconds,
      functionArn: arn.validate,
      resultPath: '$.validation',
      retry: [validationPendingRetry],
      next: StateName.isHealthy,
    }),
    [StateName.isHealthy]: {
      Type: 'Choice',
      Comment: 'Healthy → resolved; unhealthy or unknown → escalate.',
      Choices: [{ And: isTrue('$.validation.healthy'), Next: StateName.notifyResolved }],
      Default: StateName.escalate,
    },
    [StateName.notifyResolved]: lambdaTask({
      comment: 'Tells the owners what was repaired and how it was validated.',
      timeoutSeconds,
      functionArn: arn.notify,
      parameters: { 'state.$': '$', kind: 'resolved' },
      resultPath: '$.notification',
      next: StateName.resolved,
    }),
    [StateName.resolved]: { Type: 'Succeed', Comment: 'Repaired and validated.' },
    [StateName.escalate]: lambdaTask({
      comment: 'Hands the incident to a human with evidence, proposal and reasons.',
      timeoutSeconds,
      functionArn: arn.notify,
      parameters: { 'state.$': '$', kind: 'escalation' },
      resultPath: '$.escalation',
      next: StateName.escalated,
      catchToEscalate: false,
    }),
    [StateName.escalated]: { Type: 'Succeed', Comment: 'A human owns the incident now.' },
  };
  return {
    Comment: 'Suture: one execution per CI/CD failure (docs/workflow.md).',
    QueryLanguage: 'JSONPath',
    StartAt: StateName.collectEvidence,
    TimeoutSeconds: props.approvalTimeoutSeconds + props.bakeSeconds + WORK_ALLOWANCE_SECONDS,
    States: states,
  };
}
