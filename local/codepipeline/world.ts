/**
 * The programmable world behind the CodePipeline fake: the state, the operations with the
 * service's rules, fault injection and the call logs. The HTTP layer (./server) only decodes
 * requests and encodes responses; everything a test asserts on lives here.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { CodePipelineErrorType as E, CodePipelineServiceError } from './errors';
import type {
  ActionDefinition,
  ActionOutcome,
  ActionRun,
  ActionStatus,
  CallRecord,
  ExecutionDefinition,
  ExecutionStatus,
  FakeExecution,
  FakePipeline,
  FaultDefinition,
  MutationRecord,
  PipelineDefinition,
  Reaction,
  ReactionDetail,
  StageDefinition,
  StageOutcome,
  StageRun,
  StageStatus,
  WorldChange,
  WorldHooks,
  SourceRevision,
} from './model';
import {
  CODEPIPELINE_OPERATIONS,
  MUTATING_OPERATIONS,
  validateRequest,
  type CodePipelineOperation,
} from './requests';

/** Options of {@link CodePipelineWorld}. */
export interface WorldOptions {
  /** Account of pipelines that do not name one. @default '123456789012' */
  readonly account?: string;
  /** Region of pipelines that do not name one. @default 'us-west-2' */
  readonly region?: string;
  /** Clock for every timestamp. @default () => new Date() */
  readonly now?: () => Date;
}

type Body = Record<string, unknown>;

const ACTIVE_STAGE: ReadonlySet<StageStatus> = new Set(['InProgress', 'Stopping']);

function isOperation(name: string): name is CodePipelineOperation {
  return (CODEPIPELINE_OPERATIONS as readonly string[]).includes(name);
}

function actionStatusFor(stage: StageStatus): ActionStatus | undefined {
  switch (stage) {
    case 'Succeeded':
    case 'Failed':
    case 'InProgress':
      return stage;
    case 'Stopped':
    case 'Stopping':
      return 'Abandoned';
    default:
      return undefined;
  }
}

function asDetail(reaction: Reaction): ReactionDetail {
  return typeof reaction === 'string' ? { status: reaction } : reaction;
}

function str(input: Body, key: string): string {
  return input[key] as string;
}

function nested(input: Body, ...path: string[]): unknown {
  let node: unknown = input;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Body)[key];
  }
  return node;
}

/**
 * A CodePipeline world: seed it ({@link addPipeline}, {@link addExecution}), script it
 * ({@link hooks}, {@link settle}, {@link injectFault}) and inspect it ({@link calls},
 * {@link mutations}, {@link execution}). Emits `change` ({@link WorldChange}) whenever a
 * mutation or `settle` changes a pipeline, stage or action status.
 */
export class CodePipelineWorld extends EventEmitter {
  /** Account of pipelines that do not name one. */
  readonly account: string;
  /** Region of pipelines that do not name one. */
  readonly region: string;
  /** How the world reacts to accepted mutations; replace freely between calls. */
  hooks: WorldHooks = {};

  private readonly now: () => Date;
  private readonly pipelines = new Map<string, FakePipeline>();
  private readonly executionsOf = new Map<string, FakeExecution[]>();
  private readonly startTokens = new Map<string, string>();
  private faults: Array<{ definition: FaultDefinition; remaining: number }> = [];
  private callLog: CallRecord[] = [];
  private mutationLog: MutationRecord[] = [];
  private sequence = 0;
  private lastTime = 0;

  /** @param options account, region and clock; see {@link WorldOptions}. */
  constructor(options: WorldOptions = {}) {
    super();
    this.account = options.account ?? '123456789012';
    this.region = options.region ?? 'us-west-2';
    this.now = options.now ?? (() => new Date());
  }

  // ---- seeding and inspection ------------------------------------------------------------

  /** Adds (or replaces) a pipeline at version 1. */
  addPipeline(definition: PipelineDefinition): FakePipeline {
    if (definition.stages.length === 0) throw new Error(`pipeline ${definition.name} needs a stage`);
    const account = definition.account ?? this.account;
    const region = definition.region ?? this.region;
    const created = this.tick();
    const pipeline: FakePipeline = {
      name: definition.name,
      account,
      region,
      arn: `arn:aws:codepipeline:${region}:${account}:${definition.name}`,
      version: 1,
      stages: definition.stages,
      tags: { ...(definition.tags ?? {}) },
      pipelineType: definition.pipelineType ?? 'V2',
      executionMode: definition.executionMode ?? 'SUPERSEDED',
      roleArn: definition.roleArn ?? `arn:aws:iam::${account}:role/${definition.name}-role`,
      created,
      updated: created,
      history: new Map([[1, definition.stages]]),
    };
    this.pipelines.set(pipeline.name, pipeline);
    this.executionsOf.set(pipeline.name, []);
    return pipeline;
  }

  /** Changes a pipeline's structure (bumping its version, as UpdatePipeline does) or tags. */
  updatePipeline(
    name: string,
    changes: { readonly stages?: readonly StageDefinition[]; readonly tags?: Record<string, string> },
  ): FakePipeline {
    const pipeline = this.requireSeeded(name);
    if (changes.stages) {
      pipeline.version += 1;
      pipeline.stages = changes.stages;
      pipeline.history.set(pipeline.version, changes.stages);
      pipeline.updated = this.tick();
    }
    if (changes.tags) pipeline.tags = { ...changes.tags };
    return pipeline;
  }

