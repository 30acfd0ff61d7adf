import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { createHash } from 'node:crypto';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import {
  DescribeAlarmsCommand,
  type CompositeAlarm,
  type MetricAlarm,
  CloudWatchClient,
} from '@aws-sdk/client-cloudwatch';
import { BatchGetBuildsCommand, type Build, CodeBuildClient } from '@aws-sdk/client-codebuild';
import {
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  ListTagsForResourceCommand,
  type ActionExecutionDetail,
  type PipelineExecution,
  CodePipelineClient,
} from '@aws-sdk/client-codepipeline';
import { GetItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import { AuditTrail } from '../commons/audit';
import { awsClient, s3ClientConfig } from '../commons/aws/clients';
import { readEnvironment } from '../commons/config';
import { isTransientAwsError, rethrowAws, TransientAwsError } from '../commons/errors';
import { LoopGuard, LoopGuardUnavailableError, type AttemptCounts } from '../commons/loop-guard';
import { logger, metrics, tracer } from '../commons/observability';
import { describeIssues } from '../commons/zod';
import { mergeReports, redactText, redactValue, type RedactionReport } from '../commons/redact';
import { boundedSummary, codePipelineFingerprint } from '../commons/workflow/incident';
import {
  EvidenceSchema,
  SUMMARY_MAX_CHARS,
  type Evidence,
  type WorkflowIncident,
  type WorkflowInput,
} from '../commons/workflow/schema';
import { validationFailuresKey } from '../commons/workflow/release-checks';
import { EvidenceInputError } from './errors';
import { readLogTail, type LogLocation, type LogTail } from './log-tail';
import { sourceEvidence } from './source';
import {
  CollectEvidenceInputSchema,
  EnvironmentSchema,
  EVIDENCE_SUMMARY_MAX_BYTES,
  type Environment,
  type EvidenceGap,
} from './schema';

/** Most failed actions reported (EvidenceSchema allows 20). */
const MAX_FAILED_ACTIONS = 20;
/** ListActionExecutions pages read (100 action executions each). */
const ACTION_PAGES = 5;
/** Most alarms reported (EvidenceSchema allows 20); firing ones first. */
const MAX_ALARMS = 20;
/** Byte caps of free text in `$.evidence` (the full text is in the S3 object). */
const ACTION_SUMMARY_MAX_BYTES = 512;
const ALARM_REASON_MAX_BYTES = 256;
const GAP_REASON_MAX_BYTES = 240;
/** Rollback target search: pages of succeeded executions, and candidates whose version is checked. */
const ROLLBACK_PAGES = 3;
const ROLLBACK_CANDIDATES = 5;
/** ListTagsForResource pages read. */
const TAG_PAGES = 5;

const ALARM_STATE_ORDER: Readonly<Record<string, number>> = { ALARM: 0, INSUFFICIENT_DATA: 1, OK: 2 };

/** Cuts UTF-8 text to `maxBytes`, never inside a character, marking the cut with `…`. */
function truncateBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const bytes = Buffer.from(text);
  let cut = Math.max(0, maxBytes - 3);
  while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return `${bytes.toString('utf8', 0, cut)}…`;
}

/** Redacted, then bounded: the only way free text from AWS enters `$.evidence`. */
function boundedText(text: string | undefined, maxBytes: number): string | undefined {
  if (text === undefined || text === '') return undefined;
  return truncateBytes(redactText(text).text, maxBytes);
}

/** `arn:<partition>` for a region. */
function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/**
 * Runs a call whose failure must not stop evidence collection: throttling and 5xx still
 * become TransientAwsError (a retry gets complete evidence), any other AWS error becomes a
 * gap in the evidence. Errors that are not AWS errors are bugs and propagate.
 */
async function bestEffort<T>(
  gaps: EvidenceGap[],
  source: EvidenceGap['source'],
  what: string,
  call: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (isTransientAwsError(error)) rethrowAws(error, what);
    if (!(error instanceof Error) || !('$metadata' in error)) throw error;
    gaps.push({
      source,
      reason: truncateBytes(
        redactText(`${what}: ${error.name}: ${error.message}`).text,
        GAP_REASON_MAX_BYTES,
      ),
    });
    logger.warn('evidence gap', { source, error: error.name });
    return undefined;
  }
}

