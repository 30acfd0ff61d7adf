import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  type DescribeExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/protocols';
import { repoRoot } from '../../cli/paths';
import {
  handleApprovalUrl,
  handler as approvalHandler,
  resetApprovalForTests,
} from '../../functions/approval';
import { approvalIdFor, ApprovalStore } from '../../functions/commons/approval/store';
import { AuditTrail, verifyChain } from '../../functions/commons/audit';
import { resetAwsClients } from '../../functions/commons/aws/clients';
import { logger } from '../../functions/commons/observability';
import { planDigest } from '../../functions/commons/workflow/plan';
import { ApprovalResultSchema } from '../../functions/commons/workflow/schema';
import { handler as notifyHandler, notify, resetNotifyForTests } from '../../functions/notify';
import { BODY_MAX_BYTES, DETAILS_MARKER } from '../../functions/notify/message';
import { createTable, emulatorClientConfig } from '../helpers/aws';
import { suture } from '../helpers/cli';
import { captureOutput, fakeLambdaContext } from '../helpers/lambda-context';
import { stopMoto } from '../../local/moto/server';

/**
 * Notify and approval against real AWS SDK clients on 127.0.0.1:
 * - SNS, SQS and DynamoDB on the run's shared moto server;
 * - Step Functions on a second moto server started by this file with
 *   `execute_state_machine` on. moto then runs the state machine (its Step Functions
 *   interpreter), issues real task tokens for `.waitForTaskToken` states and validates them
 *   in SendTaskSuccess / SendTaskFailure (InvalidToken once the task is gone). The switch is
 *   server-wide and moves every state machine to another backend, so it is not flipped on the
 *   shared server that other test files use. moto cannot invoke Lambda without Docker, so the
 *   waiting state is `sqs:sendMessage.waitForTaskToken` with RequestApproval's exact payload
 *   `{state, task_token, kind: "approval"}`; the test hands that payload to notify.
 */

const ALICE = 'arn:aws:iam::123456789012:user/alice';
const BOB = 'arn:aws:sts::123456789012:assumed-role/Approver/bob';
const SEEDED_AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';
const SEEDED_GITHUB_TOKEN = `ghp_${'a1B2c3D4e5'.repeat(4)}`;
const TTL_SECONDS = 3600;

interface MotoProcess {
  readonly endpoint: string;
  readonly pid: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * The few SQS calls the test needs, in SQS's JSON protocol signed with SigV4 (the project has no
 * SQS client; moto routes by the signature's region).
 */
class SqsJson {
  private readonly signer: SignatureV4;

  constructor(private readonly endpoint: string) {
    this.signer = new SignatureV4({
      service: 'sqs',
      region: 'us-west-2',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      sha256: Sha256,
    });
  }

  async call<T>(action: string, params: Record<string, unknown>): Promise<T> {
    const url = new URL(this.endpoint);
    const body = JSON.stringify(params);
    const signed = await this.signer.sign(
      new HttpRequest({
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        port: Number(url.port),
        path: '/',
        headers: {
          host: url.host,
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `AmazonSQS.${action}`,
        },
        body,
      }),
    );
    const { host: _host, ...headers } = signed.headers;
    const response = await fetch(this.endpoint, { method: 'POST', headers, body });
    const text = await response.text();
    if (!response.ok) throw new Error(`SQS ${action}: HTTP ${response.status} ${text}`);
    return JSON.parse(text || '{}') as T;
  }

  async createQueue(name: string): Promise<{ url: string; arn: string }> {
    const { QueueUrl } = await this.call<{ QueueUrl: string }>('CreateQueue', { QueueName: name });
    const { Attributes } = await this.call<{ Attributes: { QueueArn: string } }>('GetQueueAttributes', {
      QueueUrl,
      AttributeNames: ['QueueArn'],
    });
    return { url: QueueUrl, arn: Attributes.QueueArn };
  }

