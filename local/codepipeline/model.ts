/**
 * The world model of the CodePipeline fake: pipelines (structure, version, tags) and their
 * executions (status, type, per-stage and per-action runs), plus the definitions used to seed
 * them and the hooks that script how the world reacts to mutating calls.
 *
 * Status values are the service's own (`PipelineExecutionStatus`, `StageExecutionStatus`,
 * `ActionExecutionStatus` in the API reference).
 */

/** `PipelineExecutionStatus`. */
export type ExecutionStatus =
  'Cancelled' | 'InProgress' | 'Stopped' | 'Stopping' | 'Succeeded' | 'Superseded' | 'Failed';
/** `StageExecutionStatus`. */
export type StageStatus =
  'Cancelled' | 'InProgress' | 'Failed' | 'Stopped' | 'Stopping' | 'Succeeded' | 'Skipped';
/** `ActionExecutionStatus`. */
export type ActionStatus = 'InProgress' | 'Abandoned' | 'Succeeded' | 'Failed';
/** `ExecutionType`. */
export type ExecutionType = 'STANDARD' | 'ROLLBACK';

/** One action of a stage, as in `GetPipeline`. */
export interface ActionDefinition {
  readonly name: string;
  /** `Source`, `Build`, `Deploy`, `Test`, `Invoke`, `Approval`, `Compute`. @default 'Build' */
  readonly category?: string;
  /** @default 'AWS' */
  readonly owner?: string;
  /** `CodeBuild`, `CodeDeploy`, `CodeStarSourceConnection`, … */
  readonly provider: string;
  /** @default '1' */
  readonly version?: string;
  /** @default 1 */
  readonly runOrder?: number;
  /** @default {} */
  readonly configuration?: Readonly<Record<string, string>>;
  /** @default the pipeline's region */
  readonly region?: string;
}

/** One stage of a pipeline. */
export interface StageDefinition {
  readonly name: string;
  readonly actions: readonly ActionDefinition[];
}

/** What {@link CodePipelineWorld.addPipeline} takes. */
export interface PipelineDefinition {
  readonly name: string;
  /** @default the world's account */
  readonly account?: string;
  /** Requests signed for another region do not see the pipeline. @default the world's region */
  readonly region?: string;
  readonly stages: readonly StageDefinition[];
  /** @default {} */
  readonly tags?: Readonly<Record<string, string>>;
  /** @default 'V2' */
  readonly pipelineType?: 'V1' | 'V2';
  /** @default 'SUPERSEDED' */
  readonly executionMode?: 'QUEUED' | 'SUPERSEDED' | 'PARALLEL';
  /** @default `arn:aws:iam::<account>:role/<name>-role` */
  readonly roleArn?: string;
}

/** A pipeline in the world. Mutate it only through the world's methods. */
export interface FakePipeline {
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly arn: string;
  /** Structure version: 1, bumped by {@link CodePipelineWorld.updatePipeline}. */
  version: number;
  stages: readonly StageDefinition[];
  tags: Record<string, string>;
  readonly pipelineType: 'V1' | 'V2';
  readonly executionMode: 'QUEUED' | 'SUPERSEDED' | 'PARALLEL';
  readonly roleArn: string;
  readonly created: Date;
  updated: Date;
  /** Structure of each version, for `GetPipeline` with `version`. */
  readonly history: Map<number, readonly StageDefinition[]>;
}

/** `ErrorDetails`. */
export interface ErrorDetails {
  readonly code?: string;
  readonly message?: string;
}

/** One run of one action (a retry adds a new run; earlier runs stay in the history). */
export interface ActionRun {
  readonly actionExecutionId: string;
  readonly pipelineExecutionId: string;
  readonly pipelineVersion: number;
  readonly stageName: string;
  readonly actionName: string;
  status: ActionStatus;
  readonly startTime: Date;
  lastUpdateTime: Date;
  summary?: string;
  externalExecutionId?: string;
  externalExecutionUrl?: string;
  errorDetails?: ErrorDetails;
  logStreamARN?: string;
  /** World-wide ordering: the highest `seq` is the latest. */
  seq: number;
}

/** One stage of one execution. */
export interface StageRun {
  readonly stageName: string;
  status: StageStatus;
  lastUpdateTime: Date;
  /** World-wide ordering: `GetPipelineState` shows the stage run with the highest `seq`. */
  seq: number;
}