/** Runs a call the evidence cannot do without: every failure propagates (transient ones as TransientAwsError). */
async function required<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    return rethrowAws(error, what);
  }
}

async function pipelineExecution(incident: WorkflowIncident): Promise<PipelineExecution> {
  const what = `GetPipelineExecution ${incident.pipeline} ${incident.execution_id}`;
  const output = await required(what, () =>
    awsClient(CodePipelineClient).send(
      new GetPipelineExecutionCommand({
        pipelineName: incident.pipeline,
        pipelineExecutionId: incident.execution_id,
      }),
    ),
  );
  return output.pipelineExecution ?? {};
}

/**
 * The failed actions of the execution: the latest run of each action (a retried action counts
 * once, as its last run), failed ones only.
 */
async function failedActions(incident: WorkflowIncident): Promise<ActionExecutionDetail[]> {
  const latest = new Map<string, ActionExecutionDetail>();
  let nextToken: string | undefined;
  for (let page = 0; page < ACTION_PAGES; page += 1) {
    const output = await required(`ListActionExecutions ${incident.pipeline}`, () =>
      awsClient(CodePipelineClient).send(
        new ListActionExecutionsCommand({
          pipelineName: incident.pipeline,
          filter: { pipelineExecutionId: incident.execution_id },
          maxResults: 100,
          nextToken,
        }),
      ),
    );
    for (const detail of output.actionExecutionDetails ?? []) {
      const key = `${detail.stageName}\u0000${detail.actionName}`;
      const seen = latest.get(key);
      const time = (value: ActionExecutionDetail | undefined) => value?.startTime?.getTime() ?? 0;
      if (!seen || time(detail) > time(seen)) latest.set(key, detail);
    }
    nextToken = output.nextToken;
    if (!nextToken) break;
  }
  return [...latest.values()].filter((detail) => detail.status === 'Failed');
}

const providerOf = (detail: ActionExecutionDetail) => detail.input?.actionTypeId?.provider;
const resultOf = (detail: ActionExecutionDetail) => detail.output?.executionResult;

/** The incident's own action first, then the rest in the order CodePipeline reported them. */
function incidentFirst(incident: WorkflowIncident, details: readonly ActionExecutionDetail[]) {
  const isIncident = (detail: ActionExecutionDetail) =>
    detail.stageName === incident.stage && (incident.action === '' || detail.actionName === incident.action);
  return [...details].sort((a, b) => Number(isIncident(b)) - Number(isIncident(a)));
}

/**
 * The failed action an incident is about: among the failed actions of its stage (every stage
 * when the event named none) and of its action (when the event named one), the one that
 * failed first; ties go by stage and action name. Undefined when the execution reports no
 * failed action there (a stopped or superseded execution).
 */
export function failedActionOf(
  incident: WorkflowIncident,
  details: readonly ActionExecutionDetail[],
): ActionExecutionDetail | undefined {
  const started = (detail: ActionExecutionDetail) => detail.startTime?.getTime() ?? Number.POSITIVE_INFINITY;
  const name = (detail: ActionExecutionDetail) => `${detail.stageName ?? ''}\u0000${detail.actionName ?? ''}`;
  return details
    .filter(
      (detail) =>
        detail.status === 'Failed' &&
        detail.stageName &&
        detail.actionName &&
        (incident.stage === '' || detail.stageName === incident.stage) &&
        (incident.action === '' || detail.actionName === incident.action),
    )
    .sort((a, b) => started(a) - started(b) || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0))[0];
}

/**
 * The incident completed from its execution. One CodePipeline failure emits an action, a stage
 * and a pipeline event, in no guaranteed order, and a team may route only one of them: the
 * first to arrive opens the incident. What the event did not say is taken from the failed
 * action ListActionExecutions reports — stage, action, provider, category, error code,
 * summary (redacted and bounded as triage does) and external execution id — and the
 * fingerprint is computed again from the completed fields, so playbooks, fingerprints, budgets
 * and the policy see the same incident whichever event came first. What the event said is
 * never overwritten; an alarm's incident is returned as it is.
 */