  /** Receives up to 10 messages (waiting up to 1 s) and deletes them; returns their bodies. */
  async take(queueUrl: string): Promise<string[]> {
    const { Messages } = await this.call<{ Messages?: Array<{ Body: string; ReceiptHandle: string }> }>(
      'ReceiveMessage',
      { QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 },
    );
    for (const message of Messages ?? []) {
      await this.call('DeleteMessage', { QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle });
    }
    return (Messages ?? []).map((message) => message.Body);
  }
}

/** A moto server whose Step Functions interpreter runs executions and can reach its own SQS. */
async function startExecutingMoto(): Promise<MotoProcess> {
  const port = await freePort();
  const child = spawn(
    join(repoRoot(), '.venv', 'bin', 'python'),
    [join(repoRoot(), 'local', 'moto', 'moto_server.py'), '127.0.0.1', String(port)],
    // MOTO_PORT: where moto's interpreter sends the service calls of Task states.
    { stdio: 'ignore', detached: true, env: { ...process.env, MOTO_PORT: String(port) } },
  );
  child.unref();
  const endpoint = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    try {
      if ((await fetch(`${endpoint}/moto-api/`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > 30_000) throw new Error(`moto at ${endpoint} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const configured = await fetch(`${endpoint}/moto-api/config`, {
    method: 'POST',
    body: JSON.stringify({ stepfunctions: { execute_state_machine: true } }),
  });
  if (!configured.ok) throw new Error(`moto config failed: ${configured.status}`);
  return { endpoint, pid: child.pid! };
}

/** One Step Functions call that went through {@link recordingProxy}. */
interface RecordedCall {
  readonly target: string;
  readonly body: Record<string, unknown>;
}

/**
 * Forwards every request to `upstream` and records the Step Functions calls: moto's
 * SendTaskFailure drops `cause`, so the test reads it off the wire instead.
 */
async function recordingProxy(
  upstream: string,
  calls: RecordedCall[],
): Promise<{ server: Server; url: string }> {
  const server = createHttpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const target = String(request.headers['x-amz-target'] ?? '');
      if (target.startsWith('AWSStepFunctions.')) {
        calls.push({ target: target.slice('AWSStepFunctions.'.length), body: JSON.parse(body || '{}') });
      }
      const headers = Object.fromEntries(
        Object.entries(request.headers).filter(
          (entry): entry is [string, string] =>
            typeof entry[1] === 'string' && !['host', 'content-length', 'connection'].includes(entry[0]),
        ),
      );
      void fetch(`${upstream}${request.url}`, { method: request.method, headers, body }).then(
        async (answer) => {
          response.writeHead(answer.status, {
            'content-type': answer.headers.get('content-type') ?? 'application/json',
          });
          response.end(await answer.text());
        },
        () => {
          response.writeHead(502);
          response.end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` };
}

/** A follow-up step, for a plan of more than one step. */
const RESUME = {
  action: 'start_pipeline_execution',
  parameters: { pipeline: 'shop-api' },
  source: 'playbook',
  rationale: 'the rollback leaves nothing running; a new execution lets validation observe the repair',
  confidence: 0.82,
};

/** A state document as the workflow holds it when PolicyGate asked for an approval. */
function stateDocument(incidentId: string, then?: readonly unknown[]): Record<string, unknown> {
  const proposal = {
    action: 'rollback_stage',
    parameters: { stage: 'Deploy', target_execution_id: 'exec-0' },
    source: 'playbook',
    rationale: 'the deployment health alarm fired right after this release',
    confidence: 0.82,
  };
  return {
    incident: {
      id: incidentId,
      source: 'codepipeline',
      detail_type: 'CodePipeline Action Execution State Change',
      state: 'FAILED',
      pipeline: 'shop-api',
      stage: 'Deploy',
      action: 'DeployECS',
      execution_id: 'exec-1',
      account: '123456789012',
      region: 'us-west-2',
      event_id: 'ev-1',
      event_time: '2026-11-23T10:00:00Z',
      detected_at: '2026-11-23T10:00:02Z',
      error_code: 'JobFailed',
      summary: 'Deployment failed: health checks',
      fingerprint: 'fp-1',
    },
    attempts: { fingerprint_24h: 0, pipeline_1h: 1 },
    evidence: {
      pipeline_execution: { status: 'Failed', trigger: 'StartPipelineExecution' },
      failed_actions: [{ stage: 'Deploy', action: 'DeployECS', status: 'Failed', error_code: 'JobFailed' }],
      excerpt: [
        'Step 4/9 : RUN ./deploy.sh',
        `export AWS_ACCESS_KEY_ID=${SEEDED_AWS_KEY}`,
        `git clone https://${SEEDED_GITHUB_TOKEN}@github.com/acme/shop-api.git`,
        'ERROR: service shop-api did not reach a steady state',
      ].join('\n'),
      alarms: [{ name: 'shop-api-5xx', state: 'ALARM' }],
      rollback_target: { execution_id: 'exec-0' },
      recent_failed_validations: 0,
      stage_protected: true,
      pipeline_tags: { team: 'shop' },
      object: {
        bucket: 'suture-evidence',
        key: `${incidentId}/evidence.json`,
        sha256: 'ab'.repeat(32),
        bytes: 1234,
      },
    },
    classification: {
      class: 'deploy_health',
      confidence: 0.9,
      signature: 'deploy_health.ecs_steady_state',
      matched_line: 'ERROR: service shop-api did not reach a steady state',
    },
    plan: then
      ? { proposal, then, gate_input: { incident: {}, proposal, then, context: {} } }
      : { proposal, gate_input: { incident: {}, proposal, context: {} } },
    decision: {
      allow: false,
      require_approval: true,
      mode: 'enforce',
      reasons: [
        { code: 'approval_required_protected_stage', msg: 'stage Deploy is protected: a human approves' },
      ],
      bundle_revision: `sha256:${'cd'.repeat(32)}`,
      bundle_sha256: 'cd'.repeat(32),
      evaluation_us: 120,
    },
  };
}

interface SnsEnvelope {
  readonly MessageId: string;
  readonly Subject: string;
  readonly Message: string;
  readonly MessageAttributes: Record<string, { Type: string; Value: string }>;
}

describe('notify and the approval callback (moto on 127.0.0.1)', () => {
  const savedEnv = { ...process.env };
  const shared = emulatorClientConfig();
  const dynamo = new DynamoDBClient(shared);
  const sns = new SNSClient(shared);
  const sqs = new SqsJson(shared.endpoint);
  let moto: MotoProcess;
  let proxy: Server | undefined;
  const sfnCalls: RecordedCall[] = [];
  let sfn: SFNClient;
  let sfnSqs: SqsJson;
  let approvalTable: string;
  let auditTable: string;
  let inboxUrl: string;
  let tokenQueueUrl: string;
  let waitingMachine: string;
  let impatientMachine: string;

  async function stateMachine(name: string, timeoutSeconds: number): Promise<string> {
    const definition = {
      StartAt: 'RequestApproval',
      States: {
        RequestApproval: {
          Type: 'Task',
          Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
          Parameters: {
            QueueUrl: tokenQueueUrl,
            MessageBody: {
              'state.$': '$',
              'task_token.$': '$$.Task.Token',
              kind: 'approval',
              'execution.$': '$$.Execution.Id',
            },
          },
          ResultPath: '$.approval',
          TimeoutSeconds: timeoutSeconds,
          End: true,
        },
      },
    };
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({
        name: `${name}-${randomUUID().slice(0, 8)}`,
        definition: JSON.stringify(definition),
        roleArn: 'arn:aws:iam::123456789012:role/suture-workflow',
      }),
    );
    return stateMachineArn!;
  }

  beforeAll(async () => {
    moto = await startExecutingMoto();
    const privateConfig = { ...shared, endpoint: moto.endpoint };
    sfn = new SFNClient(privateConfig);
    sfnSqs = new SqsJson(moto.endpoint);
    approvalTable = await createTable(dynamo, 'suture-approvals', 'approval_id');
    auditTable = await createTable(dynamo, 'suture-audit', 'incident_id', 'seq');
    const { TopicArn } = await sns.send(
      new CreateTopicCommand({ Name: `suture-${randomUUID().slice(0, 8)}` }),
    );
    const inbox = await sqs.createQueue(`inbox-${randomUUID().slice(0, 8)}`);
    inboxUrl = inbox.url;
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: inbox.arn }));
    tokenQueueUrl = (await sfnSqs.createQueue('task-tokens')).url;
    waitingMachine = await stateMachine('waits', 300);
    impatientMachine = await stateMachine('times-out', 1);
    const recording = await recordingProxy(moto.endpoint, sfnCalls);
    proxy = recording.server;
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: shared.endpoint,
      // The functions reach Step Functions through the recording proxy; the test talks to moto.
      AWS_ENDPOINT_URL_SFN: recording.url,
      AWS_REGION: 'us-west-2',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      SUTURE_TOPIC_ARN: TopicArn,
      SUTURE_APPROVAL_TABLE: approvalTable,
      SUTURE_AUDIT_TABLE: auditTable,
      SUTURE_APPROVAL_TTL_SECONDS: String(TTL_SECONDS),
      SUTURE_APPROVAL_URL: 'https://abc123.lambda-url.us-west-2.on.aws/',
      POWERTOOLS_METRICS_NAMESPACE: 'SutureTest',
    });
    resetAwsClients();
    resetNotifyForTests();
    resetApprovalForTests();
    // Quiet by default; the tests that check the logs for the token turn logging on and capture it.
    logger.setLogLevel('SILENT');
  });

  /** Runs `fn` with INFO logging, capturing what it writes. */
  async function logged<T>(fn: () => Promise<T>): Promise<{ result: T; output: string }> {
    logger.setLogLevel('INFO');
    try {
      return await captureOutput(fn);
    } finally {
      logger.setLogLevel('SILENT');
    }
  }

  afterAll(async () => {
    if (proxy) await new Promise((resolve) => proxy!.close(resolve));
    process.env = { ...savedEnv };
    resetAwsClients();
    resetNotifyForTests();
    resetApprovalForTests();
    for (const client of [dynamo, sns, sfn]) client?.destroy();
    if (moto) stopMoto(moto.pid);
  });

  /** Every message published so far (and not read yet), removed from the inbox. */
  async function drainInbox(): Promise<SnsEnvelope[]> {
    const envelopes: SnsEnvelope[] = [];
    for (;;) {
      const bodies = await sqs.take(inboxUrl);
      if (bodies.length === 0) return envelopes;
      envelopes.push(...bodies.map((body) => JSON.parse(body) as SnsEnvelope));
    }
  }

  /** Starts an execution and returns RequestApproval's payload, with the real task token. */
  async function waitingExecution(
    machine: string,
    incidentId: string,
    state: Record<string, unknown> = stateDocument(incidentId),
  ): Promise<{
    executionArn: string;
    payload: { state: Record<string, unknown>; task_token: string; kind: 'approval' };
  }> {
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: machine,
        // The execution name is the incident id in the real workflow (moto needs one, too).
        name: `${incidentId}-${randomUUID().slice(0, 8)}`,
        input: JSON.stringify(state),
      }),
    );
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      for (const text of await sfnSqs.take(tokenQueueUrl)) {
        const body = JSON.parse(text) as {
          state: Record<string, unknown>;
          task_token: string;
          kind: 'approval';
          execution: string;
        };
        if (body.execution === executionArn) {
          return {
            executionArn: executionArn!,
            payload: { state: body.state, task_token: body.task_token, kind: body.kind },
          };
        }
      }
    }
    throw new Error(`execution ${executionArn} never reached RequestApproval`);
  }

  async function settled(executionArn: string): Promise<DescribeExecutionCommandOutput> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (execution.status !== 'RUNNING' || Date.now() > deadline) return execution;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  function functionUrlEvent(userArn: string | undefined, body: unknown, method = 'POST'): unknown {
    return {
      version: '2.0',
      rawPath: '/',
      headers: { 'content-type': 'application/json' },
      requestContext: {
        http: { method, path: '/', protocol: 'HTTP/1.1', sourceIp: '192.0.2.10', userAgent: 'suture' },
        ...(userArn
          ? {
              authorizer: {
                iam: {
                  accessKey: 'ASIAEXAMPLEACCESSKEY',
                  accountId: '123456789012',
                  callerId: 'AIDAEXAMPLE',
                  cognitoIdentity: null,
                  principalOrgId: null,
                  userArn,
                  userId: 'AIDAEXAMPLE',
                },
              },
            }
          : {}),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      isBase64Encoded: false,
    };
  }

  async function approvalItems(incidentId: string) {
    const { Items } = await dynamo.send(
      new ScanCommand({
        TableName: approvalTable,
        FilterExpression: 'incident_id = :id',
        ExpressionAttributeValues: { ':id': { S: incidentId } },
        ConsistentRead: true,
      }),
    );
    return Items ?? [];
  }

  const auditRecords = (incidentId: string) => new AuditTrail(dynamo, auditTable).records(incidentId);

  it('publishes an approval request without the task token or the seeded secrets, and stores the token', async () => {
    // Prepare
    const { payload } = await waitingExecution(waitingMachine, 'inc-request');
    await drainInbox();
    const before = Math.floor(Date.now() / 1000);

    // Act
    const { result, output } = await logged(() => notifyHandler(payload, fakeLambdaContext('notify')));
    const [envelope, ...others] = await drainInbox();

    // Assess
    expect(others).toEqual([]);
    expect(result).toEqual({
      message_id: envelope!.MessageId,
      approval_id: approvalIdFor(payload.task_token),
    });
    const published = JSON.stringify(envelope);
    for (const secret of [payload.task_token, SEEDED_AWS_KEY, SEEDED_GITHUB_TOKEN]) {
      expect(published).not.toContain(secret);
      expect(output).not.toContain(secret);
    }
    expect(envelope!.Subject).toBe('[Suture] Approval needed: rollback_stage on shop-api/Deploy');
    expect(envelope!.MessageAttributes['suture.approval_id']!.Value).toBe(result.approval_id);
    const text = envelope!.Message;
    expect(text).toContain(
      `suture approve ${result.approval_id} --approve --url https://abc123.lambda-url.us-west-2.on.aws/`,
    );
    expect(text).toContain('[REDACTED:aws-access-key-id]');
    expect(text).toContain('approval_required_protected_stage: stage Deploy is protected');
    const details = JSON.parse(text.slice(text.indexOf(DETAILS_MARKER) + DETAILS_MARKER.length));
    expect(details).toMatchObject({
      kind: 'approval',
      incident: { id: 'inc-request', pipeline: 'shop-api', stage: 'Deploy' },
      classification: { class: 'deploy_health' },
      proposal: { action: 'rollback_stage' },
      decision: { outcome: 'require_approval', bundle_revision: `sha256:${'cd'.repeat(32)}` },
      approval_request: { approval_id: result.approval_id },
    });
    const [item, ...moreItems] = await approvalItems('inc-request');
    expect(moreItems).toEqual([]);
    expect(item).toMatchObject({
      approval_id: { S: result.approval_id },
      task_token: { S: payload.task_token },
      action: { S: 'rollback_stage' },
      status: { S: 'pending' },
      message_id: { S: envelope!.MessageId },
    });
    expect(Number(item!.expires_at!.N)).toBeGreaterThanOrEqual(before + TTL_SECONDS);
    expect(Number(item!.expires_at!.N)).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + TTL_SECONDS);
    const records = await auditRecords('inc-request');
    expect(records.map((r) => r.step)).toEqual(['approval_requested']);
    expect(records[0]!.data).toMatchObject({
      approval_id: result.approval_id,
      message_id: envelope!.MessageId,
    });
    expect(JSON.stringify(records)).not.toContain(payload.task_token);
  });

  it('publishes once and keeps one pending approval when the request is delivered again', async () => {
    // Prepare
    const payload = {
      state: stateDocument('inc-redelivered'),
      task_token: `AQB${randomBytes(96).toString('base64url')}`,
      kind: 'approval' as const,
    };
    await drainInbox();

    // Act
    const first = await notify(payload);
    const second = await notify(payload);
    const messages = await drainInbox();

    // Assess
    expect(second).toEqual(first);
    expect(messages.map((m) => m.MessageId)).toEqual([first.message_id]);
    expect(await approvalItems('inc-redelivered')).toHaveLength(1);
    expect((await auditRecords('inc-redelivered')).map((r) => r.step)).toEqual(['approval_requested']);
  });

  it('approves: SendTaskSuccess resumes the execution with the approver from the IAM authorizer', async () => {
    // Prepare
    const { executionArn, payload } = await waitingExecution(waitingMachine, 'inc-approve');
    const { approval_id } = await notify(payload);

    // Act
    const { result: response, output } = await logged(() =>
      approvalHandler(
        functionUrlEvent(ALICE, { approval_id, decision: 'approve', reason: 'rollback target is healthy' }),
        fakeLambdaContext('approval'),
      ),
    );
    const execution = await settled(executionArn);

    // Assess
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({
      approval_id,
      incident_id: 'inc-approve',
      decision: 'approved',
      approver: ALICE,
      action: 'rollback_stage',
    });
    expect(execution.status).toBe('SUCCEEDED');
    expect(
      sfnCalls.filter((call) => call.body.taskToken === payload.task_token).map((c) => c.target),
    ).toEqual(['SendTaskSuccess']);
    const approval = ApprovalResultSchema.parse(JSON.parse(execution.output!).approval);
    const steps = [
      { action: 'rollback_stage', parameters: { stage: 'Deploy', target_execution_id: 'exec-0' } },
    ];
    expect(approval).toEqual({
      approved: true,
      approver: ALICE,
      action: 'rollback_stage',
      steps,
      plan_sha256: planDigest(steps),
      at: expect.any(String),
    });
    expect(output).toContain('"message":"approval decided"');
    expect(output).not.toContain(payload.task_token);
    const [item] = await approvalItems('inc-approve');
    expect(item).toMatchObject({ status: { S: 'approved' }, decided_by: { S: ALICE } });
    const records = await auditRecords('inc-approve');
    expect(records.map((r) => r.step)).toEqual(['approval_requested', 'approval']);
    expect(records[1]!.data).toMatchObject({
      approval_id,
      decision: 'approved',
      approver: ALICE,
      reason: 'rollback target is healthy',
    });
    expect(JSON.stringify(records)).not.toContain(payload.task_token);
    expect(verifyChain(records).ok).toBe(true);
  });

  it('asks one approval for a whole plan, and resumes the workflow bound to every step', async () => {
    // Prepare: a plan of two steps, a repair and its resume.
    const state = stateDocument('inc-plan', [RESUME]);
    const { executionArn, payload } = await waitingExecution(waitingMachine, 'inc-plan', state);
    await drainInbox();

    // Act
    const { approval_id } = await notify(payload);
    const [envelope] = await drainInbox();
    const response = await approvalHandler(
      functionUrlEvent(ALICE, { approval_id, decision: 'approve' }),
      fakeLambdaContext('approval'),
    );
    const execution = await settled(executionArn);

    // Assess: the approver is shown every step, and one decision binds them all.
    const steps = [
      { action: 'rollback_stage', parameters: { stage: 'Deploy', target_execution_id: 'exec-0' } },
      { action: 'start_pipeline_execution', parameters: { pipeline: 'shop-api' } },
    ];
    expect(envelope!.Subject).toBe(
      '[Suture] Approval needed: rollback_stage then start_pipeline_execution on shop-api/Deploy',
    );
    const text = envelope!.Message;
    expect(text).toContain('Then (step 2): start_pipeline_execution (playbook, confidence 0.82)');
    expect(text).toContain(
      'One decision covers every step of the plan, in order: 1. rollback_stage, 2. start_pipeline_execution',
    );
    expect(text).toContain(`(plan sha256 ${planDigest(steps)})`);
    const details = JSON.parse(text.slice(text.indexOf(DETAILS_MARKER) + DETAILS_MARKER.length));
    expect(details).toMatchObject({
      then: [{ action: 'start_pipeline_execution' }],
      approval_request: {
        steps: ['rollback_stage', 'start_pipeline_execution'],
        plan_sha256: planDigest(steps),
      },
    });
    const [item] = await approvalItems('inc-plan');
    expect(item).toMatchObject({
      steps: { S: JSON.stringify(steps) },
      plan_sha256: { S: planDigest(steps) },
    });
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ steps, plan_sha256: planDigest(steps) });
    expect(ApprovalResultSchema.parse(JSON.parse(execution.output!).approval)).toMatchObject({
      approved: true,
      action: 'rollback_stage',
      steps,
      plan_sha256: planDigest(steps),
    });
    const records = await auditRecords('inc-plan');
    expect(records.map((r) => r.step)).toEqual(['approval_requested', 'approval']);
    expect(records[0]!.data).toMatchObject({
      steps: ['rollback_stage', 'start_pipeline_execution'],
      plan_sha256: planDigest(steps),
    });
  });
  it('refuses a second decision on the same approval with 409', async () => {
    // Prepare
    const { executionArn, payload } = await waitingExecution(waitingMachine, 'inc-reuse');
    const { approval_id } = await notify(payload);
    const first = await handleApprovalUrl(functionUrlEvent(ALICE, { approval_id, decision: 'approve' }));

    // Act
    const again = await handleApprovalUrl(
      functionUrlEvent(BOB, { approval_id, decision: 'reject', reason: 'too late' }),
    );

    // Assess
    expect(first.statusCode).toBe(200);
    expect(again.statusCode).toBe(409);
    expect(JSON.parse(again.body).message).toContain(`already decided: approved by ${ALICE}`);
    expect((await settled(executionArn)).status).toBe('SUCCEEDED');
    expect((await auditRecords('inc-reuse')).map((r) => r.step)).toEqual(['approval_requested', 'approval']);
  });

  it('rejects: SendTaskFailure fails the task with ApprovalRejectedError and a redacted reason', async () => {
    // Prepare
    const { executionArn, payload } = await waitingExecution(waitingMachine, 'inc-reject');
    const { approval_id } = await notify(payload);

    // Act
    const response = await handleApprovalUrl(
      functionUrlEvent(BOB, {
        approval_id,
        decision: 'reject',
        reason: `leaked ${SEEDED_GITHUB_TOKEN} in the log`,
      }),
    );
    const execution = await settled(executionArn);

    // Assess
    expect(response.statusCode).toBe(200);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('ApprovalRejectedError');
    const sent = sfnCalls.filter((call) => call.body.taskToken === payload.task_token);
    expect(sent).toEqual([
      {
        target: 'SendTaskFailure',
        body: {
          taskToken: payload.task_token,
          error: 'ApprovalRejectedError',
          cause: `Rejected by ${BOB}: leaked [REDACTED:github-token] in the log`,
        },
      },
    ]);
    const records = await auditRecords('inc-reject');
    expect(records[1]).toMatchObject({ step: 'approval', data: { decision: 'rejected', approver: BOB } });
    expect(JSON.stringify(records)).not.toContain(SEEDED_GITHUB_TOKEN);
    expect(JSON.stringify(records)).not.toContain(payload.task_token);
  });

  it('answers 410 once the approval expired, and leaves the task waiting', async () => {
    // Prepare
    const { executionArn, payload } = await waitingExecution(waitingMachine, 'inc-expired');
    const { approval_id } = await notify(payload);
    const afterExpiry = new Date(Date.now() + (TTL_SECONDS + 60) * 1000);

    // Act
    const response = await handleApprovalUrl(
      functionUrlEvent(ALICE, { approval_id, decision: 'approve' }),
      afterExpiry,
    );

    // Assess
    expect(response.statusCode).toBe(410);
    expect(JSON.parse(response.body).message).toContain(`approval ${approval_id} expired at`);
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');
    expect((await approvalItems('inc-expired'))[0]).toMatchObject({ status: { S: 'pending' } });
  });

  it('answers 410 when Step Functions no longer waits for the token (task timed out)', async () => {
    // Prepare: the state machine gives up after 1 s.
    const { executionArn, payload } = await waitingExecution(impatientMachine, 'inc-timed-out');
    const { approval_id } = await notify(payload);
    expect((await settled(executionArn)).status).toBe('FAILED');

    // Act
    const response = await handleApprovalUrl(functionUrlEvent(ALICE, { approval_id, decision: 'approve' }));
    const retry = await handleApprovalUrl(functionUrlEvent(ALICE, { approval_id, decision: 'approve' }));

    // Assess
    expect(response.statusCode).toBe(410);
    expect(JSON.parse(response.body).message).toMatch(
      /no longer waits for it \((InvalidToken|TaskTimedOut|TaskDoesNotExist)\)/,
    );
    expect(response.body).not.toContain(payload.task_token);
    expect(retry.statusCode).toBe(410);
    expect((await approvalItems('inc-timed-out'))[0]).toMatchObject({ status: { S: 'expired' } });
    expect((await auditRecords('inc-timed-out')).map((r) => r.step)).toEqual([
      'approval_requested',
      'approval',
      'approval_not_delivered',
    ]);
  });

  it('answers 404 for an unknown approval id, 403 without an IAM identity and 400 for a bad body', async () => {
    // Act
    const unknown = await handleApprovalUrl(
      functionUrlEvent(ALICE, { approval_id: `apr-${randomBytes(16).toString('hex')}`, decision: 'approve' }),
    );
    const direct = await handleApprovalUrl({ approval_id: `apr-${'0'.repeat(32)}`, decision: 'approve' });
    const anonymous = await handleApprovalUrl(
      functionUrlEvent(undefined, { approval_id: `apr-${'0'.repeat(32)}`, decision: 'approve' }),
    );
    const bad = await handleApprovalUrl(functionUrlEvent(ALICE, { approval_id: 'nope', decision: 'maybe' }));
    const get = await handleApprovalUrl(functionUrlEvent(ALICE, '', 'GET'));

    // Assess
    expect(unknown.statusCode).toBe(404);
    expect(JSON.parse(unknown.body).message).toContain('unknown approval id');
    expect(direct.statusCode).toBe(403);
    expect(anonymous.statusCode).toBe(403);
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body).message).toContain('approval_id must look like apr-');
    expect(get.statusCode).toBe(405);
  });

  it('escalates with the error, the decision and a redacted excerpt, bounded to the SNS limit', async () => {
    // Prepare: a validation observation far larger than an SNS message.
    const state = {
      ...stateDocument('inc-escalate'),
      validation: {
        healthy: false,
        observed: { alarm_history: 'x'.repeat(400_000) },
        checked_at: '2026-11-23T10:30:00Z',
      },
      error: { Error: 'ApprovalRejectedError', Cause: `Rejected by ${BOB}: not now` },
    };
    await drainInbox();

    // Act
    const result = await notify({ state, kind: 'escalation' });
    const [envelope, ...others] = await drainInbox();

    // Assess
    expect(others).toEqual([]);
    expect(result).toEqual({ message_id: envelope!.MessageId });
    expect(Buffer.byteLength(envelope!.Message, 'utf8')).toBeLessThanOrEqual(BODY_MAX_BYTES);
    expect(envelope!.Subject).toBe('[Suture] Escalated: shop-api/Deploy (deploy_health) needs a human');
    expect(envelope!.Message).toContain('Error:      ApprovalRejectedError');
    expect(envelope!.Message).toContain('more characters]');
    expect(envelope!.Message).not.toContain(SEEDED_AWS_KEY);
    expect(envelope!.Message).not.toContain(SEEDED_GITHUB_TOKEN);
    expect(
      (await auditRecords('inc-escalate')).map((r) => [
        r.step,
        (r.data as { message_id: string }).message_id,
      ]),
    ).toEqual([['escalation', result.message_id]]);
  });

  it('announces a resolution and audits it', async () => {
    // Prepare
    const state = {
      ...stateDocument('inc-resolved'),
      approval: { approved: true, approver: ALICE, action: 'rollback_stage', at: '2026-11-23T10:10:00Z' },
      execution: { action: 'rollback_stage', outcome: 'executed', detail: {}, at: '2026-11-23T10:11:00Z' },
      validation: { healthy: true, observed: { alarms: 'OK' }, checked_at: '2026-11-23T10:20:00Z' },
    };
    await drainInbox();

    // Act
    const result = await notify({ state, kind: 'resolved' });
    const [envelope] = await drainInbox();

    // Assess
    expect(envelope!.Subject).toBe('[Suture] Resolved: shop-api/Deploy by rollback_stage');
    expect(envelope!.Message).toContain(`Approval:   approved by ${ALICE}`);
    expect(envelope!.Message).toContain('Validation: healthy');
    expect((await auditRecords('inc-resolved')).map((r) => r.step)).toEqual(['resolved']);
    expect(result.message_id).toBe(envelope!.MessageId);
  });

  describe('suture approve', () => {
    const credentials: Record<string, { secret: string; arn: string }> = {
      AKIDALICEEXAMPLE0001: { secret: 'alice-secret-key', arn: ALICE },
    };
    let server: Server;
    let url: string;
    const seen: Array<{ authorization?: string; verified: boolean }> = [];

    /** Parses the SigV4 Authorization header and signs the same request again; true when both match. */
    async function verifySignature(request: IncomingMessage, body: string): Promise<string | undefined> {
      const authorization = request.headers.authorization ?? '';
      const match =
        /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/lambda\/aws4_request, SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$/.exec(
          authorization,
        );
      const caller = match ? credentials[match[1]!] : undefined;
      const amzDate = request.headers['x-amz-date'];
      if (!match || !caller || typeof amzDate !== 'string') return undefined;
      const headers = Object.fromEntries(
        match[3]!.split(';').map((name) => [name, String(request.headers[name] ?? '')]),
      );
      const [, y, mo, d, h, mi, s] = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate)!;
      const signingDate = new Date(Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!));
      const resigned = await new SignatureV4({
        service: 'lambda',
        region: match[2]!,
        credentials: { accessKeyId: match[1]!, secretAccessKey: caller.secret },
        sha256: Sha256,
      }).sign(
        new HttpRequest({
          method: request.method!,
          protocol: 'http:',
          hostname: '127.0.0.1',
          path: request.url!.split('?')[0]!,
          headers,
          body,
        }),
        { signingDate },
      );
      return resigned.headers.authorization === authorization ? caller.arn : undefined;
    }

    beforeAll(async () => {
      // A stand-in for the function URL: Lambda verifies SigV4 and passes the caller's ARN on.
      server = createHttpServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          void (async () => {
            const arn = await verifySignature(request, body);
            seen.push({ authorization: request.headers.authorization, verified: arn !== undefined });
            const answer = arn
              ? await handleApprovalUrl(functionUrlEvent(arn, body, request.method))
              : { statusCode: 403, headers: {}, body: '{"Message":"Forbidden"}' };
            response.writeHead(answer.statusCode, { 'content-type': 'application/json' });
            response.end(answer.body);
          })();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
    });

    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    function cliEnv(accessKeyId: string, secretAccessKey: string): NodeJS.ProcessEnv {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        AWS_ACCESS_KEY_ID: accessKeyId,
        AWS_SECRET_ACCESS_KEY: secretAccessKey,
        AWS_REGION: 'us-west-2',
        AWS_EC2_METADATA_DISABLED: 'true',
      };
      delete env.AWS_SESSION_TOKEN;
      delete env.AWS_PROFILE;
      return env;
    }

    /**
     * The CLI as tests/helpers/cli.ts runs it, but without blocking: the helper's spawnSync
     * would stop this process's event loop, and with it the function URL stand-in.
     */
    function sutureAsync(args: string[], env: NodeJS.ProcessEnv) {
      const root = repoRoot();
      const child = spawn(
        join(root, 'node_modules', '.bin', 'tsx'),
        [join(root, 'cli', 'suture.ts'), ...args],
        {
          env,
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
        child.on('close', (code) => resolve({ code, stdout, stderr })),
      );
    }

    it('signs the decision with SigV4; the function URL records the signer as approver', async () => {
      // Prepare
      const { executionArn, payload } = await waitingExecution(waitingMachine, 'inc-cli');
      const { approval_id } = await notify(payload);
      seen.length = 0;

      // Act
      const forged = await sutureAsync(
        ['approve', approval_id!, '--approve', '--url', url],
        cliEnv('AKIDALICEEXAMPLE0001', 'not-alice-secret'),
      );
      const approved = await sutureAsync(
        ['approve', approval_id!, '--approve', '--reason', 'ship it', '--url', url],
        cliEnv('AKIDALICEEXAMPLE0001', 'alice-secret-key'),
      );
      const reused = await sutureAsync(
        ['approve', approval_id!, '--reject', '--url', url],
        cliEnv('AKIDALICEEXAMPLE0001', 'alice-secret-key'),
      );

      // Assess
      expect(
        seen.map((s) => s.authorization?.startsWith('AWS4-HMAC-SHA256 Credential=AKIDALICEEXAMPLE0001/')),
      ).toEqual([true, true, true]);
      expect(seen.map((s) => s.verified)).toEqual([false, true, true]);
      expect(forged.code).toBe(1);
      expect(forged.stderr).toContain('refused (HTTP 403)');
      expect(approved.code).toBe(0);
      expect(JSON.parse(approved.stdout)).toMatchObject({
        approval_id,
        decision: 'approved',
        approver: ALICE,
      });
      expect(reused.code).toBe(1);
      expect(reused.stderr).toContain('already decided');
      const execution = await settled(executionArn);
      expect(JSON.parse(execution.output!).approval).toMatchObject({ approved: true, approver: ALICE });
    });

    it('exits 2 on a usage error, without calling anything', () => {
      // Act
      const neither = suture([
        'approve',
        `apr-${'0'.repeat(32)}`,
        '--url',
        'https://x.lambda-url.us-west-2.on.aws/',
      ]);
      const badId = suture([
        'approve',
        'inc-123',
        '--approve',
        '--url',
        'https://x.lambda-url.us-west-2.on.aws/',
      ]);
      const plainHttp = suture([
        'approve',
        `apr-${'0'.repeat(32)}`,
        '--approve',
        '--url',
        'http://example.com/',
      ]);

      // Assess
      expect(neither.code).toBe(2);
      expect(neither.stderr).toContain('exactly one of --approve and --reject');
      expect(badId.code).toBe(2);
      expect(plainHttp.code).toBe(2);
      expect(plainHttp.stderr).toContain('--url must be https://');
    });
  });

  it('keeps the token out of the store API errors: a decided approval is refused without revealing it', async () => {
    // Prepare
    const store = new ApprovalStore(dynamo, approvalTable);
    const token = `AQB${randomBytes(64).toString('base64url')}`;
    const approvalId = approvalIdFor(token);
    await store.createPending({
      approvalId,
      taskToken: token,
      incidentId: 'inc-store',
      action: 'retry_stage',
      expiresAt: Math.floor(Date.now() / 1000) + 60,
      now: new Date(),
    });
    await store.decide(approvalId, { status: 'approved', approver: ALICE, at: new Date() });

    // Act
    const refusal = await store
      .decide(approvalId, { status: 'rejected', approver: BOB, at: new Date() })
      .catch((error: unknown) => error as Error);

    // Assess
    expect(refusal).toMatchObject({ name: 'ApprovalAlreadyDecidedError' });
    expect(JSON.stringify({ ...refusal, message: (refusal as Error).message })).not.toContain(token);
  });
});