/** `ArtifactRevision` of an execution's source action (the commit it ran). */
export interface SourceRevision {
  /** The source action, e.g. `Source`. */
  readonly actionName: string;
  /** The commit id. */
  readonly revisionId: string;
  /** @default the source action's output artifact name, `SourceOutput` */
  readonly artifactName?: string;
  readonly revisionSummary?: string;
  readonly revisionUrl?: string;
}

/** `ExecutionTrigger`. */
export interface ExecutionTrigger {
  readonly triggerType: string;
  readonly triggerDetail?: string;
}

/** A pipeline execution in the world. Mutate it only through the world's methods. */
export interface FakeExecution {
  readonly pipelineExecutionId: string;
  readonly pipelineName: string;
  readonly pipelineVersion: number;
  status: ExecutionStatus;
  statusSummary?: string;
  readonly executionType: ExecutionType;
  readonly executionMode: string;
  readonly trigger: ExecutionTrigger;
  readonly startTime: Date;
  lastUpdateTime: Date;
  /** For a ROLLBACK execution: the execution it returned to. */
  readonly rollbackTargetPipelineExecutionId?: string;
  readonly clientRequestToken?: string;
  readonly variables: ReadonlyArray<{ readonly name: string; readonly resolvedValue: string }>;
  /** What the source actions fetched (`artifactRevisions` / `sourceRevisions`). */
  readonly sourceRevisions: readonly SourceRevision[];
  stopTrigger?: { readonly reason?: string };
  /** Stage runs by stage name (stages the execution never reached are absent). */
  readonly stages: Map<string, StageRun>;
  /** Every action run, oldest first. */
  readonly actionRuns: ActionRun[];
  /** Stage where a pending {@link Reaction} applies (set while InProgress). */
  activeStage?: string;
  seq: number;
}

/** How one action ended, when seeding an execution. */
export interface ActionOutcome {
  readonly status: ActionStatus;
  readonly summary?: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly externalExecutionId?: string;
  readonly externalExecutionUrl?: string;
  readonly logStreamARN?: string;
}

/** How one stage ended, when seeding an execution; unlisted actions share the stage's status. */
export interface StageOutcome {
  readonly status: StageStatus;
  readonly actions?: Readonly<Record<string, ActionStatus | ActionOutcome>>;
}

/** Where a seeded execution failed: earlier stages succeeded, later ones never ran. */
export interface FailurePoint {
  readonly stage: string;
  /** @default the stage's first action */
  readonly action?: string;
  readonly summary?: string;
  /** @default 'JobFailed' */
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly externalExecutionId?: string;
  readonly externalExecutionUrl?: string;
  readonly logStreamARN?: string;
}

/** What {@link CodePipelineWorld.addExecution} takes; every field is optional. */
export interface ExecutionDefinition {
  /** @default a random UUID */
  readonly id?: string;
  /** @default 'STANDARD' */
  readonly type?: ExecutionType;
  /** @default `{ triggerType: 'StartPipelineExecution' }` (ManualRollback for ROLLBACK) */
  readonly trigger?: ExecutionTrigger;
  /** @default now (strictly after the previous execution) */
  readonly startTime?: Date;
  /** @default the pipeline's current version */
  readonly pipelineVersion?: number;
  /** ROLLBACK executions: the execution rolled back to. */
  readonly rollbackTarget?: string;
  /** Failed at this point (earlier stages Succeeded). */
  readonly failAt?: FailurePoint;
  /** Still running in this stage (earlier stages Succeeded). */
  readonly runningAt?: string;
  /** Explicit stage outcomes (overrides `failAt`/`runningAt`); for ROLLBACK the rolled-back stage. */
  readonly stages?: Readonly<Record<string, StageStatus | StageOutcome>>;
  /** @default derived from the stages: Failed, InProgress or Succeeded */
  readonly status?: ExecutionStatus;
  readonly statusSummary?: string;
  /** The commits the source actions fetched. @default none */
  readonly sourceRevisions?: readonly SourceRevision[];
}

/** The final state a scripted reaction gives the affected stage(s). */
export type ReactionStatus = 'Succeeded' | 'Failed' | 'InProgress';

