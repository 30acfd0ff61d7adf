import { createHash, randomUUID } from 'node:crypto';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient, CreateProjectCommand, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { collectEvidence, handler, resetCollectEvidenceForTests } from '../../functions/collect-evidence';
import { incidentFromCodePipeline } from '../../functions/triage';
import { CodePipelineEventSchema } from '../../functions/triage/schema';
import { EvidenceInputError } from '../../functions/collect-evidence/errors';
import { AuditTrail } from '../../functions/commons/audit';
import { resetAwsClients } from '../../functions/commons/aws/clients';
import { TransientAwsError } from '../../functions/commons/errors';
import { EvidenceSchema, type Evidence, type WorkflowInput } from '../../functions/commons/workflow/schema';
import { resetValidateForTests, validate } from '../../functions/validate';
import { validationFailuresKey } from '../../functions/commons/workflow/release-checks';
import type { CodePipelineFake } from '../../local/codepipeline/server';
import { createTable, emulatorClientConfig } from '../helpers/aws';
import { deliveryPipeline, FAKE_ACCOUNT, FAKE_REGION, startCodePipelineFake } from '../helpers/codepipeline';
import { captureOutput, fakeLambdaContext } from '../helpers/lambda-context';

// Fake secrets are assembled at run time so that no scanner flags this file; none is real.
const AWS_KEY_ID = ['AKIA', 'IOSFODNN7EXAMPLE'].join('');
const AWS_SECRET = ['wJalrXUtnFEMI', 'K7MDENG', 'bPxRfiCYEXAMPLEKEY'].join('/');
const GITHUB_TOKEN = ['ghp', 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A'].join('_');
const ANSI_KEY_ID = ['AKIA', 'I44QH8DHBEXAMPLE'].join('');
const SECRETS = [AWS_KEY_ID, AWS_SECRET, GITHUB_TOKEN, ANSI_KEY_ID];

/** A failing npm build that leaks credentials on the way. */
function leakyBuildLog(): string[] {
  return [
    '[Container] 2026/11/23 10:00:01 Running command npm ci',
    ...Array.from({ length: 150 }, (_, i) => `added package ${i} in 0.${i}s`),
    // Right before the failure, so an unredacted excerpt would show them.
    `[Container] 2026/11/23 10:02:58 export AWS_ACCESS_KEY_ID=${AWS_KEY_ID}`,
    `aws_secret_access_key = ${AWS_SECRET}`,
    `Cloning into https://x-access-token:${GITHUB_TOKEN}@github.com/acme/app.git`,
    `\u001b[31m${ANSI_KEY_ID}\u001b[0m printed by a debug step`,
    'src/index.ts(12,5): error TS2345: Argument of type string is not assignable to parameter of type number.',
    '[Container] 2026/11/23 10:03:00 Command did not exit successfully npm run build exit status 2',
    '[Container] 2026/11/23 10:03:00 Phase complete: BUILD State: FAILED',
  ];
}

describe('collect-evidence handler (moto: S3, DynamoDB, Logs, CodeBuild, CloudWatch; CodePipeline fake)', () => {
  const config = emulatorClientConfig();
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const dynamo = new DynamoDBClient(config);
  const logs = new CloudWatchLogsClient(config);
  const codeBuild = new CodeBuildClient(config);
  const cloudWatch = new CloudWatchClient(config);
  const suffix = randomUUID().slice(0, 8);
  const PIPELINE = 'myPipeline';
  const PROJECT = `suture-ce-build-${suffix}`;
  const BUCKET = `suture-evidence-${suffix}`;
  const FIRING_ALARM = `suture-ce-5xx-${suffix}`;
  const QUIET_ALARM = `suture-ce-latency-${suffix}`;
  const savedEnv = { ...process.env };
  let fake: CodePipelineFake;
  let guardTable: string;
  let auditTable: string;

  beforeAll(async () => {
    fake = await startCodePipelineFake();
    await s3.send(
      new CreateBucketCommand({
        Bucket: BUCKET,
        CreateBucketConfiguration: { LocationConstraint: FAKE_REGION },
      }),
    );
    await codeBuild.send(
      new CreateProjectCommand({
        name: PROJECT,
        source: { type: 'S3', location: 'artifacts/source.zip' },
        artifacts: { type: 'NO_ARTIFACTS' },
        environment: {
          type: 'LINUX_CONTAINER',
          image: 'aws/codebuild/standard:7.0',
          computeType: 'BUILD_GENERAL1_SMALL',
        },
        serviceRole: `arn:aws:iam::${FAKE_ACCOUNT}:role/codebuild`,
      }),
    );
    await logs.send(new CreateLogGroupCommand({ logGroupName: `/aws/codebuild/${PROJECT}` }));
    for (const [name, state] of [
      [FIRING_ALARM, 'ALARM'],
      [QUIET_ALARM, 'OK'],
    ] as const) {
      await cloudWatch.send(
        new PutMetricAlarmCommand({
          AlarmName: name,
          Namespace: 'Suture/Test',
          MetricName: name,
          Statistic: 'Sum',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanThreshold',
        }),
      );
      await cloudWatch.send(
        new SetAlarmStateCommand({
          AlarmName: name,
          StateValue: state,
          StateReason: state === 'ALARM' ? `Threshold crossed; caller token ${GITHUB_TOKEN}` : 'quiet',
        }),
      );
    }
  });

  beforeEach(async () => {
    guardTable = await createTable(dynamo, 'suture-guard', 'pk');
    auditTable = await createTable(dynamo, 'suture-audit', 'incident_id', 'seq');
    fake.reset();
    fake.addPipeline(deliveryPipeline(PIPELINE, PROJECT));
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: config.endpoint,
      AWS_ENDPOINT_URL_CODEPIPELINE: fake.endpoint,
      AWS_REGION: FAKE_REGION,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      SUTURE_S3_FORCE_PATH_STYLE: 'true',
      SUTURE_EVIDENCE_BUCKET: BUCKET,
      SUTURE_GUARD_TABLE: guardTable,
      SUTURE_AUDIT_TABLE: auditTable,
      SUTURE_ALARM_NAMES: JSON.stringify([QUIET_ALARM, FIRING_ALARM]),
      SUTURE_PROTECTED_STAGES: JSON.stringify({ [PIPELINE]: ['Deploy'] }),
    });
    resetAwsClients();
    resetCollectEvidenceForTests();
    resetValidateForTests();
  });

  afterEach(() => {
    process.env = { ...savedEnv };
  });

  afterAll(async () => {
    [s3, dynamo, logs, codeBuild, cloudWatch].forEach((client) => client.destroy());
    await fake.stop();
  });

  /** Starts a build in moto and writes `lines` to its log stream, in batches of ≤ 1 MB. */
  async function buildWithLog(lines: readonly string[]): Promise<string> {
    const { build } = await codeBuild.send(new StartBuildCommand({ projectName: PROJECT }));
    const buildId = build!.id!;
    const logStreamName = buildId.split(':')[1]!;
    await logs.send(new CreateLogStreamCommand({ logGroupName: `/aws/codebuild/${PROJECT}`, logStreamName }));
    const start = Date.now() - lines.length;
    for (let offset = 0; offset < lines.length;) {
      const batch: Array<{ timestamp: number; message: string }> = [];
      let bytes = 0;
      while (offset < lines.length && batch.length < 1000 && bytes < 900_000) {
        batch.push({ timestamp: start + offset, message: `${lines[offset]}\n` });
        bytes += lines[offset]!.length + 27;
        offset += 1;
      }
      await logs.send(
        new PutLogEventsCommand({
          logGroupName: `/aws/codebuild/${PROJECT}`,
          logStreamName,
          logEvents: batch,
        }),
      );
    }
    return buildId;
  }

  /** Two good releases, then one whose Build action (the moto build) failed. */
  function seedFailedBuild(buildId: string) {
    const good = fake.addExecution(PIPELINE, { startTime: new Date('2026-11-22T09:00:00Z') });
    const failed = fake.addExecution(PIPELINE, {
      startTime: new Date('2026-11-23T10:00:00Z'),
      failAt: {
        stage: 'Build',
        action: 'Build',
        summary: `Build terminated with state: FAILED (token ${GITHUB_TOKEN})`,
        errorCode: 'JobFailed',
        externalExecutionId: buildId,
      },
    });
    return { good, failed };
  }

  const stateFor = (executionId: string, overrides: Record<string, unknown> = {}): WorkflowInput => ({
    incident: {
      id: `inc-${randomUUID()}`,
      source: 'codepipeline',
      detail_type: 'CodePipeline Action Execution State Change',
      state: 'FAILED',
      pipeline: PIPELINE,
      stage: 'Build',
      action: 'Build',
      execution_id: executionId,
      account: FAKE_ACCOUNT,
      region: FAKE_REGION,
      event_id: 'evt-0001',
      event_time: '2026-11-23T10:03:01Z',
      detected_at: '2026-11-23T10:03:02Z',
      error_code: 'JobFailed',
      provider: 'CodeBuild',
      category: 'Build',
      fingerprint: 'fp-0123456789abcdef0123456789abcdef',
      ...overrides,
    },
    attempts: { fingerprint_24h: 0, pipeline_1h: 0 },
  });

  const readObject = async (evidence: Evidence) => {
    const object = await s3.send(
      new GetObjectCommand({ Bucket: evidence.object.bucket, Key: evidence.object.key }),
    );
    return object.Body!.transformToString();
  };

  it('never lets a seeded secret into the summary, the S3 object, the audit record or the logs', async () => {
    // Prepare
    const buildId = await buildWithLog(leakyBuildLog());
    const { failed } = seedFailedBuild(buildId);
    const state = stateFor(failed.pipelineExecutionId);

    // Act
    const { result, output } = await captureOutput(async () => {
      const returned = (await handler(state, fakeLambdaContext('suture-collect-evidence'))) as {
        evidence: Evidence;
      };
      return returned.evidence;
    });

    // Assess
    const stored = await readObject(result);
    const audit = JSON.stringify(await new AuditTrail(dynamo, auditTable).records(state.incident.id));
    for (const secret of SECRETS) {
      expect(JSON.stringify(result)).not.toContain(secret);
      expect(stored).not.toContain(secret);
      expect(audit).not.toContain(secret);
      expect(output).not.toContain(secret);
    }
    expect(result.excerpt).toContain('error TS2345');
    expect(result.excerpt).toContain('export AWS_ACCESS_KEY_ID=[REDACTED:aws-access-key-id]');
    expect(result.excerpt).toContain('x-access-token:[REDACTED:github-token]@github.com');
    expect(result.excerpt).toContain('[REDACTED:aws-access-key-id] printed by a debug step');
    expect(JSON.parse(stored).log.tail).toContain('export AWS_ACCESS_KEY_ID=[REDACTED:aws-access-key-id]');
    expect(result.redactions).toBeGreaterThanOrEqual(SECRETS.length);
  });

  /** The action, stage and pipeline events of one failed execution, as EventBridge delivers them. */
  function eventsOf(executionId: string, buildId: string) {
    const base = {
      version: '0',
      account: FAKE_ACCOUNT,
      region: FAKE_REGION,
      time: '2026-11-23T10:03:01Z',
      source: 'aws.codepipeline',
      resources: [`arn:aws:codepipeline:${FAKE_REGION}:${FAKE_ACCOUNT}:${PIPELINE}`],
    };
    const detail = { pipeline: PIPELINE, 'execution-id': executionId, state: 'FAILED', version: 1 };
    return {
      action: {
        ...base,
        id: randomUUID(),
        'detail-type': 'CodePipeline Action Execution State Change',
        detail: {
          ...detail,
          stage: 'Build',
          action: 'Build',
          region: FAKE_REGION,
          type: { owner: 'AWS', category: 'Build', provider: 'CodeBuild', version: '1' },
          'execution-result': {
            'external-execution-summary': `Build terminated with state: FAILED (token ${GITHUB_TOKEN})`,
            'external-execution-id': buildId,
            'error-code': 'JobFailed',
          },
        },
      },
      stage: {
        ...base,
        id: randomUUID(),
        'detail-type': 'CodePipeline Stage Execution State Change',
        detail: { ...detail, stage: 'Build' },
      },
      pipeline: {
        ...base,
        id: randomUUID(),
        'detail-type': 'CodePipeline Pipeline Execution State Change',
        detail,
      },
    };
  }

  it('completes a stage- or pipeline-level incident from the execution into the incident an action event opens', async () => {
    // Prepare: one failed execution and the incident each of its three events opens in triage.
    const buildId = await buildWithLog(leakyBuildLog());
    const { failed } = seedFailedBuild(buildId);
    const now = new Date('2026-11-23T10:05:00Z');
    const triaged = Object.fromEntries(
      Object.entries(eventsOf(failed.pipelineExecutionId, buildId)).map(([kind, event]) => {
        const candidate = incidentFromCodePipeline(CodePipelineEventSchema.parse(event), now);
        if (typeof candidate === 'string') throw new Error(candidate);
        return [kind, candidate.incident];
      }),
    );
    expect(triaged.pipeline!.stage).toBe('');
    expect(triaged.pipeline!.fingerprint).not.toBe(triaged.action!.fingerprint);

    // Act
    const collected = Object.fromEntries(
      await Promise.all(
        Object.entries(triaged).map(
          async ([kind, incident]) =>
            [
              kind,
              await collectEvidence({ incident, attempts: { fingerprint_24h: 0, pipeline_1h: 0 } }, now),
            ] as const,
        ),
      ),
    );
    const again = await collectEvidence(
      { incident: triaged.pipeline!, attempts: { fingerprint_24h: 0, pipeline_1h: 0 } },
      now,
    );
    const later = await collectEvidence(
      {
        incident: { ...triaged.pipeline!, id: `inc-${randomUUID()}` },
        attempts: { fingerprint_24h: 0, pipeline_1h: 0 },
      },
      now,
    );

    // Assess: whichever event opened it, the incident is the same failure ...
    const identity = (incident: WorkflowInput['incident']) => ({
      stage: incident.stage,
      action: incident.action,
      provider: incident.provider,
      category: incident.category,
      error_code: incident.error_code,
      summary: incident.summary,
      external_execution_id: incident.external_execution_id,
      fingerprint: incident.fingerprint,
    });
    const expected = identity(triaged.action!);
    expect(expected).toMatchObject({ stage: 'Build', action: 'Build', provider: 'CodeBuild' });
    for (const kind of ['action', 'stage', 'pipeline']) {
      expect(identity(collected[kind]!.incident)).toEqual(expected);
      expect(collected[kind]!.incident.id).toBe(triaged.action!.id);
      expect(collected[kind]!.evidence.failed_actions[0]).toMatchObject({ stage: 'Build', action: 'Build' });
      expect(collected[kind]!.evidence.rollback_target).not.toBeNull();
      expect(JSON.stringify(collected[kind])).not.toContain(GITHUB_TOKEN);
    }
    // ... an action event's incident and attempts pass through unchanged ...
    expect(collected.action!.incident).toEqual(triaged.action);
    expect(collected.action!.attempts).toEqual({ fingerprint_24h: 0, pipeline_1h: 0 });
    // ... and a completed fingerprint counts the attempt under it once per incident (a retried
    // CollectEvidence counts nothing more), so the next incident of the same failure sees it.
    expect(again.attempts.fingerprint_24h).toBe(collected.pipeline!.attempts.fingerprint_24h);
    expect(later.attempts.fingerprint_24h).toBe(collected.pipeline!.attempts.fingerprint_24h + 1);
    const audit = await new AuditTrail(dynamo, auditTable).records(triaged.pipeline!.id);
    expect(audit.at(-1)?.data).toMatchObject({
      incident_completed: {
        stage: 'Build',
        action: 'Build',
        fingerprint: expected.fingerprint,
        triaged: { stage: '', action: '', fingerprint: triaged.pipeline!.fingerprint },
      },
    });
  });

  it('summarises the failure and stores the full evidence under its SHA-256', async () => {
    // Prepare
    const buildId = await buildWithLog(leakyBuildLog());
    const { good, failed } = seedFailedBuild(buildId);
    const state = stateFor(failed.pipelineExecutionId);
    const now = new Date('2026-11-23T10:05:00Z');
    await dynamo.send(
      new PutItemCommand({
        TableName: guardTable,
        Item: {
          pk: { S: validationFailuresKey(state.incident) },
          failures: { N: '3' },
          expires_at: { N: String(now.getTime() / 1000 + 3600) },
        },
      }),
    );

    // Act
    const { evidence } = await collectEvidence(state, now);

    // Assess
    expect(EvidenceSchema.parse(evidence)).toBeTruthy();
    expect(evidence.pipeline_execution).toEqual({
      status: 'Failed',
      execution_type: 'STANDARD',
      trigger: 'StartPipelineExecution',
    });
    expect(evidence.failed_actions).toEqual([
      {
        stage: 'Build',
        action: 'Build',
        status: 'Failed',
        provider: 'CodeBuild',
        error_code: 'JobFailed',
        summary: 'Build terminated with state: FAILED (token [REDACTED:github-token])',
        external_execution_id: buildId,
      },
    ]);
    expect(evidence.build).toEqual({
      id: buildId,
      status: 'SUCCEEDED', // moto reports every build it is asked about as SUCCEEDED
      log_group: `/aws/codebuild/${PROJECT}`,
      log_stream: buildId.split(':')[1],
    });
    expect(evidence.alarms.map(({ name, state: value }) => [name, value])).toEqual([
      [FIRING_ALARM, 'ALARM'],
      [QUIET_ALARM, 'OK'],
    ]);
    expect(evidence.alarms[0]?.reason).toBe('Threshold crossed; caller token [REDACTED:github-token]');
    expect(evidence.rollback_target).toEqual({ execution_id: good.pipelineExecutionId });
    expect(evidence.recent_failed_validations).toBe(3);
    expect(evidence.stage_protected).toBe(false);
    expect(evidence.pipeline_tags).toEqual({ team: 'payments', environment: 'production' });
    const stored = await readObject(evidence);
    const sha256 = createHash('sha256').update(stored).digest('hex');
    expect(evidence.object).toEqual({
      bucket: BUCKET,
      key: `evidence/${state.incident.id}/${sha256}.json`,
      sha256,
      bytes: Buffer.byteLength(stored),
    });
    expect(JSON.parse(stored)).toMatchObject({
      format: 'suture.evidence/v1',
      incident: { id: state.incident.id },
      pipeline_execution: { pipelineExecutionId: failed.pipelineExecutionId, status: 'Failed' },
      rollback_target: { execution_id: good.pipelineExecutionId },
      log: { group: `/aws/codebuild/${PROJECT}`, reached_start: true },
    });
    const audit = await new AuditTrail(dynamo, auditTable).records(state.incident.id);
    expect(audit.map((record) => record.step)).toEqual(['collect_evidence']);
    expect(audit[0]?.data).toMatchObject({ object: evidence.object, recent_failed_validations: 3 });
  });

  it('reports the failed validations that validate counted for the stage, and protected stages', async () => {
    // Prepare
    fake.addExecution(PIPELINE, { startTime: new Date('2026-11-22T09:00:00Z') });
    const failed = fake.addExecution(PIPELINE, { failAt: { stage: 'Deploy', action: 'Deploy' } });
    const state = stateFor(failed.pipelineExecutionId, {
      stage: 'Deploy',
      action: 'Deploy',
      provider: 'CodeDeploy',
    });
    const repaired = fake.addExecution(PIPELINE, { failAt: { stage: 'Deploy', action: 'Deploy' } });
    await validate({
      ...state,
      execution: {
        action: 'retry_stage',
        outcome: 'executed',
        pipeline_execution_id: repaired.pipelineExecutionId,
        detail: {},
        at: new Date().toISOString(),
      },
    });

    // Act
    const { evidence } = await collectEvidence(state);

    // Assess
    expect(evidence.recent_failed_validations).toBe(1);
    expect(evidence.stage_protected).toBe(true);
    expect(evidence.build).toBeUndefined();
    expect(evidence.excerpt).toBe('');
    expect(evidence.gaps).toEqual([
      { source: 'log', reason: 'no failed action names a build or a log stream' },
    ]);
  });

  it('picks as rollback target the newest execution that succeeded in the stage on the current version, not a rollback', async () => {
    // Prepare
    const oldVersion = fake.addExecution(PIPELINE, { startTime: new Date('2026-11-20T09:00:00Z') });
    fake.updatePipeline(PIPELINE, { stages: deliveryPipeline(PIPELINE, PROJECT).stages });
    const good = fake.addExecution(PIPELINE, { startTime: new Date('2026-11-21T09:00:00Z') });
    fake.addExecution(PIPELINE, {
      type: 'ROLLBACK',
      rollbackTarget: good.pipelineExecutionId,
      startTime: new Date('2026-11-22T09:00:00Z'),
      stages: { Deploy: 'Succeeded' },
    });
    // An alarm incident: its own execution succeeded in Deploy and must not be its own target.
    const alarmed = fake.addExecution(PIPELINE, { startTime: new Date('2026-11-23T09:00:00Z') });
    const state = stateFor(alarmed.pipelineExecutionId, {
      source: 'cloudwatch_alarm',
      state: 'ALARM',
      stage: 'Deploy',
      action: '',
      alarm_name: FIRING_ALARM,
    });

    // Act
    const { evidence } = await collectEvidence(state);

    // Assess
    expect(evidence.rollback_target).toEqual({ execution_id: good.pipelineExecutionId });
    expect(evidence.rollback_target?.execution_id).not.toBe(oldVersion.pipelineExecutionId);
    expect(evidence.failed_actions).toEqual([]);
    expect(evidence.alarms.map((alarm) => alarm.name)).toEqual([FIRING_ALARM, QUIET_ALARM]);
  });

  it('has no rollback target when nothing else succeeded in the stage', async () => {
    // Prepare
    fake.addExecution(PIPELINE, { failAt: { stage: 'Deploy' } });
    const failed = fake.addExecution(PIPELINE, { failAt: { stage: 'Deploy' } });

    // Act
    const { evidence } = await collectEvidence(
      stateFor(failed.pipelineExecutionId, { stage: 'Deploy', action: 'Deploy' }),
    );

    // Assess
    expect(evidence.rollback_target).toBeNull();
  });

  it('records the source repository, the commit that failed and the commit of the last success', async () => {
    // Prepare: a GitHub connection source; the failed release ran commit B, the last good one A.
    const stages = deliveryPipeline(PIPELINE, PROJECT).stages.map((stage) =>
      stage.name !== 'Source'
        ? stage
        : {
            ...stage,
            actions: [
              {
                name: 'Source',
                category: 'Source',
                provider: 'CodeStarSourceConnection',
                configuration: {
                  ConnectionArn: `arn:aws:codeconnections:${FAKE_REGION}:${FAKE_ACCOUNT}:connection/c0ffee`,
                  FullRepositoryId: 'acme/payments',
                  BranchName: 'main',
                },
              },
            ],
          },
    );
    fake.updatePipeline(PIPELINE, { stages });
    const commitA = 'a'.repeat(40);
    const commitB = 'b'.repeat(40);
    const good = fake.addExecution(PIPELINE, {
      sourceRevisions: [
        {
          actionName: 'Source',
          revisionId: commitA,
          revisionUrl: `https://github.com/acme/payments/commit/${commitA}`,
        },
      ],
    });
    fake.addExecution(PIPELINE, {
      failAt: { stage: 'Build' },
      sourceRevisions: [{ actionName: 'Source', revisionId: 'c'.repeat(40) }],
    });
    const failed = fake.addExecution(PIPELINE, {
      failAt: { stage: 'Build' },
      sourceRevisions: [
        {
          actionName: 'Source',
          revisionId: commitB,
          revisionUrl: `https://github.com/acme/payments/commit/${commitB}`,
        },
      ],
    });

    // Act
    const { evidence } = await collectEvidence(stateFor(failed.pipelineExecutionId));

    // Assess
    expect(evidence.source).toEqual({
      action: 'Source',
      provider: 'github',
      connection_arn: `arn:aws:codeconnections:${FAKE_REGION}:${FAKE_ACCOUNT}:connection/c0ffee`,
      repository: 'acme/payments',
      branch: 'main',
      revision: commitB,
      last_success: { execution_id: good.pipelineExecutionId, revision: commitA },
    });
    const stored = JSON.parse(await readObject(evidence)) as { source: unknown };
    expect(stored.source).toEqual(evidence.source);
  });

  it('tells a GitLab connection apart and has no last success when none ran', async () => {
    // Prepare
    const failed = fake.addExecution(PIPELINE, {
      failAt: { stage: 'Build' },
      sourceRevisions: [
        {
          actionName: 'Source',
          revisionId: 'd'.repeat(40),
          revisionUrl: 'https://gitlab.com/acme/app/-/commit/d',
        },
      ],
    });

    // Act
    const { evidence } = await collectEvidence(stateFor(failed.pipelineExecutionId));

    // Assess
    expect(evidence.source).toEqual({ action: 'Source', provider: 'gitlab', revision: 'd'.repeat(40) });
  });

  it('keeps the summary under 64 KiB and reads a bounded tail of a 50 MB build log', async () => {
    // Prepare
    const line = `${'compiling module '.padEnd(60, '.')} ${'x'.repeat(960)}`;
    const lines = Array.from({ length: 51_200 }, (_, i) =>
      i % 997 === 0 ? `error: step ${i} failed: ${line}` : `${i} ${line}`,
    );
    lines.push(`export AWS_ACCESS_KEY_ID=${AWS_KEY_ID}`, 'Phase complete: BUILD State: FAILED');
    expect(lines.reduce((sum, text) => sum + text.length + 1, 0)).toBeGreaterThan(50 * 1024 * 1024);
    const buildId = await buildWithLog(lines);
    const { failed } = seedFailedBuild(buildId);
    process.env.SUTURE_LOG_TAIL_PAGES = '3';
    process.env.SUTURE_LOG_TAIL_PAGE_EVENTS = '1000';

    // Act
    const { evidence } = await collectEvidence(stateFor(failed.pipelineExecutionId));

    // Assess
    expect(Buffer.byteLength(JSON.stringify(evidence))).toBeLessThan(64 * 1024);
    expect(Buffer.byteLength(evidence.excerpt)).toBeLessThanOrEqual(16 * 1024);
    expect(evidence.excerpt).toContain('Phase complete: BUILD State: FAILED');
    expect(evidence.excerpt).not.toContain(AWS_KEY_ID);
    expect(evidence.log).toMatchObject({ events_read: 3000, reached_start: false });
    expect(evidence.object.bytes).toBeLessThan(5 * 1024 * 1024);
  });

  it('stays under 64 KiB when every bounded field is full, cutting the excerpt from its start', async () => {
    // Prepare: 24 failed actions with long quoted summaries, 50 long tags, a JSON log full of errors.
    const quoted = `reason: ${'"'.repeat(600)}`;
    const jsonLines = Array.from({ length: 400 }, (_, i) => `error: request ${i} failed: ${'"'.repeat(120)}`);
    const buildId = await buildWithLog([...jsonLines, 'Phase complete: BUILD State: FAILED']);
    const actions = Array.from({ length: 24 }, (_, i) => ({
      name: `Build${i}`,
      category: 'Build',
      provider: 'CodeBuild',
    }));
    fake.addPipeline({
      name: 'widePipeline',
      stages: [
        { name: 'Source', actions: [{ name: 'Source', category: 'Source', provider: 'S3' }] },
        { name: 'Build', actions },
      ],
      tags: Object.fromEntries(
        Array.from({ length: 50 }, (_, i) => [
          `${String(i).padStart(2, '0')}${'k'.repeat(126)}`,
          'v'.repeat(256),
        ]),
      ),
    });
    const failed = fake.addExecution('widePipeline', {
      stages: {
        Source: 'Succeeded',
        Build: {
          status: 'Failed',
          actions: Object.fromEntries(
            actions.map((action, i) => [
              action.name,
              {
                status: 'Failed' as const,
                summary: quoted,
                ...(i === 0 ? { externalExecutionId: buildId } : {}),
              },
            ]),
          ),
        },
      },
    });
    const state = stateFor(failed.pipelineExecutionId, { pipeline: 'widePipeline', action: 'Build0' });

    // Act
    const { evidence } = await collectEvidence(state);

    // Assess
    expect(Buffer.byteLength(JSON.stringify(evidence))).toBeLessThanOrEqual(60 * 1024);
    expect(evidence.failed_actions).toHaveLength(20);
    expect(evidence.failed_actions[0]?.action).toBe('Build0');
    expect(Object.keys(evidence.pipeline_tags)).toHaveLength(50);
    expect(evidence.excerpt).toMatch(
      /^… \[excerpt cut to fit the workflow state; the full evidence is in S3\]\n/,
    );
    expect(evidence.excerpt).toMatch(/Phase complete: BUILD State: FAILED$/);
    const stored = JSON.parse(await readObject(evidence));
    expect(stored.log.excerpt.length).toBeGreaterThan(evidence.excerpt.length);
  });

  it('turns a throttled CodePipeline into TransientAwsError and writes nothing', async () => {
    // Prepare
    const failed = fake.addExecution(PIPELINE, { failAt: { stage: 'Deploy' } });
    fake.injectFault({ operation: 'GetPipelineExecution', error: 'ThrottlingException', times: 10 });
    const state = stateFor(failed.pipelineExecutionId, { stage: 'Deploy', action: 'Deploy' });

    // Act
    const collecting = collectEvidence(state);

    // Assess
    await expect(collecting).rejects.toThrow(TransientAwsError);
    await expect(collecting).rejects.toMatchObject({ name: 'TransientAwsError' });
    fake.clearFaults();
    const objects = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `evidence/${state.incident.id}/` }),
    );
    expect(objects.KeyCount ?? 0).toBe(0);
    expect(await new AuditTrail(dynamo, auditTable).records(state.incident.id)).toEqual([]);
  });

  it('records a missing build log as a gap instead of failing', async () => {
    // Prepare
    const { build } = await codeBuild.send(new StartBuildCommand({ projectName: PROJECT }));
    const { failed } = seedFailedBuild(build!.id!);

    // Act
    const { evidence } = await collectEvidence(stateFor(failed.pipelineExecutionId));

    // Assess
    expect(evidence.excerpt).toBe('');
    expect(evidence.gaps).toEqual([
      expect.objectContaining({
        source: 'log',
        reason: expect.stringContaining('ResourceNotFoundException'),
      }),
    ]);
    expect(evidence.failed_actions).toHaveLength(1);
  });

  it('refuses a state document without an incident, naming the field', async () => {
    // Act
    const collecting = collectEvidence({ attempts: { fingerprint_24h: 0, pipeline_1h: 0 } });

    // Assess
    await expect(collecting).rejects.toThrow(EvidenceInputError);
    await expect(collecting).rejects.toThrow(/incident/);
  });
});