  /**
   * Adds an execution that already happened (or is still running). Without `stages`, `failAt`
   * or `runningAt` it succeeded in every stage; see {@link ExecutionDefinition}.
   */
  addExecution(pipelineName: string, definition: ExecutionDefinition = {}): FakeExecution {
    const pipeline = this.requireSeeded(pipelineName);
    const version = definition.pipelineVersion ?? pipeline.version;
    const structure = pipeline.history.get(version);
    if (!structure) throw new Error(`pipeline ${pipelineName} has no version ${version}`);
    const id = definition.id ?? randomUUID();
    if (this.findExecution(pipelineName, id)) throw new Error(`execution ${id} already exists`);
    const type = definition.type ?? 'STANDARD';
    const outcomes = this.seedOutcomes(structure, definition);
    if (type === 'ROLLBACK' && !definition.stages) throw new Error('a ROLLBACK execution needs `stages`');
    const startTime = definition.startTime ?? this.tick();
    this.lastTime = Math.max(this.lastTime, startTime.getTime());
    const execution = this.newExecution(pipeline, {
      id,
      version,
      type,
      trigger:
        definition.trigger ??
        (type === 'ROLLBACK'
          ? { triggerType: 'ManualRollback', triggerDetail: 'RollbackStage' }
          : {
              triggerType: 'StartPipelineExecution',
              triggerDetail: `arn:aws:iam::${pipeline.account}:root`,
            }),
      startTime,
      ...(definition.rollbackTarget ? { rollbackTarget: definition.rollbackTarget } : {}),
      ...(definition.sourceRevisions ? { sourceRevisions: definition.sourceRevisions } : {}),
    });
    let offset = 0;
    for (const stage of structure) {
      const outcome = outcomes.get(stage.name);
      if (!outcome) continue;
      offset += 1000;
      const at = new Date(startTime.getTime() + offset);
      for (const action of stage.actions) {
        const given = outcome.actions?.[action.name];
        const detail: ActionOutcome | undefined = typeof given === 'string' ? { status: given } : given;
        const status = detail?.status ?? actionStatusFor(outcome.status);
        if (!status) continue;
        execution.actionRuns.push({
          actionExecutionId: randomUUID(),
          pipelineExecutionId: id,
          pipelineVersion: version,
          stageName: stage.name,
          actionName: action.name,
          status,
          startTime: at,
          lastUpdateTime: at,
          seq: this.nextSeq(),
          ...(detail?.summary ? { summary: detail.summary } : {}),
          ...(detail?.externalExecutionId ? { externalExecutionId: detail.externalExecutionId } : {}),
          ...(detail?.externalExecutionUrl ? { externalExecutionUrl: detail.externalExecutionUrl } : {}),
          ...(detail?.logStreamARN ? { logStreamARN: detail.logStreamARN } : {}),
          ...(status === 'Failed'
            ? {
                errorDetails: {
                  code: detail?.errorCode ?? 'JobFailed',
                  message: detail?.errorMessage ?? detail?.summary ?? 'Action failed',
                },
              }
            : {}),
        });
      }
      execution.stages.set(stage.name, {
        stageName: stage.name,
        status: outcome.status,
        lastUpdateTime: at,
        seq: this.nextSeq(),
      });
      if (outcome.status === 'InProgress' && !execution.activeStage) execution.activeStage = stage.name;
      execution.lastUpdateTime = at;
    }
    const statuses = [...execution.stages.values()].map((run) => run.status);
    execution.status =
      definition.status ??
      (statuses.includes('Failed')
        ? 'Failed'
        : statuses.includes('InProgress')
          ? 'InProgress'
          : statuses.includes('Stopped')
            ? 'Stopped'
            : 'Succeeded');
    if (definition.statusSummary) execution.statusSummary = definition.statusSummary;
    return execution;
  }

  /**
   * Finishes what a mutation left `InProgress` (the default reaction): the execution's active
   * stage and, for STANDARD executions, the stages after it. A `Stopping` execution becomes
   * `Stopped` whatever the reaction.
   */
  settle(pipelineName: string, executionId: string, reaction: Reaction): FakeExecution {
    const pipeline = this.requireSeeded(pipelineName);
    const execution = this.findExecution(pipelineName, executionId);
    if (!execution) throw new Error(`execution ${executionId} not found in ${pipelineName}`);
    if (execution.status === 'Stopping') {
      this.stopNow(execution, 'settle');
      return execution;
    }
    if (!execution.activeStage) throw new Error(`execution ${executionId} has nothing in progress`);
    this.applyReaction(pipeline, execution, reaction, 'settle');
    return execution;
  }

  /** The pipeline named `name`, if any. */
  pipeline(name: string): FakePipeline | undefined {
    return this.pipelines.get(name);
  }

  /** One execution, if any. */
  execution(pipelineName: string, executionId: string): FakeExecution | undefined {
    return this.findExecution(pipelineName, executionId);
  }

  /** A pipeline's executions, newest first (as ListPipelineExecutions orders them). */
  executions(pipelineName: string): readonly FakeExecution[] {
    return [...(this.executionsOf.get(pipelineName) ?? [])].sort(
      (a, b) => b.startTime.getTime() - a.startTime.getTime() || b.seq - a.seq,
    );
  }

  /** The next `times` calls of `operation` (or of any, with `*`) fail with `error`. */
  injectFault(definition: FaultDefinition): void {
    this.faults.push({ definition, remaining: definition.times ?? 1 });
  }

  /** Forgets injected faults that have not fired yet. */
  clearFaults(): void {
    this.faults = [];
  }

  /** Every call received, oldest first. */
  get calls(): readonly CallRecord[] {
    return this.callLog;
  }

  /** Every mutating call received (applied, replayed or rejected), oldest first. */
  get mutations(): readonly MutationRecord[] {
    return this.mutationLog;
  }

  /** The mutating calls that changed the world. */
  appliedMutations(): readonly MutationRecord[] {
    return this.mutationLog.filter((record) => record.outcome === 'applied');
  }

