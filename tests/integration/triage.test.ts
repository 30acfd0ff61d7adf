import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateStateMachineCommand,
  ListExecutionsCommand,
  SFNClient,
  DescribeExecutionCommand,
} from '@aws-sdk/client-sfn';
import { randomUUID } from 'node:crypto';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { AuditTrail } from '../../functions/commons/audit';
import { verifyAgainstDigest } from '../../functions/commons/audit/digest';
import { incidentDigests, verifyDigestSignature } from '../../functions/commons/audit/digest-store';
import { resetAwsClients } from '../../functions/commons/aws/clients';
import { WorkflowInputSchema } from '../../functions/commons/workflow/schema';
import { handler, resetTriageForTests, TAKEOVER_AFTER_SECONDS, triage } from '../../functions/triage';
import { createTable, emulatorClientConfig } from '../helpers/aws';
import { captureOutput, fakeLambdaContext } from '../helpers/lambda-context';

// CodePipeline state-change events in the shapes AWS documents (tests/fixtures/events).
const EVENTS = join(__dirname, '..', 'fixtures', 'events');
// Sample events are edited field by field to build each case; typing every path would add nothing.
const sampleEvent = (name: string) =>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  JSON.parse(readFileSync(join(EVENTS, name), 'utf8')) as Record<string, any>;