export function completeIncident(
  incident: WorkflowIncident,
  details: readonly ActionExecutionDetail[],
): WorkflowIncident {
  if (incident.source !== 'codepipeline') return incident;
  const detail = failedActionOf(incident, details);
  if (!detail) return incident;
  const result = resultOf(detail);
  const provider = incident.provider ?? providerOf(detail);
  const category = incident.category ?? detail.input?.actionTypeId?.category;
  const errorCode = incident.error_code ?? result?.errorDetails?.code;
  const summary =
    incident.summary ?? boundedSummary(result?.externalExecutionSummary ?? result?.errorDetails?.message);
  const externalId = incident.external_execution_id ?? result?.externalExecutionId;
  const completed: WorkflowIncident = {
    ...incident,
    stage: incident.stage || detail.stageName!,
    action: incident.action || detail.actionName!,
    ...(provider ? { provider } : {}),
    ...(category ? { category } : {}),
    ...(errorCode ? { error_code: errorCode } : {}),
    ...(summary ? { summary } : {}),
    ...(externalId
      ? { external_execution_id: truncateBytes(redactText(externalId).text, SUMMARY_MAX_CHARS) }
      : {}),
  };
  return {
    ...completed,
    fingerprint: codePipelineFingerprint({
      pipeline: completed.pipeline,
      stage: completed.stage,
      action: completed.action,
      ...(completed.error_code ? { error_code: completed.error_code } : {}),
      ...(completed.summary ? { summary: completed.summary } : {}),
    }),
  };
}

/** A log stream ARN (`…:log-group:<group>:log-stream:<stream>`) as a location. */
function parseLogStreamArn(arn: string | undefined): LogLocation | undefined {
  const match = /^arn:[^:]+:logs:[^:]*:[^:]*:log-group:(.+):log-stream:(.+)$/.exec(arn ?? '');
  return match ? { group: match[1]!, stream: match[2]! } : undefined;
}

/**
 * Where a CodeBuild build logs: its own `logs` when CodeBuild reports them, else CodeBuild's
 * defaults (group `/aws/codebuild/<project>`, stream = the build's UUID), unless CloudWatch
 * logging is off for it.
 */