  /** Forgets the call and mutation logs (the world stays). */
  clearLogs(): void {
    this.callLog = [];
    this.mutationLog = [];
  }

  /** Empties the world: pipelines, executions, hooks, faults and logs. */
  reset(): void {
    this.pipelines.clear();
    this.executionsOf.clear();
    this.startTokens.clear();
    this.hooks = {};
    this.clearFaults();
    this.clearLogs();
  }

  // ---- the service ---------------------------------------------------------------------

  /**
   * Runs one operation as the service would: injected fault first, then request validation,
   * then the operation with its rules. Returns the response body (Dates stay Dates) or throws
   * a {@link CodePipelineServiceError}. `region` is the signing region of the request.
   */
  handle(operation: string, input: Body, region: string | undefined): Body {
    const at = this.now();
    const mutating = isOperation(operation) && MUTATING_OPERATIONS.has(operation);
    try {
      const fault = this.takeFault(operation);
      if (fault) throw fault;
      if (!isOperation(operation)) {
        throw new CodePipelineServiceError(E.unknownOperation, `Operation ${operation} is not supported`);
      }
      validateRequest(operation, input);
      const { result, replayed } = this.dispatch(operation, input, region);
      this.callLog.push({ operation, input, region, at });
      if (mutating) {
        this.mutationLog.push({
          operation,
          input,
          region,
          at,
          outcome: replayed ? 'replayed' : 'applied',
          result,
        });
      }
      return result;
    } catch (error) {
      const type = error instanceof CodePipelineServiceError ? error.type : E.internalFailure;
      this.callLog.push({ operation, input, region, at, error: type });
      if (mutating) this.mutationLog.push({ operation, input, region, at, error: type, outcome: 'rejected' });
      throw error;
    }
  }

  private dispatch(
    operation: CodePipelineOperation,
    input: Body,
    region: string | undefined,
  ): { result: Body; replayed: boolean } {
    const done = (result: Body) => ({ result, replayed: false });
    switch (operation) {
      case 'GetPipeline':
        return done(this.getPipeline(input, region));
      case 'GetPipelineState':
        return done(this.getPipelineState(input, region));
      case 'GetPipelineExecution':
        return done(this.getPipelineExecution(input, region));
      case 'ListPipelineExecutions':
        return done(this.listPipelineExecutions(input, region));
      case 'ListActionExecutions':
        return done(this.listActionExecutions(input, region));
      case 'ListTagsForResource':
        return done(this.listTagsForResource(input, region));
      case 'RetryStageExecution':
        return done(this.retryStageExecution(input, region));
      case 'StartPipelineExecution':
        return this.startPipelineExecution(input, region);
      case 'StopPipelineExecution':
        return done(this.stopPipelineExecution(input, region));
      case 'RollbackStage':
        return done(this.rollbackStage(input, region));
    }
  }

  // ---- reads ---------------------------------------------------------------------------

  private getPipeline(input: Body, region: string | undefined): Body {
    const pipeline = this.requirePipeline(str(input, 'name'), region);
    const version = (input.version as number | undefined) ?? pipeline.version;
    const stages = pipeline.history.get(version);
    if (!stages) {
      throw new CodePipelineServiceError(
        E.pipelineVersionNotFound,
        `Pipeline version ${version} of ${pipeline.name} not found`,
      );
    }
    return {
      pipeline: {
        name: pipeline.name,
        roleArn: pipeline.roleArn,
        artifactStore: { type: 'S3', location: `codepipeline-${pipeline.region}-${pipeline.account}` },
        stages: stages.map((stage) => ({
          name: stage.name,
          actions: stage.actions.map((action) => this.actionDeclaration(pipeline, action)),
        })),
        version,
        pipelineType: pipeline.pipelineType,
        executionMode: pipeline.executionMode,
      },
      metadata: { pipelineArn: pipeline.arn, created: pipeline.created, updated: pipeline.updated },
    };
  }

  private getPipelineState(input: Body, region: string | undefined): Body {
    const pipeline = this.requirePipeline(str(input, 'name'), region);
    return {
      pipelineName: pipeline.name,
      pipelineVersion: pipeline.version,
      created: pipeline.created,
      updated: pipeline.updated,
      stageStates: pipeline.stages.map((stage) => {
        const latest = this.latestStageRun(pipeline.name, stage.name);
        return {
          stageName: stage.name,
          inboundTransitionState: { enabled: true },
          ...(latest
            ? {
                latestExecution: {
                  pipelineExecutionId: latest.execution.pipelineExecutionId,
                  status: latest.run.status,
                  type: latest.execution.executionType,
                },
              }
            : {}),
          actionStates: stage.actions.map((action) => {
            const run = this.latestActionRun(pipeline.name, stage.name, action.name);
            return {
              actionName: action.name,
              ...(run
                ? {
                    latestExecution: {
                      actionExecutionId: run.actionExecutionId,
                      status: run.status,
                      lastStatusChange: run.lastUpdateTime,
                      ...(run.summary ? { summary: run.summary } : {}),
                      ...(run.externalExecutionId ? { externalExecutionId: run.externalExecutionId } : {}),
                      ...(run.externalExecutionUrl ? { externalExecutionUrl: run.externalExecutionUrl } : {}),
                      ...(run.errorDetails ? { errorDetails: run.errorDetails } : {}),
                      ...(run.logStreamARN ? { logStreamARN: run.logStreamARN } : {}),
                    },
                  }
                : {}),
            };
          }),
        };
      }),
    };
  }