describe('triage handler (moto: Step Functions and DynamoDB on 127.0.0.1)', () => {
  const config = emulatorClientConfig();
  const dynamo = new DynamoDBClient(config);
  const sfn = new SFNClient(config);
  let guardTable: string;
  let auditTable: string;
  let stateMachineArn: string;
  const savedEnv = { ...process.env };

  beforeEach(async () => {
    guardTable = await createTable(dynamo, 'suture-guard', 'pk');
    auditTable = await createTable(dynamo, 'suture-audit', 'incident_id', 'seq');
    const machine = await sfn.send(
      new CreateStateMachineCommand({
        name: `suture-loop-${guardTable.slice(-12)}`,
        roleArn: 'arn:aws:iam::123456789012:role/suture-workflow',
        definition: JSON.stringify({
          StartAt: 'Wait',
          States: { Wait: { Type: 'Wait', Seconds: 3600, End: true } },
        }),
      }),
    );
    stateMachineArn = machine.stateMachineArn!;
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: config.endpoint,
      AWS_REGION: 'us-west-2',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      SUTURE_STATE_MACHINE_ARN: stateMachineArn,
      SUTURE_GUARD_TABLE: guardTable,
      SUTURE_AUDIT_TABLE: auditTable,
      SUTURE_SCOPE: JSON.stringify([
        { account: '210987654321', region: 'eu-west-1', pipeline: 'checkout-service' },
      ]),
    });
    resetAwsClients();
    resetTriageForTests();
  });

  afterEach(() => {
    process.env = { ...savedEnv };
  });

  afterAll(() => {
    dynamo.destroy();
    sfn.destroy();
  });

  const executions = async () =>
    (await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? [];

  it('starts one workflow, named after the incident, for a failed CodeDeploy action', async () => {
    // Prepare
    const event = sampleEvent('action-failed-codedeploy.json');
    const now = new Date('2026-03-12T09:41:09Z');

    // Act
    const result = await triage(event, now);

    // Assess
    expect(result.status).toBe('started');
    const started = await executions();
    expect(started.map((e) => e.name)).toEqual([result.incident_id]);
    const described = await sfn.send(
      new DescribeExecutionCommand({ executionArn: started[0]!.executionArn }),
    );
    const input = WorkflowInputSchema.parse(JSON.parse(described.input!));
    expect(input.incident).toMatchObject({
      pipeline: 'checkout-service',
      stage: 'Release',
      action: 'BlueGreen',
      execution_id: '9c4a7e21-3f58-4b0d-8e6a-71d2c5b9f013',
      error_code: 'JobFailed',
      provider: 'CodeDeploy',
      source: 'codepipeline',
    });
    expect(input.attempts).toEqual({ fingerprint_24h: 0, pipeline_1h: 0 });
    const audit = await new AuditTrail(dynamo, auditTable).records(result.incident_id!);
    expect(audit.map((r) => r.step)).toEqual(['triage']);
  });

  it('starts exactly one workflow and counts one attempt for 50 concurrent deliveries of one failure', async () => {
    // Prepare
    const action = sampleEvent('action-failed-codedeploy.json');
    const pipelineLevel = sampleEvent('pipeline-failed.json');
    const deliveries = Array.from({ length: 50 }, (_, i) => (i % 5 === 0 ? pipelineLevel : action));

    // Act: deliveries that arrive while the first is still starting the workflow fail, and are
    // delivered again as Lambda retries asynchronous invocations (a minute later).
    const settled = await Promise.allSettled(deliveries.map((event) => triage(event)));
    const pending = settled.flatMap((r, i) =>
      r.status === 'rejected' ? [{ i, error: r.reason as Error }] : [],
    );
    const retried = await Promise.all(
      pending.map(({ i }) => triage(deliveries[i], new Date(Date.now() + 60_000))),
    );
    const results = [...settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])), ...retried];

    // Assess
    expect(pending.every(({ error }) => error.name === 'FirstDeliveryPendingError')).toBe(true);
    expect(results.filter((r) => r.status === 'started')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'duplicate')).toHaveLength(49);
    expect(new Set(results.map((r) => r.incident_id)).size).toBe(1);
    expect(await executions()).toHaveLength(1);
    const items = (await dynamo.send(new ScanCommand({ TableName: guardTable }))).Items ?? [];
    const counters = items.filter((item) => item.pk?.S?.startsWith('attempts#'));
    expect(counters.map((item) => item.attempts?.N).sort()).toEqual(['1', '1']);
  });

  it('starts the workflow on a redelivery when the first delivery counted the attempt but crashed before starting', async () => {
    // Prepare: the first delivery reaches the guard, then StartExecution fails (state machine missing).
    const event = sampleEvent('action-failed-codedeploy.json');
    process.env.SUTURE_STATE_MACHINE_ARN = stateMachineArn.replace(
      /:stateMachine:.*/,
      ':stateMachine:missing',
    );
    resetTriageForTests();
    await expect(triage(event)).rejects.toThrow(/WorkflowStartError|missing/);
    process.env.SUTURE_STATE_MACHINE_ARN = stateMachineArn;
    resetTriageForTests();

    // Act: a redelivery right away fails (to be delivered again later: the failure is not
    // dropped as a duplicate); one after the takeover delay starts the workflow.
    const early = triage(event);
    await expect(early).rejects.toThrow(/has not started yet: deliver again later/);
    const retried = await triage(event, new Date(Date.now() + (TAKEOVER_AFTER_SECONDS + 1) * 1000));

    // Assess
    await expect(early).rejects.toMatchObject({ name: 'FirstDeliveryPendingError' });
    expect(retried.status).toBe('started');
    expect(await executions()).toHaveLength(1);
  });

  it.each([
    ['a stage that stopped', 'stage-stopped.json', /STOPPED is not a failure/],
    ['a pipeline out of scope', 'action-failed-codedeploy.json', /not in scope/],
  ])('ignores %s without starting a workflow', async (_what, file, reason) => {
    // Prepare
    const event = sampleEvent(file);
    if (/scope/.test(String(reason))) event.detail.pipeline = 'someone-elses-pipeline';

    // Act
    const result = await triage(event);

    // Assess
    expect(result).toMatchObject({ status: 'ignored' });
    expect(result.reason).toMatch(reason);
    expect(await executions()).toHaveLength(0);
  });

  it('drops a malformed event naming the wrong fields, and never logs the raw event', async () => {
    // Prepare
    const event = sampleEvent('action-failed-codedeploy.json');
    delete event.detail['execution-id'];
    event.detail['execution-result']['external-execution-summary'] =
      'token ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789';

    // Act
    const { result, output } = await captureOutput(() => handler(event, fakeLambdaContext('suture-triage')));

    // Assess
    expect(result.status).toBe('ignored');
    expect(result.reason).toMatch(/execution-id/);
    expect(output).not.toContain('ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789');
    expect(await executions()).toHaveLength(0);
  });

  it('redacts secrets in the failure summary before they reach the workflow input or the audit trail', async () => {
    // Prepare
    const event = sampleEvent('action-failed-codedeploy.json');
    const secret = 'AKIAIOSFODNN7EXAMPLE';
    event.detail['execution-result']['external-execution-summary'] =
      `Deployment failed: aws_access_key_id=${secret} rejected`;

    // Act
    const { result, output } = await captureOutput(() => handler(event, fakeLambdaContext('suture-triage')));

    // Assess
    expect(result.status).toBe('started');
    const [execution] = await executions();
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: execution!.executionArn }));
    expect(described.input).not.toContain(secret);
    expect(described.input).toContain('Deployment failed');
    const audit = await new AuditTrail(dynamo, auditTable).records(result.incident_id!);
    expect(JSON.stringify(audit)).not.toContain(secret);
    expect(output).not.toContain(secret);
  });

  it('emits detection latency as an EMF metric', async () => {
    // Prepare
    const event = sampleEvent('action-failed-codedeploy.json');
    event.time = new Date(Date.now() - 4_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

    // Act
    const { output } = await captureOutput(() => handler(event, fakeLambdaContext('suture-triage')));

    // Assess
    const emf = output
      .split('\n')
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const latency = emf.find((blob) => typeof blob.DetectionLatency === 'number')?.DetectionLatency as number;
    expect(latency).toBeGreaterThanOrEqual(3_000);
    expect(latency).toBeLessThan(60_000);
  });

  it('stops a loop at the per-pipeline ceiling and records it instead of starting a workflow', async () => {
    // Prepare: 21 different failures (distinct fingerprints) of one pipeline within the hour (ceiling 20).
    const base = sampleEvent('action-failed-codedeploy.json');
    const events = Array.from({ length: 21 }, (_, i) => ({
      ...base,
      detail: {
        ...base.detail,
        'execution-id': `exec-${i}`,
        action: `Deploy${String.fromCharCode(65 + i)}`,
      },
    }));

    // Act
    const results = [];
    for (const event of events) results.push(await triage(event));

    // Assess
    expect(results.slice(0, 20).every((r) => r.status === 'started')).toBe(true);
    expect(results[20]).toMatchObject({ status: 'loop_detected' });
    expect(await executions()).toHaveLength(20);
    const audit = await new AuditTrail(dynamo, auditTable).records(results[20]!.incident_id!);
    expect(audit.map((r) => r.step)).toEqual(['loop_detected']);
  });

  it('seals a loop_detected chain: triage ends that incident, so its one record gets a signed digest', async () => {
    // Prepare: the digest key and the Object Lock bucket the module gives triage.
    const kms = new KMSClient(config);
    const s3 = new S3Client({ ...config, forcePathStyle: true });
    const { KeyMetadata } = await kms.send(
      new CreateKeyCommand({ KeyUsage: 'SIGN_VERIFY', KeySpec: 'RSA_2048', Description: 'triage digests' }),
    );
    const bucket = `suture-evidence-${randomUUID().slice(0, 8)}`;
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: 'us-west-2' },
        ObjectLockEnabledForBucket: true,
      }),
    );
    Object.assign(process.env, {
      SUTURE_DIGEST_KEY_ARN: KeyMetadata!.Arn!,
      SUTURE_EVIDENCE_BUCKET: bucket,
      SUTURE_DIGEST_RETENTION_DAYS: '7',
      SUTURE_S3_FORCE_PATH_STYLE: 'true',
    });
    resetTriageForTests();
    const base = sampleEvent('action-failed-codedeploy.json');
    const events = Array.from({ length: 21 }, (_, i) => ({
      ...base,
      detail: {
        ...base.detail,
        'execution-id': `sealed-${i}`,
        action: `Deploy${String.fromCharCode(65 + i)}`,
      },
    }));

    try {
      // Act
      const results = [];
      for (const event of events) results.push(await triage(event));

      // Assess: the loop_detected incident's digest covers its whole trail, signed by the key.
      const stopped = results[20]!;
      expect(stopped.status).toBe('loop_detected');
      const records = await new AuditTrail(dynamo, auditTable).records(stopped.incident_id!);
      const digests = await incidentDigests(s3, bucket, stopped.incident_id!);
      expect(digests).toHaveLength(1);
      expect(digests[0]).toMatchObject({ incident_id: stopped.incident_id, record_count: 1 });
      expect(verifyAgainstDigest(records, digests[0]!).ok).toBe(true);
      await expect(verifyDigestSignature(kms, digests[0]!, KeyMetadata!.Arn!)).resolves.toMatchObject({
        valid: true,
      });
      // Cutting the record is visible against the digest.
      expect(verifyAgainstDigest([], digests[0]!).reasons.map((r) => r.code)).toContain('truncated');
      // A started incident is sealed by the workflow's end (notify), not by triage.
      expect(await incidentDigests(s3, bucket, results[0]!.incident_id!)).toEqual([]);
    } finally {
      kms.destroy();
      s3.destroy();
    }
  });

  it('maps a release-health alarm to the stage it guards and names a clear configuration error', async () => {
    // Prepare
    const alarm = {
      version: '0',
      id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
      'detail-type': 'CloudWatch Alarm State Change',
      source: 'aws.cloudwatch',
      account: '123456789012',
      time: '2026-11-23T10:00:00Z',
      region: 'us-west-2',
      resources: ['arn:aws:cloudwatch:us-west-2:123456789012:alarm:checkout-5xx'],
      detail: {
        alarmName: 'checkout-5xx',
        state: { value: 'ALARM', reason: 'Threshold Crossed', timestamp: '2026-11-23T10:00:00.000+0000' },
        previousState: { value: 'OK', timestamp: '2026-11-23T09:00:00.000+0000' },
      },
    };
    process.env.SUTURE_ALARM_TARGETS = '{"checkout-5xx": {"pipeline": "myPipeline"}}';
    resetTriageForTests();

    // Act / Assess: the misconfiguration names the variable and the missing field.
    await expect(triage(alarm)).rejects.toThrow(/SUTURE_ALARM_TARGETS.*stage/);

    // An alarm that guards nothing is ignored.
    process.env.SUTURE_ALARM_TARGETS = '{}';
    resetTriageForTests();
    await expect(triage(alarm)).resolves.toMatchObject({
      status: 'ignored',
      reason: expect.stringMatching(/guards no/),
    });
  });
});
