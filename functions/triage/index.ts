import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createHash } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetPipelineStateCommand, CodePipelineClient } from '@aws-sdk/client-codepipeline';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  StartExecutionCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { AuditTrail } from '../commons/audit';
import {
  hasDigestBucket,
  MISSING_DIGEST_BUCKET,
  sealChain,
  DigestEnvironmentFields,
} from '../commons/audit/seal';
import { awsClient } from '../commons/aws/clients';
import { jsonVariable, readEnvironment, requiredVariable } from '../commons/config';
import { lambdaHandler } from '../commons/lambda-handler';
import { rethrowAws } from '../commons/errors';
import { fingerprint, LoopGuard, type AttemptCounts } from '../commons/loop-guard';
import { logger, metrics } from '../commons/observability';
import { describeIssues } from '../commons/zod';
import { boundedSummary, codePipelineFingerprint } from '../commons/workflow/incident';
import { type WorkflowIncident, type WorkflowInput } from '../commons/workflow/schema';
import { FirstDeliveryPendingError, WorkflowStartError } from './errors';
import {
  AlarmEventSchema,
  AlarmTargetsSchema,
  CodePipelineEventSchema,
  ScopeSchema,
  TriageEventSchema,
  type AlarmEvent,
  type CodePipelineEvent,
  type TriageResult,
} from './schema';

const EnvironmentSchema = z
  .object({
    SUTURE_STATE_MACHINE_ARN: requiredVariable('SUTURE_STATE_MACHINE_ARN').regex(
      /^arn:[\w-]+:states:[\w-]+:\d{12}:stateMachine:[\w-]+$/,
      'SUTURE_STATE_MACHINE_ARN must be a state machine ARN',
    ),
    SUTURE_GUARD_TABLE: requiredVariable('SUTURE_GUARD_TABLE'),
    SUTURE_AUDIT_TABLE: requiredVariable('SUTURE_AUDIT_TABLE'),
    SUTURE_SCOPE: jsonVariable('SUTURE_SCOPE', ScopeSchema, []),
    SUTURE_ALARM_TARGETS: jsonVariable('SUTURE_ALARM_TARGETS', AlarmTargetsSchema, {}),
    // loop_detected ends an incident in triage: triage seals its chain.
    ...DigestEnvironmentFields,
  })
  .refine(hasDigestBucket, MISSING_DIGEST_BUCKET);
type Environment = z.infer<typeof EnvironmentSchema>;

/** Picks the schema by `source`, so a malformed event's error names its wrong fields. */
function schemaFor(
  event: unknown,
): typeof TriageEventSchema | typeof CodePipelineEventSchema | typeof AlarmEventSchema {
  const source = (event as { source?: unknown } | null)?.source;
  if (source === 'aws.codepipeline') return CodePipelineEventSchema;
  if (source === 'aws.cloudwatch') return AlarmEventSchema;
  return TriageEventSchema;
}

/** A failure worth a workflow, before the loop guard has counted it. */
export interface Candidate {
  readonly incident: WorkflowIncident;
  /** Event time, for detection latency. */
  readonly occurredAt: Date;
}

/**
 * Incident ids are deterministic: one CodePipeline execution (or one alarm transition) is one
 * incident, whichever of its Action, Stage or Pipeline events arrives first and however often
 * it is delivered. The id doubles as the workflow's execution name (≤ 80 chars, [A-Za-z0-9-]).
 */
function incidentId(...parts: readonly string[]): string {
  return `inc-${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 40)}`;
}

/** The incident for a CodePipeline event, or why the event is not one. Pure: no AWS call. */
export function incidentFromCodePipeline(event: CodePipelineEvent, now: Date): Candidate | string {
  const detail = event.detail;
  if (detail.state !== 'FAILED') return `state ${detail.state} is not a failure`;
  const result = detail['execution-result'] ?? {};
  const summary = boundedSummary(result['external-execution-summary']);
  const errorCode = result['error-code'];
  const stage = detail.stage ?? '';
  const action = detail.action ?? '';
  const attempt = String(detail['pipeline-execution-attempt'] ?? '1');
  const incident: WorkflowIncident = {
    id: incidentId(
      'codepipeline',
      event.account,
      event.region,
      detail.pipeline,
      detail['execution-id'],
      attempt,
    ),
    source: 'codepipeline',
    detail_type: event['detail-type'],
    state: detail.state,
    pipeline: detail.pipeline,
    stage,
    action,
    execution_id: detail['execution-id'],
    account: event.account,
    region: event.region,
    event_id: event.id,
    event_time: event.time,
    detected_at: now.toISOString(),
    ...(errorCode ? { error_code: errorCode } : {}),
    ...(summary ? { summary } : {}),
    ...(result['external-execution-id'] ? { external_execution_id: result['external-execution-id'] } : {}),
    ...(detail.type?.provider ? { provider: detail.type.provider } : {}),
    ...(detail.type?.category ? { category: detail.type.category } : {}),
    // A first, event-only classification for the fingerprint; Classify refines it from the log.
    fingerprint: codePipelineFingerprint({
      pipeline: detail.pipeline,
      stage,
      action,
      ...(errorCode ? { error_code: errorCode } : {}),
      ...(summary ? { summary } : {}),
    }),
  };
  return { incident, occurredAt: new Date(event.time) };
}