  private getPipelineExecution(input: Body, region: string | undefined): Body {
    const pipeline = this.requirePipeline(str(input, 'pipelineName'), region);
    const execution = this.requireExecution(pipeline, str(input, 'pipelineExecutionId'));
    return {
      pipelineExecution: {
        pipelineName: pipeline.name,
        pipelineVersion: execution.pipelineVersion,
        pipelineExecutionId: execution.pipelineExecutionId,
        status: execution.status,
        ...(execution.statusSummary ? { statusSummary: execution.statusSummary } : {}),
        artifactRevisions: execution.sourceRevisions.map((revision) => ({
          name: revision.artifactName ?? 'SourceOutput',
          revisionId: revision.revisionId,
          ...(revision.revisionSummary ? { revisionSummary: revision.revisionSummary } : {}),
          ...(revision.revisionUrl ? { revisionUrl: revision.revisionUrl } : {}),
        })),
        variables: execution.variables,
        trigger: execution.trigger,
        executionMode: execution.executionMode,
        executionType: execution.executionType,
        ...this.rollbackMetadata(execution),
      },
    };
  }

  private listPipelineExecutions(input: Body, region: string | undefined): Body {
    const pipeline = this.requirePipeline(str(input, 'pipelineName'), region);
    const stageName = nested(input, 'filter', 'succeededInStage', 'stageName') as string | undefined;
    const all = this.executions(pipeline.name).filter(
      (execution) => !stageName || execution.stages.get(stageName)?.status === 'Succeeded',
    );
    const page = this.page(input, `ListPipelineExecutions/${pipeline.name}/${stageName ?? ''}`, all);
    return {
      pipelineExecutionSummaries: page.items.map((execution) => ({
        pipelineExecutionId: execution.pipelineExecutionId,
        status: execution.status,
        ...(execution.statusSummary ? { statusSummary: execution.statusSummary } : {}),
        startTime: execution.startTime,
        lastUpdateTime: execution.lastUpdateTime,
        sourceRevisions: execution.sourceRevisions.map((revision) => ({
          actionName: revision.actionName,
          revisionId: revision.revisionId,
          ...(revision.revisionSummary ? { revisionSummary: revision.revisionSummary } : {}),
          ...(revision.revisionUrl ? { revisionUrl: revision.revisionUrl } : {}),
        })),
        trigger: execution.trigger,
        ...(execution.stopTrigger ? { stopTrigger: execution.stopTrigger } : {}),
        executionMode: execution.executionMode,
        executionType: execution.executionType,
        ...this.rollbackMetadata(execution),
      })),
      ...page.next,
    };
  }

  private listActionExecutions(input: Body, region: string | undefined): Body {
    const pipeline = this.requirePipeline(str(input, 'pipelineName'), region);
    const byId = nested(input, 'filter', 'pipelineExecutionId') as string | undefined;
    const latestIn = nested(input, 'filter', 'latestInPipelineExecution') as Body | undefined;
    const executionId = byId ?? (latestIn?.pipelineExecutionId as string | undefined);
    let runs: ActionRun[];
    if (executionId) {
      runs = [...this.requireExecution(pipeline, executionId).actionRuns];
      if (latestIn?.startTimeRange === 'Latest') {
        const latest = new Map<string, ActionRun>();
        for (const run of runs) latest.set(`${run.stageName}\u0000${run.actionName}`, run);
        runs = [...latest.values()];
      }
    } else {
      runs = (this.executionsOf.get(pipeline.name) ?? []).flatMap((execution) => execution.actionRuns);
    }
    runs.sort((a, b) => b.startTime.getTime() - a.startTime.getTime() || b.seq - a.seq);
    const page = this.page(input, `ListActionExecutions/${pipeline.name}/${executionId ?? ''}`, runs);
    return {
      actionExecutionDetails: page.items.map((run) => this.actionExecutionDetail(pipeline, run)),
      ...page.next,
    };
  }

  private listTagsForResource(input: Body, region: string | undefined): Body {
    const arn = str(input, 'resourceArn');
    const pipeline = [...this.pipelines.values()].find(
      (candidate) => candidate.arn === arn && (!region || candidate.region === region),
    );
    if (!pipeline)
      throw new CodePipelineServiceError(E.resourceNotFound, `The resource ${arn} was not found`);
    const tags = Object.entries(pipeline.tags).map(([key, value]) => ({ key, value }));
    const page = this.page(input, `ListTagsForResource/${arn}`, tags);
    return { tags: page.items, ...page.next };
  }

  // ---- mutations -----------------------------------------------------------------------

  private retryStageExecution(input: Body, region: string | undefined): Body {
    const pipeline = this.requirePipeline(str(input, 'pipelineName'), region);
    const stageName = str(input, 'stageName');
    const stage = this.requireStage(pipeline, stageName);
    const execution = this.requireExecution(pipeline, str(input, 'pipelineExecutionId'));
    const retryMode = str(input, 'retryMode') as 'FAILED_ACTIONS' | 'ALL_ACTIONS';
    const latest = this.latestStageRun(pipeline.name, stageName);
    if (latest && ACTIVE_STAGE.has(latest.run.status)) {
      throw new CodePipelineServiceError(
        E.conflict,
        `Stage ${stageName} already has execution ${latest.execution.pipelineExecutionId} in progress`,
      );
    }
    if (!latest || latest.execution !== execution) {
      throw new CodePipelineServiceError(
        E.notLatestPipelineExecution,
        `Execution ${execution.pipelineExecutionId} is not the latest execution of stage ${stageName}`,
      );
    }
    if (latest.run.status !== 'Failed' && latest.run.status !== 'Stopped') {
      throw new CodePipelineServiceError(
        E.stageNotRetryable,
        `Stage ${stageName} is ${latest.run.status}: only a failed or stopped stage can be retried`,
      );
    }
    if (execution.pipelineVersion !== pipeline.version) {
      throw new CodePipelineServiceError(
        E.stageNotRetryable,
        `The pipeline structure changed since execution ${execution.pipelineExecutionId} started`,
      );
    }
    const latestRuns = stage.actions.map((action) => this.latestRunIn(execution, stageName, action.name));
    if (retryMode === 'ALL_ACTIONS' && latestRuns.some((run) => run?.status === 'InProgress')) {
      throw new CodePipelineServiceError(
        E.stageNotRetryable,
        `Stage ${stageName} has actions in progress: ALL_ACTIONS needs none`,
      );
    }
    const toRetry = stage.actions.filter(
      (_action, index) =>
        retryMode === 'ALL_ACTIONS' ||
        (latestRuns[index]?.status !== 'Succeeded' && latestRuns[index]?.status !== 'InProgress'),
    );
    if (toRetry.length === 0) {
      throw new CodePipelineServiceError(E.stageNotRetryable, `Stage ${stageName} has no failed actions`);
    }
    this.setExecutionStatus(execution, 'InProgress', 'retry');
    this.startStage(execution, stageName, toRetry, 'retry');
    const reaction = this.hooks.onRetryStage?.({ pipeline, stageName, execution, retryMode }) ?? 'InProgress';
    this.applyReaction(pipeline, execution, reaction, 'retry');
    return { pipelineExecutionId: execution.pipelineExecutionId };
  }