function buildLogLocation(buildId: string, build: Build | undefined): LogLocation | undefined {
  const usable = (value: string | undefined) => (value && value !== 'null' ? value : undefined);
  const logs = build?.logs;
  if (logs?.cloudWatchLogs?.status === 'DISABLED') return undefined;
  const separator = buildId.lastIndexOf(':');
  if (separator <= 0) return undefined;
  const project = buildId.slice(0, separator).replace(/^arn:.*:build\//, '');
  return {
    group: usable(logs?.groupName) ?? `/aws/codebuild/${project}`,
    stream: usable(logs?.streamName) ?? buildId.slice(separator + 1),
  };
}

/** PLAINTEXT environment variable values are dropped from the stored build: they are often credentials. */
function storedBuild(build: Build): unknown {
  return {
    ...build,
    environment: build.environment && {
      ...build.environment,
      environmentVariables: build.environment.environmentVariables?.map((variable) =>
        variable.type === 'PLAINTEXT' || variable.type === undefined
          ? { name: variable.name, type: variable.type, value: '[omitted]' }
          : variable,
      ),
    },
  };
}

interface BuildEvidence {
  readonly build?: Build;
  readonly buildId?: string;
  readonly log?: LogTail;
}

async function buildAndLog(
  env: Environment,
  incident: WorkflowIncident,
  failed: readonly ActionExecutionDetail[],
  gaps: EvidenceGap[],
): Promise<BuildEvidence> {
  const isIncident = (detail: ActionExecutionDetail) =>
    detail.stageName === incident.stage && detail.actionName === incident.action;
  const codeBuild = [...failed]
    .sort((a, b) => Number(isIncident(b)) - Number(isIncident(a)))
    .find((detail) => providerOf(detail) === 'CodeBuild' && resultOf(detail)?.externalExecutionId);
  let build: Build | undefined;
  let location: LogLocation | undefined;
  const buildId = codeBuild ? resultOf(codeBuild)?.externalExecutionId : undefined;
  if (buildId) {
    build = await bestEffort(gaps, 'build', `BatchGetBuilds ${buildId}`, async () => {
      const output = await awsClient(CodeBuildClient).send(new BatchGetBuildsCommand({ ids: [buildId] }));
      return output.builds?.find((candidate) => candidate.id === buildId);
    });
    if (!build) gaps.push({ source: 'build', reason: `build ${buildId} was not found` });
    location = buildLogLocation(buildId, build);
  }
  location ??= parseLogStreamArn(
    (codeBuild && resultOf(codeBuild)?.logStreamARN) ??
      failed.map((detail) => resultOf(detail)?.logStreamARN).find(Boolean),
  );
  if (!location) {
    if (failed.length > 0)
      gaps.push({ source: 'log', reason: 'no failed action names a build or a log stream' });
    return { ...(build ? { build } : {}), ...(buildId ? { buildId } : {}) };
  }
  const where = location;
  const log = await bestEffort(gaps, 'log', `GetLogEvents ${where.group} ${where.stream}`, () =>
    readLogTail(awsClient(CloudWatchLogsClient), where, {
      pages: env.SUTURE_LOG_TAIL_PAGES,
      pageEvents: env.SUTURE_LOG_TAIL_PAGE_EVENTS,
    }),
  );
  return { ...(build ? { build } : {}), ...(buildId ? { buildId } : {}), ...(log ? { log } : {}) };
}

interface AlarmEvidence {
  readonly summary: Evidence['alarms'];
  readonly full: ReadonlyArray<MetricAlarm | CompositeAlarm>;
  readonly missing: readonly string[];
}

/** Current state of the watched alarms (metric and composite). Required: a missing alarm state is not "no alarm". */
async function alarms(names: readonly string[]): Promise<AlarmEvidence> {
  const found: Array<MetricAlarm | CompositeAlarm> = [];
  for (let start = 0; start < names.length; start += 100) {
    const chunk = names.slice(start, start + 100);
    let nextToken: string | undefined;
    do {
      const output = await required('DescribeAlarms', () =>
        awsClient(CloudWatchClient).send(
          new DescribeAlarmsCommand({
            AlarmNames: chunk,
            AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
            MaxRecords: 100,
            NextToken: nextToken,
          }),
        ),
      );
      found.push(...(output.MetricAlarms ?? []), ...(output.CompositeAlarms ?? []));
      nextToken = output.NextToken;
    } while (nextToken);
  }
  const byName = new Map(found.map((alarm) => [alarm.AlarmName, alarm]));
  const summary = names
    .flatMap((name) => {
      const alarm = byName.get(name);
      if (!alarm) return [];
      const reason = boundedText(alarm.StateReason, ALARM_REASON_MAX_BYTES);
      return [{ name, state: alarm.StateValue ?? 'UNKNOWN', ...(reason ? { reason } : {}) }];
    })
    .sort((a, b) => (ALARM_STATE_ORDER[a.state] ?? 3) - (ALARM_STATE_ORDER[b.state] ?? 3))
    .slice(0, MAX_ALARMS);
  return { summary, full: found, missing: names.filter((name) => !byName.has(name)) };
}

interface RollbackTarget {
  readonly execution_id: string;
  readonly start_time?: string;
  readonly pipeline_version?: number;
}

/**
 * What a rollback of the failed stage would return to: the most recent execution that
 * succeeded in that stage, is not the failed one, is not itself a rollback, and ran the
 * current pipeline structure (RollbackStage refuses the others).
 */
async function rollbackTarget(
  incident: WorkflowIncident,
  gaps: EvidenceGap[],
): Promise<RollbackTarget | null> {
  if (incident.stage === '') return null;
  const client = awsClient(CodePipelineClient);
  const found = await bestEffort(
    gaps,
    'rollback_target',
    `rollback target of ${incident.pipeline}/${incident.stage}`,
    async () => {
      const state = await client.send(new GetPipelineStateCommand({ name: incident.pipeline }));
      const currentVersion = state.pipelineVersion;
      let checked = 0;
      let nextToken: string | undefined;
      for (let page = 0; page < ROLLBACK_PAGES; page += 1) {
        const output = await client.send(
          new ListPipelineExecutionsCommand({
            pipelineName: incident.pipeline,
            filter: { succeededInStage: { stageName: incident.stage } },
            maxResults: 25,
            nextToken,
          }),
        );
        for (const summary of output.pipelineExecutionSummaries ?? []) {
          const id = summary.pipelineExecutionId;
          if (!id || id === incident.execution_id || summary.executionType === 'ROLLBACK') continue;
          if (checked >= ROLLBACK_CANDIDATES) return null;
          checked += 1;
          const candidate = await client.send(
            new GetPipelineExecutionCommand({ pipelineName: incident.pipeline, pipelineExecutionId: id }),
          );
          const version = candidate.pipelineExecution?.pipelineVersion;
          if (currentVersion === undefined || version === currentVersion) {
            return {
              execution_id: id,
              ...(summary.startTime ? { start_time: summary.startTime.toISOString() } : {}),
              ...(version !== undefined ? { pipeline_version: version } : {}),
            };
          }
        }
        nextToken = output.nextToken;
        if (!nextToken) break;
      }
      return null;
    },
  );
  return found ?? null;
}

/** Failed validations of this stage in the last days (written by Validate; an expired item counts 0). */
async function recentFailedValidations(
  env: Environment,
  incident: WorkflowIncident,
  now: Date,
): Promise<number> {
  const output = await required(`GetItem ${env.SUTURE_GUARD_TABLE}`, () =>
    awsClient(DynamoDBClient).send(
      new GetItemCommand({
        TableName: env.SUTURE_GUARD_TABLE,
        Key: { pk: { S: validationFailuresKey(incident) } },
        ConsistentRead: true,
      }),
    ),
  );
  const item = output.Item;
  const expiresAt = Number(item?.expires_at?.N ?? Number.POSITIVE_INFINITY);
  if (!item || expiresAt <= now.getTime() / 1000) return 0;
  const failures = Number(item.failures?.N ?? '0');
  return Number.isInteger(failures) && failures > 0 ? failures : 0;
}

async function pipelineTags(incident: WorkflowIncident): Promise<Record<string, string>> {
  const resourceArn = `arn:${partitionOf(incident.region)}:codepipeline:${incident.region}:${incident.account}:${incident.pipeline}`;
  const tags: Record<string, string> = {};
  let nextToken: string | undefined;
  for (let page = 0; page < TAG_PAGES; page += 1) {
    const output = await required(`ListTagsForResource ${resourceArn}`, () =>
      awsClient(CodePipelineClient).send(new ListTagsForResourceCommand({ resourceArn, nextToken })),
    );
    for (const tag of output.tags ?? []) if (tag.key) tags[tag.key] = tag.value ?? '';
    nextToken = output.nextToken;
    if (!nextToken) break;
  }
  return tags;
}

function isStageProtected(env: Environment, incident: WorkflowIncident): boolean {
  const stages = env.SUTURE_PROTECTED_STAGES[incident.pipeline] ?? [];
  return stages.includes('*') || stages.includes(incident.stage);
}

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

/**
 * Keeps `$.evidence` under EVIDENCE_SUMMARY_MAX_BYTES: first the excerpt loses its beginning
 * (the end of a log is where builds fail), then free text shrinks. Everything stays in S3.
 */
function fitSummary(summary: Evidence): Evidence {
  let fitted = summary;
  let over = jsonBytes(fitted) - EVIDENCE_SUMMARY_MAX_BYTES;
  if (over <= 0) return fitted;
  const excerpt = Buffer.from(fitted.excerpt);
  // Each byte cut saves at least one byte of JSON (escaped ones save more): cut what is over, plus the marker.
  const keep = Math.max(0, excerpt.length - over - 256);
  let start = excerpt.length - keep;
  while (start < excerpt.length && ((excerpt[start] ?? 0) & 0xc0) === 0x80) start++;
  const lineStart = excerpt.indexOf(10, start);
  const kept = excerpt.toString('utf8', lineStart >= 0 ? lineStart + 1 : start);
  fitted = {
    ...fitted,
    excerpt: `… [excerpt cut to fit the workflow state; the full evidence is in S3]\n${kept}`,
  };
  over = jsonBytes(fitted) - EVIDENCE_SUMMARY_MAX_BYTES;
  if (over <= 0) return fitted;
  const short = (text: string | undefined, max: number) =>
    text === undefined ? undefined : truncateBytes(text, max);
  fitted = {
    ...fitted,
    excerpt: '',
    failed_actions: fitted.failed_actions.map(({ summary: text, ...rest }) => ({
      ...rest,
      ...(text ? { summary: short(text, 128) } : {}),
    })),
    alarms: fitted.alarms.map(({ reason, ...rest }) => ({
      ...rest,
      ...(reason ? { reason: short(reason, 64) } : {}),
    })),
    pipeline_tags: Object.fromEntries(
      Object.entries(fitted.pipeline_tags).map(([key, value]) => [key, truncateBytes(value, 64)]),
    ),
  };
  return fitted;
}

async function appendAudit(env: Environment, incidentId: string, data: unknown, now: Date): Promise<void> {
  // Throttling or a 5xx of the audit table surfaces as TransientAwsError (the workflow retries).
  await new AuditTrail(awsClient(DynamoDBClient), env.SUTURE_AUDIT_TABLE).append(
    incidentId,
    'collect_evidence',
    data,
    now,
  );
}

let environment: Environment | undefined;

/** Test hook: read the environment again on the next call. */
export function resetCollectEvidenceForTests(): void {
  environment = undefined;
}

/** What CollectEvidence returns to the workflow: the state document with the completed incident and the evidence. */
export type CollectedState = WorkflowInput & { readonly evidence: Evidence };

/**
 * Gathers the evidence of one incident: the pipeline execution and its failed actions, the
 * failing build and the end of its log (excerpted and redacted), the watched alarms, the
 * rollback target, the stage's recent failed validations, whether the stage is protected and
 * the pipeline's tags. The full redacted evidence goes to S3 (content-addressed key); the
 * bounded summary (`$.evidence`, under 60 KiB) points to it. Nothing unredacted leaves the
 * function: not the S3 object, not the summary, not the audit record, not a log line.
 *
 * Before anything else it completes the incident from the execution ({@link completeIncident});
 * when that changes the fingerprint, the attempt is counted under the completed fingerprint
 * too and `attempts` are read again for it. The workflow stores the returned document as its
 * whole state (`ResultPath: "$"`), so every later state reads the completed `$.incident`.
 */
export async function collectEvidence(event: unknown, now: Date = new Date()): Promise<CollectedState> {
  environment ??= readEnvironment('collect-evidence', EnvironmentSchema);
  const env = environment;
  const parsed = CollectEvidenceInputSchema.safeParse(event);
  if (!parsed.success) {
    throw new EvidenceInputError(
      `collect-evidence: the state document is invalid: ${describeIssues(parsed.error)}`,
    );
  }
  const { incident } = parsed.data;
  logger.appendKeys({ incident_id: incident.id });
  try {
    return await collect(env, parsed.data, now);
  } finally {
    logger.removeKeys(['incident_id']);
  }
}

/** The attempts before this one, counted under the completed fingerprint when completion changed it. */
async function attemptsFor(
  env: Environment,
  triaged: WorkflowIncident,
  completed: WorkflowIncident,
  attempts: AttemptCounts,
  now: Date,
): Promise<AttemptCounts> {
  if (completed.fingerprint === triaged.fingerprint) return attempts;
  try {
    return await new LoopGuard(awsClient(DynamoDBClient), env.SUTURE_GUARD_TABLE).recordUnder({
      deliveryKey: completed.id,
      fingerprint: completed.fingerprint,
      pipelineKey: `${completed.account}/${completed.region}/${completed.pipeline}`,
      now,
    });
  } catch (error) {
    if (error instanceof LoopGuardUnavailableError && isTransientAwsError(error.cause)) {
      throw new TransientAwsError(error.message, { cause: error });
    }
    throw error;
  }
}

async function collect(env: Environment, state: WorkflowInput, now: Date): Promise<CollectedState> {
  const triaged = state.incident;
  const gaps: EvidenceGap[] = [];
  const [execution, allFailed] = await Promise.all([pipelineExecution(triaged), failedActions(triaged)]);
  const incident = completeIncident(triaged, allFailed);
  const details = incidentFirst(incident, allFailed).slice(0, MAX_FAILED_ACTIONS);
  const alarmNames = [
    ...new Set([...env.SUTURE_ALARM_NAMES, ...(incident.alarm_name ? [incident.alarm_name] : [])]),
  ];
  const [failed, alarmEvidence, target, failures, tags, attempts, source] = await Promise.all([
    buildAndLog(env, incident, details, gaps),
    alarms(alarmNames),
    rollbackTarget(incident, gaps),
    recentFailedValidations(env, incident, now),
    pipelineTags(incident),
    attemptsFor(env, triaged, incident, state.attempts, now),
    bestEffort(gaps, 'source', `source of ${incident.pipeline}`, () => sourceEvidence(incident, execution)),
  ]);
  if (alarmEvidence.missing.length > 0) {
    gaps.push({
      source: 'alarms',
      reason: truncateBytes(`alarms not found: ${alarmEvidence.missing.join(', ')}`, GAP_REASON_MAX_BYTES),
    });
  }
  const { build, buildId, log } = failed;
  const stageProtected = isStageProtected(env, incident);
  const completed =
    incident.stage !== triaged.stage ||
    incident.action !== triaged.action ||
    incident.fingerprint !== triaged.fingerprint;
  const completion = !completed
    ? null
    : {
        stage: incident.stage,
        action: incident.action,
        ...(incident.provider ? { provider: incident.provider } : {}),
        fingerprint: incident.fingerprint,
        triaged: { stage: triaged.stage, action: triaged.action, fingerprint: triaged.fingerprint },
        attempts,
      };

  // The S3 object: everything collected, redacted. The log tail is redacted already.
  const { value: facts, report: factsReport } = redactValue({
    format: 'suture.evidence/v1',
    collected_at: now.toISOString(),
    incident,
    pipeline_execution: execution,
    failed_actions: details,
    build: build ? storedBuild(build) : null,
    alarms: alarmEvidence.full,
    alarms_missing: alarmEvidence.missing,
    rollback_target: target,
    recent_failed_validations: failures,
    stage_protected: stageProtected,
    pipeline_tags: tags,
    source: source ?? null,
    gaps,
  });
  const redaction: RedactionReport = log ? mergeReports(factsReport, log.redaction) : factsReport;
  const logFacts = log
    ? {
        group: log.group,
        stream: log.stream,
        pages_read: log.pagesRead,
        events_read: log.eventsRead,
        bytes_read: log.bytesRead,
        reached_start: log.reachedStart,
        excerpt: log.excerpt,
        excerpt_truncated: log.excerptTruncated,
        regions: log.regions,
        tail: log.storedText,
        tail_truncated: log.storedTruncated,
      }
    : null;
  const body = JSON.stringify({ ...(facts as Record<string, unknown>), log: logFacts, redaction });
  const sha256 = createHash('sha256').update(body).digest('hex');
  const object = {
    bucket: env.SUTURE_EVIDENCE_BUCKET,
    key: `evidence/${incident.id}/${sha256}.json`,
    sha256,
    bytes: Buffer.byteLength(body),
  };
  await required(`PutObject s3://${object.bucket}/${object.key}`, () =>
    awsClient(S3Client, s3ClientConfig()).send(
      new PutObjectCommand({
        Bucket: object.bucket,
        Key: object.key,
        Body: body,
        ContentType: 'application/json',
        ...(env.SUTURE_EVIDENCE_KMS_KEY_ID
          ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: env.SUTURE_EVIDENCE_KMS_KEY_ID }
          : { ServerSideEncryption: 'AES256' }),
      }),
    ),
  );

  const summary: Evidence = fitSummary({
    pipeline_execution: {
      status: execution.status ?? 'Unknown',
      ...(execution.executionType ? { execution_type: execution.executionType } : {}),
      ...(execution.trigger?.triggerType ? { trigger: execution.trigger.triggerType } : {}),
    },
    failed_actions: details.map((detail) => {
      const result = resultOf(detail);
      const text = boundedText(
        result?.externalExecutionSummary ?? result?.errorDetails?.message,
        ACTION_SUMMARY_MAX_BYTES,
      );
      const provider = providerOf(detail);
      return {
        stage: detail.stageName ?? '',
        action: detail.actionName ?? '',
        status: detail.status ?? 'Failed',
        ...(provider ? { provider } : {}),
        ...(result?.errorDetails?.code ? { error_code: result.errorDetails.code } : {}),
        ...(text ? { summary: text } : {}),
        ...(result?.externalExecutionId
          ? {
              external_execution_id: truncateBytes(
                redactText(result.externalExecutionId).text,
                SUMMARY_MAX_CHARS,
              ),
            }
          : {}),
      };
    }),
    ...(buildId
      ? {
          build: {
            id: buildId,
            status: build?.buildStatus ?? 'NOT_FOUND',
            ...(log ? { log_group: log.group, log_stream: log.stream } : {}),
          },
        }
      : {}),
    excerpt: log?.excerpt ?? '',
    alarms: alarmEvidence.summary,
    rollback_target: target ? { execution_id: target.execution_id } : null,
    recent_failed_validations: failures,
    stage_protected: stageProtected,
    pipeline_tags: Object.fromEntries(
      Object.entries(tags).map(([key, value]) => [redactText(key).text, redactText(value).text]),
    ),
    object,
    source: source ?? null,
    ...(log
      ? {
          log: {
            events_read: log.eventsRead,
            bytes_read: log.bytesRead,
            reached_start: log.reachedStart,
            excerpt_truncated: log.excerptTruncated,
            triggers: [...new Set(log.regions.map((region) => region.trigger))].slice(0, 10),
          },
        }
      : {}),
    gaps: gaps.slice(0, 10),
    redactions: redaction.total,
  });

  await appendAudit(
    env,
    incident.id,
    {
      object,
      pipeline_execution: summary.pipeline_execution,
      failed_actions: summary.failed_actions.map(({ stage, action, status, provider, error_code }) => ({
        stage,
        action,
        status,
        provider,
        error_code,
      })),
      build: summary.build ?? null,
      alarms: summary.alarms.map(({ name, state }) => ({ name, state })),
      rollback_target: summary.rollback_target,
      recent_failed_validations: failures,
      stage_protected: stageProtected,
      source: source ?? null,
      log: log
        ? { group: log.group, stream: log.stream, events_read: log.eventsRead, bytes_read: log.bytesRead }
        : null,
      gaps,
      evidence_redaction: redaction,
      incident_completed: completion,
    },
    now,
  );

  metrics.addMetric('EvidenceCollected', MetricUnit.Count, 1);
  metrics.addMetric('EvidenceObjectBytes', MetricUnit.Bytes, object.bytes);
  metrics.addMetric('EvidenceLogBytesRead', MetricUnit.Bytes, log?.bytesRead ?? 0);
  metrics.addMetric('EvidenceRedactions', MetricUnit.Count, redaction.total);
  logger.info('evidence collected', {
    object_key: object.key,
    object_bytes: object.bytes,
    failed_actions: summary.failed_actions.length,
    log_bytes_read: log?.bytesRead ?? 0,
    redactions: redaction.total,
    gaps: gaps.map((gap) => gap.source),
    ...(completion ? { completed_stage: incident.stage, completed_action: incident.action } : {}),
  });
  return { ...state, incident, attempts, evidence: EvidenceSchema.parse(summary) };
}

/** The Lambda entry point: {@link collectEvidence} with Powertools logging, metrics and tracing. */
export const handler = middy((event: unknown) => collectEvidence(event))
  .use(injectLambdaContext(logger, { logEvent: false }))
  .use(logMetrics(metrics))
  .use(captureLambdaHandler(tracer));