async function fromAlarm(event: AlarmEvent, env: Environment, now: Date): Promise<Candidate | string> {
  const detail = event.detail;
  if (detail.state.value !== 'ALARM') return `alarm state ${detail.state.value} is not ALARM`;
  if (detail.previousState?.value === 'ALARM') return 'alarm was already in ALARM';
  const target = env.SUTURE_ALARM_TARGETS[detail.alarmName];
  if (!target) return `alarm ${detail.alarmName} guards no configured pipeline stage`;
  // The alarm names no execution: the stage's latest execution is the one whose release is unhealthy.
  let executionId: string | undefined;
  try {
    const state = await awsClient(CodePipelineClient).send(
      new GetPipelineStateCommand({ name: target.pipeline }),
    );
    executionId = state.stageStates?.find((s) => s.stageName === target.stage)?.latestExecution
      ?.pipelineExecutionId;
  } catch (error) {
    rethrowAws(error, `GetPipelineState ${target.pipeline}`);
  }
  if (!executionId)
    return `stage ${target.pipeline}/${target.stage} has no execution to attribute the alarm to`;
  const summary = boundedSummary(detail.state.reason);
  const incident: WorkflowIncident = {
    id: incidentId('alarm', event.account, event.region, detail.alarmName, detail.state.timestamp),
    source: 'cloudwatch_alarm',
    detail_type: event['detail-type'],
    state: detail.state.value,
    pipeline: target.pipeline,
    stage: target.stage,
    action: '',
    execution_id: executionId,
    account: event.account,
    region: event.region,
    event_id: event.id,
    event_time: event.time,
    detected_at: now.toISOString(),
    ...(summary ? { summary } : {}),
    alarm_name: detail.alarmName,
    fingerprint: fingerprint({
      pipeline: target.pipeline,
      stage: target.stage,
      action: '',
      failureClass: 'deploy_health',
      signature: `alarm ${detail.alarmName}`,
    }),
  };
  return { incident, occurredAt: new Date(event.time) };
}

function inScope(env: Environment, incident: WorkflowIncident): boolean {
  if (env.SUTURE_SCOPE.length === 0) return true;
  return env.SUTURE_SCOPE.some(
    (entry) =>
      entry.pipeline === incident.pipeline &&
      (entry.account === undefined || entry.account === incident.account) &&
      (entry.region === undefined || entry.region === incident.region),
  );
}

function executionArn(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

async function executionExists(arn: string): Promise<boolean> {
  try {
    await awsClient(SFNClient).send(new DescribeExecutionCommand({ executionArn: arn }));
    return true;
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) return false;
    return rethrowAws(error, 'DescribeExecution');
  }
}