  private rollbackStage(input: Body, region: string | undefined): Body {
    const pipeline = this.requirePipeline(str(input, 'pipelineName'), region);
    const stageName = str(input, 'stageName');
    const stage = this.requireStage(pipeline, stageName);
    if (stage.actions.some((action) => (action.category ?? 'Build') === 'Source')) {
      throw new CodePipelineServiceError(E.unableToRollbackStage, `Stage ${stageName} is a source stage`);
    }
    const target = this.requireExecution(pipeline, str(input, 'targetPipelineExecutionId'));
    const latest = this.latestStageRun(pipeline.name, stageName);
    if (latest && ACTIVE_STAGE.has(latest.run.status)) {
      throw new CodePipelineServiceError(
        E.conflict,
        `Stage ${stageName} already has execution ${latest.execution.pipelineExecutionId} in progress`,
      );
    }
    if (target.executionType === 'ROLLBACK') {
      throw new CodePipelineServiceError(
        E.unableToRollbackStage,
        `Execution ${target.pipelineExecutionId} is a rollback: it cannot be a rollback target`,
      );
    }
    if (target.stages.get(stageName)?.status !== 'Succeeded') {
      throw new CodePipelineServiceError(
        E.unableToRollbackStage,
        `Execution ${target.pipelineExecutionId} did not succeed in stage ${stageName}`,
      );
    }
    if (target.pipelineVersion !== pipeline.version) {
      throw new CodePipelineServiceError(
        E.pipelineExecutionOutdated,
        `Execution ${target.pipelineExecutionId} ran pipeline version ${target.pipelineVersion}, not the current ${pipeline.version}`,
      );
    }
    const execution = this.newExecution(pipeline, {
      id: randomUUID(),
      version: pipeline.version,
      type: 'ROLLBACK',
      trigger: { triggerType: 'ManualRollback', triggerDetail: 'RollbackStage' },
      startTime: this.tick(),
      rollbackTarget: target.pipelineExecutionId,
      variables: target.variables,
      sourceRevisions: target.sourceRevisions,
    });
    this.setExecutionStatus(execution, 'InProgress', 'rollback');
    this.startStage(execution, stageName, stage.actions, 'rollback');
    const reaction = this.hooks.onRollbackStage?.({ pipeline, stageName, execution, target }) ?? 'InProgress';
    this.applyReaction(pipeline, execution, reaction, 'rollback');
    return { pipelineExecutionId: execution.pipelineExecutionId };
  }

  private startPipelineExecution(
    input: Body,
    region: string | undefined,
  ): { result: Body; replayed: boolean } {
    const pipeline = this.requirePipeline(str(input, 'name'), region);
    const token = input.clientRequestToken as string | undefined;
    const tokenKey = token ? `${pipeline.name}\u0000${token}` : undefined;
    const earlier = tokenKey ? this.startTokens.get(tokenKey) : undefined;
    if (earlier) return { result: { pipelineExecutionId: earlier }, replayed: true };
    const variables = ((input.variables as Array<{ name: string; value: string }> | undefined) ?? []).map(
      (variable) => ({ name: variable.name, resolvedValue: variable.value }),
    );
    const execution = this.newExecution(pipeline, {
      id: randomUUID(),
      version: pipeline.version,
      type: 'STANDARD',
      trigger: {
        triggerType: 'StartPipelineExecution',
        triggerDetail: `arn:aws:sts::${pipeline.account}:assumed-role/caller/suture`,
      },
      startTime: this.tick(),
      variables,
      ...(token ? { token } : {}),
    });
    if (tokenKey) this.startTokens.set(tokenKey, execution.pipelineExecutionId);
    const first = pipeline.stages[0]!;
    this.setExecutionStatus(execution, 'InProgress', 'start');
    this.startStage(execution, first.name, first.actions, 'start');
    const reaction = this.hooks.onStartPipelineExecution?.({ pipeline, execution }) ?? 'InProgress';
    this.applyReaction(pipeline, execution, reaction, 'start');
    return { result: { pipelineExecutionId: execution.pipelineExecutionId }, replayed: false };
  }