/** A reaction with details; `stage`/`action` say where a `Failed` reaction fails. */
export interface ReactionDetail {
  readonly status: ReactionStatus;
  /** @default the stage the mutation started (retried or rolled-back stage; first stage for a start) */
  readonly stage?: string;
  /** @default the first running action of the stage */
  readonly action?: string;
  readonly summary?: string;
  /** @default 'JobFailed' */
  readonly errorCode?: string;
  readonly externalExecutionId?: string;
  readonly logStreamARN?: string;
}

/** What a hook returns: how the world reacts. `InProgress` (the default) waits for `settle`. */
export type Reaction = ReactionStatus | ReactionDetail;

/** Context of a retry, for {@link WorldHooks.onRetryStage}. */
export interface RetryContext {
  readonly pipeline: FakePipeline;
  readonly stageName: string;
  readonly execution: FakeExecution;
  readonly retryMode: 'FAILED_ACTIONS' | 'ALL_ACTIONS';
}

/** Context of a rollback, for {@link WorldHooks.onRollbackStage}. */
export interface RollbackContext {
  readonly pipeline: FakePipeline;
  readonly stageName: string;
  /** The new ROLLBACK execution. */
  readonly execution: FakeExecution;
  readonly target: FakeExecution;
}

/** Context of a start, for {@link WorldHooks.onStartPipelineExecution}. */
export interface StartContext {
  readonly pipeline: FakePipeline;
  readonly execution: FakeExecution;
}

/** Context of a stop, for {@link WorldHooks.onStopPipelineExecution}. */
export interface StopContext {
  readonly pipeline: FakePipeline;
  readonly execution: FakeExecution;
  readonly abandon: boolean;
  readonly reason?: string;
}

/**
 * Scripts how the world reacts to an accepted mutation. Each hook runs after the service
 * has accepted the call (validation and rules passed) and before the response is sent.
 */
export interface WorldHooks {
  /** @default () => 'InProgress' */
  onRetryStage?(context: RetryContext): Reaction | void;
  /** @default () => 'InProgress' */
  onRollbackStage?(context: RollbackContext): Reaction | void;
  /** @default () => 'InProgress' */
  onStartPipelineExecution?(context: StartContext): Reaction | void;
  /** `Stopping` leaves the execution stopping (until `settle`). @default abandon ? 'Stopped' : 'Stopping' */
  onStopPipelineExecution?(context: StopContext): 'Stopped' | 'Stopping' | void;
}

/** A status change, emitted as the fake's `change` event (the simulator turns these into EventBridge events). */
export interface WorldChange {
  readonly level: 'pipeline' | 'stage' | 'action';
  readonly pipeline: string;
  readonly pipelineExecutionId: string;
  readonly executionType: ExecutionType;
  readonly stage?: string;
  readonly action?: string;
  readonly status: string;
  /** What changed it: `start`, `retry`, `rollback`, `stop` (the mutation) or `settle`. */
  readonly cause: 'start' | 'retry' | 'rollback' | 'stop' | 'settle';
  readonly at: Date;
}

/** One request the fake received. */
export interface CallRecord {
  readonly operation: string;
  readonly input: Readonly<Record<string, unknown>>;
  readonly region: string | undefined;
  readonly at: Date;
  /** Error type when the call failed (injected fault, validation or a service rule). */
  readonly error?: string;
}

/** One mutating call: what was asked and what happened. */
export interface MutationRecord extends CallRecord {
  /** `applied`: the world changed; `replayed`: an idempotent repeat; `rejected`: an error was returned. */
  readonly outcome: 'applied' | 'replayed' | 'rejected';
  /** The response body, when not rejected. */
  readonly result?: Readonly<Record<string, unknown>>;
}

/** A fault injected with {@link CodePipelineWorld.injectFault}. */
export interface FaultDefinition {
  /** Operation name, or `*` for every operation. */
  readonly operation: string;
  /** Wire error type, e.g. `ThrottlingException`, `InternalFailure`, `ConflictException`. */
  readonly error: string;
  /** @default `Injected <error>` */
  readonly message?: string;
  /** @default the type's usual status: 500 InternalFailure, 503 ServiceUnavailableException, else 400 */
  readonly status?: number;
  /** How many calls fail. @default 1 */
  readonly times?: number;
}