/** Starts the workflow; a name that is already taken means this failure is already handled. */
async function startWorkflow(
  env: Environment,
  input: WorkflowInput,
): Promise<{ arn: string; started: boolean }> {
  try {
    const response = await awsClient(SFNClient).send(
      new StartExecutionCommand({
        stateMachineArn: env.SUTURE_STATE_MACHINE_ARN,
        name: input.incident.id,
        input: JSON.stringify(input),
      }),
    );
    return { arn: response.executionArn!, started: true };
  } catch (error) {
    if (error instanceof ExecutionAlreadyExists) {
      return { arn: executionArn(env.SUTURE_STATE_MACHINE_ARN, input.incident.id), started: false };
    }
    if ((error as Error).name === 'StateMachineDoesNotExist' || (error as Error).name === 'InvalidArn') {
      throw new WorkflowStartError(
        `state machine ${env.SUTURE_STATE_MACHINE_ARN}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    return rethrowAws(error, 'StartExecution');
  }
}

/**
 * A duplicate delivery takes over from the first one only after this long: longer than
 * triage's own timeout, so it never races a first delivery that is still running.
 */
export const TAKEOVER_AFTER_SECONDS = 120;

let environment: Environment | undefined;

/** Test hook: read the environment again on the next call. */
export function resetTriageForTests(): void {
  environment = undefined;
}

/**
 * Turns one EventBridge delivery into at most one workflow: drops what is not a failure or
 * not in scope, redacts, fingerprints, lets the loop guard count (and dedupe) the attempt,
 * then starts the workflow under the incident's deterministic name. Raw events are never
 * logged; a malformed event is dropped with the names of its wrong fields.
 */
export async function triage(event: unknown, now: Date = new Date()): Promise<TriageResult> {
  environment ??= readEnvironment('triage', EnvironmentSchema);
  const env = environment;
  const parsed = schemaFor(event).safeParse(event);
  if (!parsed.success) {
    const reason = `not a CodePipeline or alarm state change: ${describeIssues(parsed.error)}`;
    logger.warn('event ignored', { reason });
    metrics.addMetric('EventsIgnored', MetricUnit.Count, 1);
    return { status: 'ignored', reason };
  }
  const candidate =
    parsed.data.source === 'aws.codepipeline'
      ? incidentFromCodePipeline(parsed.data, now)
      : await fromAlarm(parsed.data, env, now);
  if (typeof candidate === 'string') {
    logger.info('event ignored', { reason: candidate });
    metrics.addMetric('EventsIgnored', MetricUnit.Count, 1);
    return { status: 'ignored', reason: candidate };
  }
  const { incident } = candidate;
  if (!inScope(env, incident)) {
    const reason = `pipeline ${incident.account}/${incident.region}/${incident.pipeline} is not in scope`;
    logger.info('event ignored', { reason, incident_id: incident.id });
    metrics.addMetric('EventsIgnored', MetricUnit.Count, 1);
    return { status: 'ignored', incident_id: incident.id, reason };
  }
  logger.appendKeys({ incident_id: incident.id });
  try {
    return await admit(env, candidate, now);
  } finally {
    logger.removeKeys(['incident_id']);
  }
}

async function admit(
  env: Environment,
  { incident, occurredAt }: Candidate,
  now: Date,
): Promise<TriageResult> {
  const dynamo = awsClient(DynamoDBClient);
  const guard = new LoopGuard(dynamo, env.SUTURE_GUARD_TABLE);
  const pipelineKey = `${incident.account}/${incident.region}/${incident.pipeline}`;
  const outcome = await guard.recordAttempt({
    deliveryKey: incident.id,
    fingerprint: incident.fingerprint,
    pipelineKey,
    now,
  });
  const arn = executionArn(env.SUTURE_STATE_MACHINE_ARN, incident.id);
  if (outcome.outcome === 'loop_detected') {
    const reason = `attempt ceiling per ${outcome.scope} reached: no workflow started`;
    logger.warn('loop detected', { reason, fingerprint: incident.fingerprint });
    metrics.addMetric('LoopDetected', MetricUnit.Count, 1);
    const trail = new AuditTrail(dynamo, env.SUTURE_AUDIT_TABLE);
    await trail.append(incident.id, 'loop_detected', { incident, scope: outcome.scope }, now);
    // No workflow follows: this record ends the incident, so triage seals the chain.
    await sealChain(env, trail, incident.id, now);
    return { status: 'loop_detected', incident_id: incident.id, reason };
  }
  let attempts: AttemptCounts;
  if (outcome.outcome === 'duplicate') {
    // Normally the first delivery started the workflow (or is starting it right now). If it
    // crashed between counting and starting, a redelivery after the takeover delay starts it
    // (StartExecution is idempotent on the name) instead of losing the failure.
    const firstAt = outcome.firstRecordedAt ?? 0;
    const firstIsRecent = now.getTime() / 1000 - firstAt < TAKEOVER_AFTER_SECONDS;
    if (await executionExists(arn)) {
      metrics.addMetric('DuplicateDeliveries', MetricUnit.Count, 1);
      return { status: 'duplicate', incident_id: incident.id, execution_arn: arn };
    }
    if (firstIsRecent) {
      metrics.addMetric('DeliveriesPending', MetricUnit.Count, 1);
      throw new FirstDeliveryPendingError(
        `incident ${incident.id} was counted ${Math.round(now.getTime() / 1000 - firstAt)} s ago and its workflow has not started yet: deliver again later`,
      );
    }
    logger.warn('first delivery never started its workflow: starting it now');
    attempts = await guard.countsBefore(incident.fingerprint, pipelineKey, now);
  } else {
    attempts = outcome.before;
  }
  const input: WorkflowInput = { incident, attempts };
  // Audited before the start, so the chain begins with triage even when the first state is fast.
  // A first delivery normally opens the incident's trail: skip reading its (absent) head.
  await new AuditTrail(dynamo, env.SUTURE_AUDIT_TABLE).append(
    incident.id,
    'triage',
    { incident, attempts, execution_arn: arn },
    now,
    { expectNew: outcome.outcome === 'recorded' },
  );
  const started = await startWorkflow(env, input);
  if (!started.started) {
    metrics.addMetric('DuplicateDeliveries', MetricUnit.Count, 1);
    return { status: 'duplicate', incident_id: incident.id, execution_arn: started.arn };
  }
  const latencyMs = Math.max(0, now.getTime() - occurredAt.getTime());
  metrics.addMetric('DetectionLatency', MetricUnit.Milliseconds, latencyMs);
  metrics.addMetric('WorkflowsStarted', MetricUnit.Count, 1);
  logger.info('workflow started', {
    fingerprint: incident.fingerprint,
    pipeline: incident.pipeline,
    stage: incident.stage,
    detection_latency_ms: latencyMs,
  });
  return { status: 'started', incident_id: incident.id, execution_arn: started.arn };
}

/** The Lambda entry point: {@link triage} with Powertools logging, metrics and tracing. */
export const handler = lambdaHandler((event: unknown) => triage(event));