  private stopPipelineExecution(input: Body, region: string | undefined): Body {
    const pipeline = this.requirePipeline(str(input, 'pipelineName'), region);
    const execution = this.requireExecution(pipeline, str(input, 'pipelineExecutionId'));
    const abandon = input.abandon === true;
    const reason = input.reason as string | undefined;
    if (execution.status === 'Stopping' && !abandon) {
      throw new CodePipelineServiceError(
        E.duplicatedStopRequest,
        `Execution ${execution.pipelineExecutionId} is already stopping`,
      );
    }
    if (execution.status !== 'InProgress' && execution.status !== 'Stopping') {
      throw new CodePipelineServiceError(
        E.pipelineExecutionNotStoppable,
        `Execution ${execution.pipelineExecutionId} is ${execution.status}: only a running execution can be stopped`,
      );
    }
    execution.stopTrigger = reason ? { reason } : {};
    const decision =
      this.hooks.onStopPipelineExecution?.({ pipeline, execution, abandon, ...(reason ? { reason } : {}) }) ??
      (abandon ? 'Stopped' : 'Stopping');
    if (decision === 'Stopped') this.stopNow(execution, 'stop');
    else {
      for (const run of execution.stages.values()) {
        if (run.status === 'InProgress') this.setStageStatus(execution, run, 'Stopping', 'stop');
      }
      this.setExecutionStatus(execution, 'Stopping', 'stop');
    }
    return { pipelineExecutionId: execution.pipelineExecutionId };
  }

  // ---- world mechanics -----------------------------------------------------------------

  private seedOutcomes(
    structure: readonly StageDefinition[],
    definition: ExecutionDefinition,
  ): Map<string, StageOutcome> {
    const outcomes = new Map<string, StageOutcome>();
    const known = new Set(structure.map((stage) => stage.name));
    if (definition.stages) {
      for (const [name, given] of Object.entries(definition.stages)) {
        if (!known.has(name)) throw new Error(`stage ${name} is not in the pipeline`);
        outcomes.set(name, typeof given === 'string' ? { status: given } : given);
      }
      return outcomes;
    }
    const stop = definition.failAt?.stage ?? definition.runningAt;
    if (stop !== undefined && !known.has(stop)) throw new Error(`stage ${stop} is not in the pipeline`);
    for (const stage of structure) {
      if (stage.name !== stop) {
        outcomes.set(stage.name, { status: 'Succeeded' });
        continue;
      }
      if (definition.failAt) {
        const failAt = definition.failAt;
        const failing = failAt.action ?? stage.actions[0]!.name;
        if (!stage.actions.some((action) => action.name === failing)) {
          throw new Error(`action ${failing} is not in stage ${stage.name}`);
        }
        const actions: Record<string, ActionOutcome> = {};
        for (const action of stage.actions) {
          actions[action.name] =
            action.name === failing
              ? {
                  status: 'Failed',
                  errorCode: failAt.errorCode ?? 'JobFailed',
                  ...(failAt.summary ? { summary: failAt.summary } : {}),
                  ...(failAt.errorMessage ? { errorMessage: failAt.errorMessage } : {}),
                  ...(failAt.externalExecutionId ? { externalExecutionId: failAt.externalExecutionId } : {}),
                  ...(failAt.externalExecutionUrl
                    ? { externalExecutionUrl: failAt.externalExecutionUrl }
                    : {}),
                  ...(failAt.logStreamARN ? { logStreamARN: failAt.logStreamARN } : {}),
                }
              : { status: 'Succeeded' };
        }
        outcomes.set(stage.name, { status: 'Failed', actions });
      } else {
        outcomes.set(stage.name, { status: 'InProgress' });
      }
      break;
    }
    return outcomes;
  }

  private newExecution(
    pipeline: FakePipeline,
    spec: {
      id: string;
      version: number;
      type: 'STANDARD' | 'ROLLBACK';
      trigger: { triggerType: string; triggerDetail?: string };
      startTime: Date;
      rollbackTarget?: string;
      variables?: ReadonlyArray<{ name: string; resolvedValue: string }>;
      sourceRevisions?: readonly SourceRevision[];
      token?: string;
    },
  ): FakeExecution {
    const execution: FakeExecution = {
      pipelineExecutionId: spec.id,
      pipelineName: pipeline.name,
      pipelineVersion: spec.version,
      status: 'InProgress',
      executionType: spec.type,
      executionMode: pipeline.executionMode,
      trigger: spec.trigger,
      startTime: spec.startTime,
      lastUpdateTime: spec.startTime,
      variables: spec.variables ?? [],
      sourceRevisions: spec.sourceRevisions ?? [],
      stages: new Map(),
      actionRuns: [],
      seq: this.nextSeq(),
      ...(spec.rollbackTarget ? { rollbackTargetPipelineExecutionId: spec.rollbackTarget } : {}),
      ...(spec.token ? { clientRequestToken: spec.token } : {}),
    };
    this.executionsOf.get(pipeline.name)!.push(execution);
    return execution;
  }

  /** Starts `actions` of a stage in an execution: new InProgress runs, the stage InProgress. */
  private startStage(
    execution: FakeExecution,
    stageName: string,
    actions: readonly ActionDefinition[],
    cause: WorldChange['cause'],
  ): void {
    const at = this.tick();
    const existing = execution.stages.get(stageName);
    const stageRun: StageRun = existing ?? { stageName, status: 'InProgress', lastUpdateTime: at, seq: 0 };
    execution.stages.set(stageName, stageRun);
    stageRun.seq = this.nextSeq();
    this.setStageStatus(execution, stageRun, 'InProgress', cause);
    execution.activeStage = stageName;
    for (const action of actions) {
      const run: ActionRun = {
        actionExecutionId: randomUUID(),
        pipelineExecutionId: execution.pipelineExecutionId,
        pipelineVersion: execution.pipelineVersion,
        stageName,
        actionName: action.name,
        status: 'InProgress',
        startTime: at,
        lastUpdateTime: at,
        seq: this.nextSeq(),
      };
      execution.actionRuns.push(run);
      this.emitChange(execution, 'action', 'InProgress', cause, stageName, action.name);
    }
  }

