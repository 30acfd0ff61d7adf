import { randomUUID } from 'node:crypto';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { CodeBuildClient, CreateProjectCommand, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { RetryStageExecutionCommand } from '@aws-sdk/client-codepipeline';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { AuditTrail } from '../../functions/commons/audit';
import { resetAwsClients } from '../../functions/commons/aws/clients';
import { TransientAwsError } from '../../functions/commons/errors';
import {
  ValidationResultSchema,
  type ExecutionResult,
  type WorkflowInput,
} from '../../functions/commons/workflow/schema';
import { handler, resetValidateForTests, validate } from '../../functions/validate';
import { ValidationInputError, ValidationPendingError } from '../../functions/validate/errors';
import { validationFailuresKey } from '../../functions/commons/workflow/release-checks';
import type { CodePipelineFake } from '../../local/codepipeline/server';
import { createTable, emulatorClientConfig } from '../helpers/aws';
import {
  deliveryPipeline,
  fakeCodePipelineClient,
  FAKE_ACCOUNT,
  FAKE_REGION,
  startCodePipelineFake,
} from '../helpers/codepipeline';
import { fakeLambdaContext } from '../helpers/lambda-context';

describe('validate handler (moto: DynamoDB, CloudWatch, CodeBuild; CodePipeline fake)', () => {
  const config = emulatorClientConfig();
  const dynamo = new DynamoDBClient(config);
  const cloudWatch = new CloudWatchClient(config);
  const codeBuild = new CodeBuildClient(config);
  const suffix = randomUUID().slice(0, 8);
  const PIPELINE = 'myPipeline';
  const SMOKE_PROJECT = `suture-smoke-${suffix}`;
  const ALARM = `suture-validate-5xx-${suffix}`;
  const savedEnv = { ...process.env };
  let fake: CodePipelineFake;
  let guardTable: string;
  let auditTable: string;

  const setAlarm = (state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA') =>
    cloudWatch.send(
      new SetAlarmStateCommand({ AlarmName: ALARM, StateValue: state, StateReason: `test: ${state}` }),
    );

  beforeAll(async () => {
    fake = await startCodePipelineFake();
    await cloudWatch.send(
      new PutMetricAlarmCommand({
        AlarmName: ALARM,
        Namespace: 'Suture/Test',
        MetricName: ALARM,
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    );
    await codeBuild.send(
      new CreateProjectCommand({
        name: SMOKE_PROJECT,
        source: { type: 'S3', location: 'artifacts/smoke.zip' },
        artifacts: { type: 'NO_ARTIFACTS' },
        environment: {
          type: 'LINUX_CONTAINER',
          image: 'aws/codebuild/standard:7.0',
          computeType: 'BUILD_GENERAL1_SMALL',
        },
        serviceRole: `arn:aws:iam::${FAKE_ACCOUNT}:role/codebuild`,
      }),
    );
  });

  beforeEach(async () => {
    guardTable = await createTable(dynamo, 'suture-guard', 'pk');
    auditTable = await createTable(dynamo, 'suture-audit', 'incident_id', 'seq');
    await setAlarm('OK');
    fake.reset();
    fake.addPipeline(deliveryPipeline(PIPELINE));
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: config.endpoint,
      AWS_ENDPOINT_URL_CODEPIPELINE: fake.endpoint,
      AWS_REGION: FAKE_REGION,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      SUTURE_GUARD_TABLE: guardTable,
      SUTURE_AUDIT_TABLE: auditTable,
      SUTURE_ALARM_NAMES: JSON.stringify([ALARM]),
    });
    delete process.env.SUTURE_SMOKE_PROJECT;
    resetAwsClients();
    resetValidateForTests();
  });

  afterEach(() => {
    process.env = { ...savedEnv };
  });

  afterAll(async () => {
    [dynamo, cloudWatch, codeBuild].forEach((client) => client.destroy());
    await fake.stop();
  });

  /** A failed Deploy, retried by ExecuteRepair at `at`; the hook decides how the retry ends. */
  function retriedDeploy(outcome: 'Succeeded' | 'Failed' | 'InProgress') {
    const failed = fake.addExecution(PIPELINE, { failAt: { stage: 'Deploy', action: 'Deploy' } });
    const stateDocument = (
      execution: Partial<ExecutionResult> = {},
    ): WorkflowInput & { execution: ExecutionResult } => ({
      incident: {
        id: `inc-${randomUUID()}`,
        source: 'codepipeline',
        detail_type: 'CodePipeline Action Execution State Change',
        state: 'FAILED',
        pipeline: PIPELINE,
        stage: 'Deploy',
        action: 'Deploy',
        execution_id: failed.pipelineExecutionId,
        account: FAKE_ACCOUNT,
        region: FAKE_REGION,
        event_id: 'evt-0002',
        event_time: '2026-11-23T10:00:00Z',
        detected_at: '2026-11-23T10:00:01Z',
        fingerprint: 'fp-fedcba9876543210fedcba9876543210',
      },
      attempts: { fingerprint_24h: 0, pipeline_1h: 0 },
      execution: {
        action: 'retry_stage',
        outcome: 'executed',
        pipeline_execution_id: failed.pipelineExecutionId,
        detail: { retryMode: 'FAILED_ACTIONS' },
        at: new Date(Date.now() - 60_000).toISOString(),
        ...execution,
      },
    });
    fake.hooks.onRetryStage = () => outcome;
    return { failed, stateDocument };
  }

  /** What ExecuteRepair did: one RetryStageExecution through the real client. */
  async function retry(failedId: string) {
    const client = fakeCodePipelineClient(fake);
    await client.send(
      new RetryStageExecutionCommand({
        pipelineName: PIPELINE,
        stageName: 'Deploy',
        pipelineExecutionId: failedId,
        retryMode: 'FAILED_ACTIONS',
      }),
    );
    client.destroy();
  }

  const failureCounter = async (state: WorkflowInput) => {
    const output = await dynamo.send(
      new GetItemCommand({
        TableName: guardTable,
        Key: { pk: { S: validationFailuresKey(state.incident) } },
      }),
    );
    return output.Item;
  };

  it('asks to be retried while the repaired execution is still running, and writes nothing', async () => {
    // Prepare
    const { failed, stateDocument } = retriedDeploy('InProgress');
    await retry(failed.pipelineExecutionId);
    const state = stateDocument();

    // Act
    const validating = validate(state);

    // Assess
    await expect(validating).rejects.toThrow(ValidationPendingError);
    await expect(validating).rejects.toMatchObject({ name: 'ValidationPendingError' });
    expect(await failureCounter(state)).toBeUndefined();
    expect(await new AuditTrail(dynamo, auditTable).records(state.incident.id)).toEqual([]);
  });

  it('is healthy when the execution succeeded, the smoke build after the repair succeeded and the alarm is OK', async () => {
    // Prepare
    const { failed, stateDocument } = retriedDeploy('Succeeded');
    await retry(failed.pipelineExecutionId);
    const state = stateDocument();
    const { build } = await codeBuild.send(new StartBuildCommand({ projectName: SMOKE_PROJECT }));
    process.env.SUTURE_SMOKE_PROJECT = SMOKE_PROJECT;
    const now = new Date();

    // Act
    const result = (await handler(state, fakeLambdaContext('suture-validate'))) as Awaited<
      ReturnType<typeof validate>
    >;

    // Assess
    expect(ValidationResultSchema.parse(result)).toBeTruthy();
    expect(result.healthy).toBe(true);
    expect(result.observed).toEqual({
      pipeline_execution: {
        execution_id: failed.pipelineExecutionId,
        observed: true,
        passed: true,
        status: 'Succeeded',
        execution_type: 'STANDARD',
      },
      smoke_build: {
        project: SMOKE_PROJECT,
        observed: true,
        passed: true,
        build_id: build!.id,
        status: 'SUCCEEDED', // moto completes every build it is asked about
        started_at: expect.any(String),
      },
      alarms: { [ALARM]: { observed: true, passed: true, state: 'OK', since: expect.any(String) } },
    });
    expect(new Date(result.checked_at).getTime()).toBeGreaterThanOrEqual(now.getTime() - 1000);
    expect(await failureCounter(state)).toBeUndefined();
    const audit = await new AuditTrail(dynamo, auditTable).records(state.incident.id);
    expect(audit.map((record) => record.step)).toEqual(['validate']);
    expect(audit[0]?.data).toMatchObject({ validation: { healthy: true }, failure_counted: false });
  });

  it('is unhealthy when an alarm fires, and counts one failed validation per incident', async () => {
    // Prepare
    const { failed, stateDocument } = retriedDeploy('Succeeded');
    await retry(failed.pipelineExecutionId);
    await setAlarm('ALARM');
    const state = stateDocument();
    const other = { ...state, incident: { ...state.incident, id: `inc-${randomUUID()}` } };
    const now = new Date('2026-11-23T11:00:00Z');

    // Act
    const first = await validate(state, now);
    const retried = await validate(state, now);
    const second = await validate(other, now);

    // Assess
    expect(first.healthy).toBe(false);
    expect(first.observed.alarms).toEqual({
      [ALARM]: { observed: true, passed: false, state: 'ALARM', since: expect.any(String) },
    });
    expect(first.observed.pipeline_execution).toMatchObject({
      observed: true,
      passed: true,
      status: 'Succeeded',
    });
    expect([retried.healthy, second.healthy]).toEqual([false, false]);
    const counter = await failureCounter(state);
    expect(counter?.failures?.N).toBe('2');
    expect(Number(counter?.expires_at?.N)).toBe(now.getTime() / 1000 + 7 * 24 * 3600);
    const audit = await new AuditTrail(dynamo, auditTable).records(state.incident.id);
    expect(audit.map((record) => (record.data as { failure_counted: boolean }).failure_counted)).toEqual([
      true,
      false,
    ]);
  });

  it('is unhealthy when the repaired execution failed again', async () => {
    // Prepare
    const { failed, stateDocument } = retriedDeploy('Failed');
    await retry(failed.pipelineExecutionId);
    const state = stateDocument();

    // Act
    const result = await validate(state);

    // Assess
    expect(result.healthy).toBe(false);
    expect(result.observed.pipeline_execution).toMatchObject({
      observed: true,
      passed: false,
      status: 'Failed',
    });
    expect((await failureCounter(state))?.failures?.N).toBe('1');
  });

  it('reports checks it could not make as not observed, never as healthy', async () => {
    // Prepare
    const { stateDocument } = retriedDeploy('Succeeded');
    const state = stateDocument({
      pipeline_execution_id: '00000000-0000-4000-8000-000000000000',
      at: new Date(Date.now() + 3600_000).toISOString(),
    });
    process.env.SUTURE_ALARM_NAMES = JSON.stringify([ALARM, `suture-missing-${suffix}`]);
    process.env.SUTURE_SMOKE_PROJECT = SMOKE_PROJECT;

    // Act
    const result = await validate(state);

    // Assess
    expect(result.healthy).toBe(false);
    expect(result.observed.pipeline_execution).toEqual({
      execution_id: '00000000-0000-4000-8000-000000000000',
      observed: false,
      reason: expect.stringContaining('PipelineExecutionNotFoundException'),
    });
    expect(result.observed.smoke_build).toEqual({
      project: SMOKE_PROJECT,
      observed: false,
      reason: expect.stringContaining('no build of'),
    });
    expect(result.observed.alarms).toEqual({
      [ALARM]: { observed: true, passed: true, state: 'OK', since: expect.any(String) },
      [`suture-missing-${suffix}`]: { observed: false, reason: 'alarm not found' },
    });
    expect((await failureCounter(state))?.failures?.N).toBe('1');
  });

  it('turns a throttled CodePipeline into TransientAwsError', async () => {
    // Prepare
    const { stateDocument } = retriedDeploy('Succeeded');
    fake.injectFault({ operation: 'GetPipelineExecution', error: 'ThrottlingException', times: 10 });

    // Act
    const validating = validate(stateDocument());

    // Assess
    await expect(validating).rejects.toThrow(TransientAwsError);
    fake.clearFaults();
  });

  it('refuses a state document without $.execution, naming the field', async () => {
    // Prepare
    const { stateDocument } = retriedDeploy('Succeeded');
    const { execution: _execution, ...withoutExecution } = stateDocument();

    // Act
    const validating = validate(withoutExecution);

    // Assess
    await expect(validating).rejects.toThrow(ValidationInputError);
    await expect(validating).rejects.toThrow(/execution/);
  });
});
