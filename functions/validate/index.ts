import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  DescribeAlarmsCommand,
  type CompositeAlarm,
  type MetricAlarm,
  CloudWatchClient,
} from '@aws-sdk/client-cloudwatch';
import {
  BatchGetBuildsCommand,
  ListBuildsForProjectCommand,
  CodeBuildClient,
} from '@aws-sdk/client-codebuild';
import { GetPipelineExecutionCommand, CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { ConditionalCheckFailedException, UpdateItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AuditTrail } from '../commons/audit';
import { awsClient } from '../commons/aws/clients';
import { readEnvironment } from '../commons/config';
import { lambdaHandler } from '../commons/lambda-handler';
import { isTransientAwsError, rethrowAws } from '../commons/errors';
import { emitMetric, logger, metrics, millisecondsSince } from '../commons/observability';
import { describeIssues } from '../commons/zod';
import { redactText } from '../commons/redact';
import { validationFailuresKey } from '../commons/workflow/release-checks';
import { ValidationResultSchema, type ValidationResult } from '../commons/workflow/schema';
import { ValidationInputError, ValidationPendingError } from './errors';
import {
  EnvironmentSchema,
  VALIDATION_FAILURES_TTL_SECONDS,
  ValidateInputSchema,
  type Environment,
  type Observation,
  type ValidateInput,
} from './schema';

/** Pipeline execution states that have not finished yet. */
const RUNNING_EXECUTION = new Set(['InProgress', 'Stopping']);
/** Builds of the smoke project inspected (newest first per ListBuildsForProject; BatchGetBuilds takes 100). */
const SMOKE_BUILDS_INSPECTED = 25;

/** Why a check could not be made, without leaking anything the error text carries. */
function unobservedReason(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return redactText(text.slice(0, 300)).text;
}

/**
 * Runs one check. Throttling and 5xx become TransientAwsError (the workflow retries Validate);
 * any other AWS error makes the check "not observed", which is never healthy. Non-AWS errors
 * (bugs, ValidationPendingError) propagate.
 */
async function observe(what: string, check: () => Promise<Observation>): Promise<Observation> {
  try {
    return await check();
  } catch (error) {
    if (isTransientAwsError(error)) rethrowAws(error, what);
    if (error instanceof Error && '$metadata' in error)
      return { observed: false, reason: unobservedReason(error) };
    throw error;
  }
}

async function pipelineObservation(input: ValidateInput, executionId: string): Promise<Observation> {
  const { incident } = input;
  return observe(`GetPipelineExecution ${incident.pipeline} ${executionId}`, async () => {
    const output = await awsClient(CodePipelineClient).send(
      new GetPipelineExecutionCommand({ pipelineName: incident.pipeline, pipelineExecutionId: executionId }),
    );
    const status = output.pipelineExecution?.status;
    if (!status) return { observed: false, execution_id: executionId, reason: 'the execution has no status' };
    if (RUNNING_EXECUTION.has(status)) {
      throw new ValidationPendingError(
        `pipeline execution ${executionId} of ${incident.pipeline} is ${status}`,
      );
    }
    return {
      observed: true,
      passed: status === 'Succeeded',
      execution_id: executionId,
      status,
      ...(output.pipelineExecution?.executionType
        ? { execution_type: output.pipelineExecution.executionType }
        : {}),
    };
  }).then((observation) => ({ execution_id: executionId, ...observation }));
}

/** The smoke project's newest build started after the repair must have SUCCEEDED. */
async function smokeObservation(project: string, repairedAt: Date): Promise<Observation> {
  return observe(`smoke build of ${project}`, async () => {
    const client = awsClient(CodeBuildClient);
    const listed = await client.send(
      new ListBuildsForProjectCommand({ projectName: project, sortOrder: 'DESCENDING' }),
    );
    const ids = (listed.ids ?? []).slice(0, SMOKE_BUILDS_INSPECTED);
    const builds =
      ids.length > 0 ? ((await client.send(new BatchGetBuildsCommand({ ids }))).builds ?? []) : [];
    const after = builds
      .filter((build) => build.startTime && build.startTime.getTime() >= repairedAt.getTime())
      .sort((a, b) => b.startTime!.getTime() - a.startTime!.getTime());
    const newest = after[0];
    if (!newest) {
      return { observed: false, reason: `no build of ${project} started after ${repairedAt.toISOString()}` };
    }
    if (newest.buildStatus === 'IN_PROGRESS') {
      throw new ValidationPendingError(`smoke build ${newest.id} is still running`);
    }
    return {
      observed: true,
      passed: newest.buildStatus === 'SUCCEEDED',
      build_id: newest.id,
      status: newest.buildStatus,
      started_at: newest.startTime!.toISOString(),
    };
  }).then((observation) => ({ project, ...observation }));
}

/** Each watched alarm must be OK; ALARM and INSUFFICIENT_DATA are not healthy, a missing alarm is not observed. */
async function alarmObservations(names: readonly string[]): Promise<Record<string, Observation>> {
  if (names.length === 0) return {};
  const found = new Map<string, MetricAlarm | CompositeAlarm>();
  const lookup = await observe('DescribeAlarms', async () => {
    for (let start = 0; start < names.length; start += 100) {
      let nextToken: string | undefined;
      do {
        const output = await awsClient(CloudWatchClient).send(
          new DescribeAlarmsCommand({
            AlarmNames: names.slice(start, start + 100),
            AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
            MaxRecords: 100,
            NextToken: nextToken,
          }),
        );
        for (const alarm of [...(output.MetricAlarms ?? []), ...(output.CompositeAlarms ?? [])]) {
          if (alarm.AlarmName) found.set(alarm.AlarmName, alarm);
        }
        nextToken = output.NextToken;
      } while (nextToken);
    }
    return { observed: true, passed: true };
  });
  return Object.fromEntries(
    names.map((name): [string, Observation] => {
      if (!lookup.observed) return [name, lookup];
      const alarm = found.get(name);
      if (!alarm?.StateValue) return [name, { observed: false, reason: 'alarm not found' }];
      return [
        name,
        {
          observed: true,
          passed: alarm.StateValue === 'OK',
          state: alarm.StateValue,
          ...(alarm.StateUpdatedTimestamp ? { since: alarm.StateUpdatedTimestamp.toISOString() } : {}),
        },
      ];
    }),
  );
}

/**
 * Counts one failed validation for the stage, once per incident (a retried Validate does not
 * count twice). The counter lives VALIDATION_FAILURES_TTL_SECONDS after its last increment.
 * Returns false when this incident was already counted.
 */
async function countFailure(env: Environment, input: ValidateInput, now: Date): Promise<boolean> {
  const { incident } = input;
  const epoch = Math.floor(now.getTime() / 1000);
  try {
    await awsClient(DynamoDBClient).send(
      new UpdateItemCommand({
        TableName: env.SUTURE_GUARD_TABLE,
        Key: { pk: { S: validationFailuresKey(incident) } },
        UpdateExpression:
          'ADD failures :one, incidents :incident SET expires_at = :expires, updated_at = :now',
        ConditionExpression: 'attribute_not_exists(incidents) OR NOT contains(incidents, :id)',
        ExpressionAttributeValues: {
          ':one': { N: '1' },
          ':incident': { SS: [incident.id] },
          ':id': { S: incident.id },
          ':expires': { N: String(epoch + VALIDATION_FAILURES_TTL_SECONDS) },
          ':now': { S: now.toISOString() },
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    return rethrowAws(error, `UpdateItem ${env.SUTURE_GUARD_TABLE}`);
  }
}

async function appendAudit(env: Environment, incidentId: string, data: unknown, now: Date): Promise<void> {
  // Throttling or a 5xx of the audit table surfaces as TransientAwsError (the workflow retries).
  await new AuditTrail(awsClient(DynamoDBClient), env.SUTURE_AUDIT_TABLE).append(
    incidentId,
    'validate',
    data,
    now,
  );
}

let environment: Environment | undefined;

/** Test hook: read the environment again on the next call. */
export function resetValidateForTests(): void {
  environment = undefined;
}

/**
 * Judges a repair by what can be observed after the bake time: the repaired pipeline execution
 * succeeded, the smoke project's latest build after the repair succeeded (when configured) and
 * every watched alarm is OK. Still running → ValidationPendingError (the workflow retries).
 * A check that could not be made is reported as not observed and is never healthy. An unhealthy
 * result counts one failed validation for the stage, which CollectEvidence reports next time.
 */
export async function validate(event: unknown, now: Date = new Date()): Promise<ValidationResult> {
  environment ??= readEnvironment('validate', EnvironmentSchema);
  const env = environment;
  const parsed = ValidateInputSchema.safeParse(event);
  if (!parsed.success) {
    throw new ValidationInputError(
      `validate: the state document is invalid: ${describeIssues(parsed.error)}`,
    );
  }
  const input = parsed.data;
  const { incident, execution } = input;
  logger.appendKeys({ incident_id: incident.id });
  try {
    const executionId = execution.pipeline_execution_id ?? incident.execution_id;
    const pipeline = await pipelineObservation(input, executionId);
    const repairedAt = new Date(execution.at);
    const smoke = env.SUTURE_SMOKE_PROJECT
      ? await smokeObservation(
          env.SUTURE_SMOKE_PROJECT,
          Number.isNaN(repairedAt.getTime()) ? now : repairedAt,
        )
      : undefined;
    const alarms = await alarmObservations(env.SUTURE_ALARM_NAMES);
    const checks: Observation[] = [pipeline, ...(smoke ? [smoke] : []), ...Object.values(alarms)];
    const healthy = checks.every((check) => check.observed && check.passed);
    const result = ValidationResultSchema.parse({
      healthy,
      observed: {
        pipeline_execution: pipeline,
        ...(smoke ? { smoke_build: smoke } : {}),
        alarms,
      },
      checked_at: now.toISOString(),
    });
    const counted = healthy ? false : await countFailure(env, input, now);
    await appendAudit(
      env,
      incident.id,
      { action: execution.action, outcome: execution.outcome, validation: result, failure_counted: counted },
      now,
    );
    metrics.addMetric(healthy ? 'ValidationsHealthy' : 'ValidationsUnhealthy', MetricUnit.Count, 1);
    const sinceDetection = healthy ? millisecondsSince(incident.detected_at, now) : undefined;
    if (sinceDetection !== undefined) emitMetric('TimeToRecovery', MetricUnit.Milliseconds, sinceDetection);
    logger.info('validation', {
      healthy,
      not_observed: checks.filter((check) => !check.observed).length,
      failure_counted: counted,
    });
    return result;
  } finally {
    logger.removeKeys(['incident_id']);
  }
}

/** The Lambda entry point: {@link validate} with Powertools logging, metrics and tracing. */
export const handler = lambdaHandler((event: unknown) => validate(event));