  private applyReaction(
    pipeline: FakePipeline,
    execution: FakeExecution,
    reaction: Reaction,
    cause: WorldChange['cause'],
  ) {
    const detail = asDetail(reaction);
    if (detail.status === 'InProgress') return;
    const stages = pipeline.history.get(execution.pipelineVersion) ?? pipeline.stages;
    const from = Math.max(
      0,
      stages.findIndex((stage) => stage.name === execution.activeStage),
    );
    const last = execution.executionType === 'ROLLBACK' ? from : stages.length - 1;
    let failAt = -1;
    if (detail.status === 'Failed') {
      failAt = detail.stage ? stages.findIndex((stage) => stage.name === detail.stage) : from;
      if (failAt < from || failAt > last) failAt = from;
    }
    for (let index = from; index <= last; index += 1) {
      const stage = stages[index]!;
      if (index > from) this.startStage(execution, stage.name, stage.actions, cause);
      const running = execution.actionRuns.filter(
        (run) => run.stageName === stage.name && run.status === 'InProgress',
      );
      const stageRun = execution.stages.get(stage.name)!;
      if (index === failAt) {
        const failing = running.find((run) => run.actionName === detail.action) ?? running[0];
        for (const run of running) {
          if (run === failing) this.failRun(execution, run, detail, cause);
          else this.setActionStatus(execution, run, 'Succeeded', cause);
        }
        this.setStageStatus(execution, stageRun, 'Failed', cause);
        execution.activeStage = undefined;
        this.setExecutionStatus(execution, 'Failed', cause);
        return;
      }
      for (const run of running) this.setActionStatus(execution, run, 'Succeeded', cause);
      this.setStageStatus(execution, stageRun, 'Succeeded', cause);
    }
    execution.activeStage = undefined;
    this.setExecutionStatus(execution, 'Succeeded', cause);
  }

  private failRun(
    execution: FakeExecution,
    run: ActionRun,
    detail: ReactionDetail,
    cause: WorldChange['cause'],
  ): void {
    run.summary = detail.summary ?? 'Action failed';
    run.errorDetails = { code: detail.errorCode ?? 'JobFailed', message: run.summary };
    if (detail.externalExecutionId) run.externalExecutionId = detail.externalExecutionId;
    if (detail.logStreamARN) run.logStreamARN = detail.logStreamARN;
    this.setActionStatus(execution, run, 'Failed', cause);
  }

  private stopNow(execution: FakeExecution, cause: WorldChange['cause']): void {
    for (const run of execution.actionRuns) {
      if (run.status === 'InProgress') this.setActionStatus(execution, run, 'Abandoned', cause);
    }
    for (const run of execution.stages.values()) {
      if (ACTIVE_STAGE.has(run.status)) this.setStageStatus(execution, run, 'Stopped', cause);
    }
    execution.activeStage = undefined;
    this.setExecutionStatus(execution, 'Stopped', cause);
  }

  private setActionStatus(
    execution: FakeExecution,
    run: ActionRun,
    status: ActionStatus,
    cause: WorldChange['cause'],
  ) {
    run.status = status;
    run.lastUpdateTime = this.tick();
    run.seq = Math.max(run.seq, this.nextSeq());
    this.emitChange(execution, 'action', status, cause, run.stageName, run.actionName);
  }

  private setStageStatus(
    execution: FakeExecution,
    run: StageRun,
    status: StageStatus,
    cause: WorldChange['cause'],
  ) {
    run.status = status;
    run.lastUpdateTime = this.tick();
    this.emitChange(execution, 'stage', status, cause, run.stageName);
  }

  private setExecutionStatus(execution: FakeExecution, status: ExecutionStatus, cause: WorldChange['cause']) {
    execution.status = status;
    execution.lastUpdateTime = this.tick();
    this.emitChange(execution, 'pipeline', status, cause);
  }

  private emitChange(
    execution: FakeExecution,
    level: WorldChange['level'],
    status: string,
    cause: WorldChange['cause'],
    stage?: string,
    action?: string,
  ): void {
    const change: WorldChange = {
      level,
      pipeline: execution.pipelineName,
      pipelineExecutionId: execution.pipelineExecutionId,
      executionType: execution.executionType,
      status,
      at: new Date(this.lastTime),
      cause,
      ...(stage ? { stage } : {}),
      ...(action ? { action } : {}),
    };
    this.emit('change', change);
  }

  private latestStageRun(
    pipelineName: string,
    stageName: string,
  ): { execution: FakeExecution; run: StageRun } | undefined {
    let best: { execution: FakeExecution; run: StageRun } | undefined;
    for (const execution of this.executionsOf.get(pipelineName) ?? []) {
      const run = execution.stages.get(stageName);
      if (run && (!best || run.seq > best.run.seq)) best = { execution, run };
    }
    return best;
  }

  private latestActionRun(
    pipelineName: string,
    stageName: string,
    actionName: string,
  ): ActionRun | undefined {
    let best: ActionRun | undefined;
    for (const execution of this.executionsOf.get(pipelineName) ?? []) {
      const run = this.latestRunIn(execution, stageName, actionName);
      if (run && (!best || run.seq > best.seq)) best = run;
    }
    return best;
  }

  private latestRunIn(
    execution: FakeExecution,
    stageName: string,
    actionName: string,
  ): ActionRun | undefined {
    let best: ActionRun | undefined;
    for (const run of execution.actionRuns) {
      if (run.stageName === stageName && run.actionName === actionName && (!best || run.seq > best.seq)) {
        best = run;
      }
    }
    return best;
  }

  private actionDeclaration(pipeline: FakePipeline, action: ActionDefinition): Body {
    return {
      name: action.name,
      actionTypeId: {
        category: action.category ?? 'Build',
        owner: action.owner ?? 'AWS',
        provider: action.provider,
        version: action.version ?? '1',
      },
      runOrder: action.runOrder ?? 1,
      configuration: action.configuration ?? {},
      inputArtifacts: [],
      // A source action's artifact is what `artifactRevisions` names (see SourceRevision).
      outputArtifacts: action.category === 'Source' ? [{ name: 'SourceOutput' }] : [],
      region: action.region ?? pipeline.region,
    };
  }

  private actionExecutionDetail(pipeline: FakePipeline, run: ActionRun): Body {
    const structure = pipeline.history.get(run.pipelineVersion) ?? pipeline.stages;
    const action = structure
      .find((stage) => stage.name === run.stageName)
      ?.actions.find((candidate) => candidate.name === run.actionName);
    const declaration = action ? this.actionDeclaration(pipeline, action) : undefined;
    const result = {
      ...(run.externalExecutionId ? { externalExecutionId: run.externalExecutionId } : {}),
      ...(run.summary ? { externalExecutionSummary: run.summary } : {}),
      ...(run.externalExecutionUrl ? { externalExecutionUrl: run.externalExecutionUrl } : {}),
      ...(run.errorDetails ? { errorDetails: run.errorDetails } : {}),
      ...(run.logStreamARN ? { logStreamARN: run.logStreamARN } : {}),
    };
    return {
      pipelineExecutionId: run.pipelineExecutionId,
      actionExecutionId: run.actionExecutionId,
      pipelineVersion: run.pipelineVersion,
      stageName: run.stageName,
      actionName: run.actionName,
      startTime: run.startTime,
      lastUpdateTime: run.lastUpdateTime,
      status: run.status,
      input: {
        ...(declaration
          ? {
              actionTypeId: declaration.actionTypeId,
              configuration: declaration.configuration,
              resolvedConfiguration: declaration.configuration,
              region: declaration.region,
            }
          : {}),
        inputArtifacts: [],
      },
      output: { outputArtifacts: [], executionResult: result, outputVariables: {} },
    };
  }

  private rollbackMetadata(execution: FakeExecution): Body {
    return execution.rollbackTargetPipelineExecutionId
      ? {
          rollbackMetadata: {
            rollbackTargetPipelineExecutionId: execution.rollbackTargetPipelineExecutionId,
          },
        }
      : {};
  }

  /** Offset paging with opaque tokens bound to the listing they came from. */
  private page<T>(input: Body, listing: string, items: readonly T[]): { items: T[]; next: Body } {
    const maxResults = (input.maxResults as number | undefined) ?? 100;
    let offset = 0;
    const token = input.nextToken as string | undefined;
    if (token !== undefined) {
      let decoded: { l?: unknown; o?: unknown } | undefined;
      try {
        decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
          l?: unknown;
          o?: unknown;
        };
      } catch {
        decoded = undefined;
      }
      if (!decoded || decoded.l !== listing || !Number.isInteger(decoded.o) || (decoded.o as number) < 0) {
        throw new CodePipelineServiceError(
          E.invalidNextToken,
          'The next token was specified in an invalid format. Make sure that the next token you provide is the token returned by a previous call.',
        );
      }
      offset = decoded.o as number;
    }
    const slice = items.slice(offset, offset + maxResults);
    const end = offset + slice.length;
    return {
      items: slice,
      next:
        end < items.length
          ? { nextToken: Buffer.from(JSON.stringify({ l: listing, o: end })).toString('base64url') }
          : {},
    };
  }

  private takeFault(operation: string): CodePipelineServiceError | undefined {
    const index = this.faults.findIndex(
      (fault) =>
        fault.remaining > 0 &&
        (fault.definition.operation === '*' || fault.definition.operation === operation),
    );
    if (index < 0) return undefined;
    const fault = this.faults[index]!;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    const { error, message, status } = fault.definition;
    return new CodePipelineServiceError(error, message ?? `Injected ${error}`, status);
  }

  private requireSeeded(name: string): FakePipeline {
    const pipeline = this.pipelines.get(name);
    if (!pipeline) throw new Error(`pipeline ${name} is not in the world`);
    return pipeline;
  }

  private requirePipeline(name: string, region: string | undefined): FakePipeline {
    const pipeline = this.pipelines.get(name);
    if (!pipeline || (region !== undefined && pipeline.region !== region)) {
      throw new CodePipelineServiceError(
        E.pipelineNotFound,
        `Account '${this.account}' does not have a pipeline with name '${name}'`,
      );
    }
    return pipeline;
  }

  private requireStage(pipeline: FakePipeline, stageName: string): StageDefinition {
    const stage = pipeline.stages.find((candidate) => candidate.name === stageName);
    if (!stage) {
      throw new CodePipelineServiceError(
        E.stageNotFound,
        `Stage ${stageName} was not found in pipeline ${pipeline.name}`,
      );
    }
    return stage;
  }

  private requireExecution(pipeline: FakePipeline, executionId: string): FakeExecution {
    const execution = this.findExecution(pipeline.name, executionId);
    if (!execution) {
      throw new CodePipelineServiceError(
        E.pipelineExecutionNotFound,
        `Pipeline execution ${executionId} of pipeline ${pipeline.name} was not found`,
      );
    }
    return execution;
  }

  private findExecution(pipelineName: string, executionId: string): FakeExecution | undefined {
    return this.executionsOf
      .get(pipelineName)
      ?.find((execution) => execution.pipelineExecutionId === executionId);
  }

  private nextSeq(): number {
    this.sequence += 1;
    return this.sequence;
  }

  /** Now, strictly after every timestamp handed out before, so orderings are total. */
  private tick(): Date {
    const time = Math.max(this.now().getTime(), this.lastTime + 1);
    this.lastTime = time;
    return new Date(time);
  }
}
