import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, type KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { defaultBundlePaths } from '../../cli/policy/build';
import { decideApproval, resetApprovalForTests } from '../../functions/approval';
import { classify } from '../../functions/classify';
import { collectEvidence, resetCollectEvidenceForTests } from '../../functions/collect-evidence';
import { observeAwsCalls, resetAwsClients, type AwsCallTiming } from '../../functions/commons/aws/clients';
import { execute, resetExecutorForTests } from '../../functions/execute';
import { notify, resetNotifyForTests } from '../../functions/notify';
import { plan } from '../../functions/plan';
import { decide, resetGateForTests } from '../../functions/policy-gate';
import { resetTriageForTests, triage } from '../../functions/triage';
import type { TriageResult } from '../../functions/triage/schema';
import { resetValidateForTests, validate } from '../../functions/validate';
import { BedrockAgentFake } from '../bedrock-agent/server';
import { CodePipelineFake } from '../codepipeline';
import { startMoto, stopMoto, type MotoServer } from '../moto/server';
import { LocalStepFunctions, type LocalExecution } from '../stepfunctions/server';
import { runWorkflow, type LocalFunction, type RunnerObserver, type WorkflowRun } from '../workflow/runner';

/** The functions the workflow definition invokes, by the name the module gives them. */
export const LOOP_FUNCTIONS = [
  'collect-evidence',
  'classify',
  'plan',
  'policy-gate',
  'execute',
  'validate',
  'notify',
] as const;

/** The ARN a loop function has in the local account. */
export function localFunctionArn(name: string): string {
  return `arn:aws:lambda:us-west-2:123456789012:function:suture-${name}`;
}

/** A request for approval that a handler sent while the loop ran. */
export interface ApprovalRequested {
  readonly approvalId: string;
  readonly incidentId: string;
  readonly action: string;
}

/** How the local loop answers approval requests: approve, reject, or let them time out. */
export type ApprovalResponder = (
  request: ApprovalRequested,
) =>
  { readonly decision: 'approve' | 'reject'; readonly approver: string; readonly reason?: string } | 'ignore';

/** Options of {@link startLocalLoop}. */
export interface LocalLoopOptions {
  /** The state machine definition to run (the module's, with the local ARNs). */
  readonly definition: Record<string, unknown>;
  /** An already running moto endpoint; otherwise the loop starts (and stops) its own. */
  readonly motoEndpoint?: string;
  /** Answers approval requests. @default every request is ignored (it times out) */
  readonly approvals?: ApprovalResponder;
  /** A `.waitForTaskToken` state times out after this long (ms). @default 2000 */
  readonly callbackTimeoutMs?: number;
  /** Extra environment for the functions (e.g. SUTURE_ALARM_TARGETS, SUTURE_SCOPE). */
  readonly environment?: Readonly<Record<string, string>>;
  /** Whether the plan function may ask the (fake) Bedrock agent. @default true */
  readonly bedrock?: boolean;
  /** Progress of each execution's states. */
  readonly observer?: (execution: LocalExecution) => RunnerObserver | undefined;
}

/** A whole Suture loop on 127.0.0.1: real handlers, real policy wasm, emulated AWS. */
export interface LocalLoop {
  readonly codePipeline: CodePipelineFake;
  readonly bedrock: BedrockAgentFake;
  readonly stepFunctions: LocalStepFunctions;
  readonly motoEndpoint: string;
  /** The environment the functions run with (table names, bucket, topic, endpoints). */
  readonly environment: Readonly<Record<string, string>>;
  readonly stateMachineArn: string;
  /** Approval requests seen so far. */
  readonly approvalRequests: readonly ApprovalRequested[];
  /**
   * Every AWS call the functions made so far (moto, the CodePipeline, Bedrock and Step
   * Functions fakes), each timed from request sent to response received.
   */
  readonly awsCalls: readonly AwsCallTiming[];
  /**
   * Sets more environment for the functions (e.g. SUTURE_ALARM_TARGETS) and makes them read it
   * again. SDK clients and the loaded policy bundle are kept unless an `AWS_*`, `SUTURE_S3_*`
   * or `SUTURE_POLICY_*` variable is among those set.
   */
  reconfigure(environment: Readonly<Record<string, string>>): void;
  /** Delivers one EventBridge event to the triage function. */
  deliver(event: unknown): Promise<TriageResult>;
  /** Waits for every execution started so far to end. */
  settle(): Promise<Map<string, WorkflowRun>>;
  /** Stops the servers and restores the process environment. */
  stop(): Promise<void>;
}

/**
 * What Lambda passes a handler as its context, for the handlers that read it (execute gives
 * Powertools idempotency the time left, so an in-progress record expires with the invocation).
 */
function lambdaContext(name: string, timeoutMs = 60_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: `suture-local-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: localFunctionArn(name),
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/suture-local-${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Makes the functions read their environment again. Like a warm Lambda execution environment,
 * the loop keeps its SDK clients and its loaded policy bundle between incidents; those are
 * dropped too only when a variable they are built from changes (`AWS_*` and `SUTURE_S3_*` for
 * the clients, `SUTURE_POLICY_*` for the bundle), or when `everything` is asked for.
 */
function resetFunctions(changed: readonly string[] | 'everything'): void {
  const touches = (prefix: string) =>
    changed === 'everything' || changed.some((name) => name.startsWith(prefix));
  if (touches('AWS_') || touches('SUTURE_S3_')) resetAwsClients();
  if (touches('SUTURE_POLICY_')) resetGateForTests();
  resetTriageForTests();
  resetCollectEvidenceForTests();
  // The executor shares the process's policy gate, reset above when its variables change.
  resetExecutorForTests({ keepPolicyGate: true });
  resetValidateForTests();
  resetNotifyForTests();
  resetApprovalForTests();
}

async function createTable(
  dynamo: DynamoDBClient,
  name: string,
  hash: string,
  range?: string,
): Promise<string> {
  const keys: KeySchemaElement[] = [{ AttributeName: hash, KeyType: 'HASH' }];
  if (range) keys.push({ AttributeName: range, KeyType: 'RANGE' });
  await dynamo.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: hash, AttributeType: 'S' },
        ...(range ? [{ AttributeName: range, AttributeType: 'N' as const }] : []),
      ],
      KeySchema: keys,
    }),
  );
  return name;
}

/**
 * Starts the loop: moto (unless given), the CodePipeline and Bedrock protocol fakes, the local
 * Step Functions endpoint; creates the tables, bucket and topic; points every AWS SDK client
 * of this process at them through `AWS_ENDPOINT_URL*`. Each StartExecution from triage runs
 * the definition with the real handlers.
 */
export async function startLocalLoop(options: LocalLoopOptions): Promise<LocalLoop> {
  const savedEnvironment = { ...process.env };
  let moto: MotoServer | undefined;
  const motoEndpoint = options.motoEndpoint ?? (moto = await startMoto()).endpoint;
  const codePipeline = new CodePipelineFake();
  await codePipeline.start();
  const bedrock = new BedrockAgentFake();
  await bedrock.start();

  const runs = new Map<string, Promise<WorkflowRun>>();
  const approvalRequests: ApprovalRequested[] = [];
  const id = randomUUID().slice(0, 8);
  const clientConfig = {
    endpoint: motoEndpoint,
    region: 'us-west-2',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
  const dynamo = new DynamoDBClient(clientConfig);
  const s3 = new S3Client({ ...clientConfig, forcePathStyle: true });
  const sns = new SNSClient(clientConfig);
  const bucket = `suture-evidence-${id}`;
  await s3.send(
    new CreateBucketCommand({
      Bucket: bucket,
      CreateBucketConfiguration: { LocationConstraint: 'us-west-2' },
    }),
  );
  const topic = await sns.send(new CreateTopicCommand({ Name: `suture-notifications-${id}` }));
  const environment: Record<string, string> = {
    AWS_REGION: 'us-west-2',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_ENDPOINT_URL: motoEndpoint,
    AWS_ENDPOINT_URL_CODEPIPELINE: codePipeline.endpoint,
    AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME: bedrock.endpoint,
    SUTURE_S3_FORCE_PATH_STYLE: 'true',
    SUTURE_GUARD_TABLE: await createTable(dynamo, `suture-guard-${id}`, 'pk'),
    SUTURE_AUDIT_TABLE: await createTable(dynamo, `suture-audit-${id}`, 'incident_id', 'seq'),
    SUTURE_IDEMPOTENCY_TABLE: await createTable(dynamo, `suture-idempotency-${id}`, 'id'),
    SUTURE_APPROVAL_TABLE: await createTable(dynamo, `suture-approvals-${id}`, 'approval_id'),
    SUTURE_EVIDENCE_BUCKET: bucket,
    SUTURE_TOPIC_ARN: topic.TopicArn!,
    SUTURE_STATE_MACHINE_ARN: 'arn:aws:states:us-west-2:123456789012:stateMachine:suture-loop',
    SUTURE_POLICY_BUNDLE: defaultBundlePaths().bundleFile,
    SUTURE_POLICY_ALLOW_UNSIGNED: 'true',
    SUTURE_LOG_TAIL_PAGES: '3',
    POWERTOOLS_METRICS_NAMESPACE: 'SutureLocal',
    ...(options.bedrock === false
      ? {}
      : {
          SUTURE_BEDROCK_AGENT_ID: 'LOCALAGENT',
          SUTURE_BEDROCK_AGENT_ALIAS_ID: 'LOCALALIAS',
          SUTURE_BEDROCK_TIMEOUT_MS: '2000',
        }),
    ...options.environment,
  };
  dynamo.destroy();
  s3.destroy();
  sns.destroy();

  const respond = options.approvals ?? (() => 'ignore' as const);
  const notifyWithApprovals: LocalFunction = async (payload) => {
    const result = await notify(payload);
    const request = payload as {
      kind?: string;
      state?: { incident?: { id?: string }; plan?: { proposal?: { action?: string } } };
    };
    if (request.kind === 'approval' && result.approval_id) {
      const requested: ApprovalRequested = {
        approvalId: result.approval_id,
        incidentId: String(request.state?.incident?.id ?? ''),
        action: String(request.state?.plan?.proposal?.action ?? ''),
      };
      approvalRequests.push(requested);
      const answer = respond(requested);
      if (answer !== 'ignore') {
        // Answer after the workflow has started waiting, as a human would.
        setTimeout(() => {
          void decideApproval(
            {
              approval_id: requested.approvalId,
              decision: answer.decision,
              ...(answer.reason ? { reason: answer.reason } : {}),
            },
            answer.approver,
          ).catch(() => undefined);
        }, 10);
      }
    }
    return result;
  };
  const functions = new Map<string, LocalFunction>([
    [localFunctionArn('collect-evidence'), (payload) => collectEvidence(payload)],
    [localFunctionArn('classify'), (payload) => classify(payload)],
    [localFunctionArn('plan'), (payload) => plan(payload)],
    [localFunctionArn('policy-gate'), (payload) => decide(payload)],
    [localFunctionArn('execute'), (payload) => execute(payload, lambdaContext('execute'))],
    [localFunctionArn('validate'), (payload) => validate(payload)],
    [localFunctionArn('notify'), notifyWithApprovals],
  ]);

  const stepFunctions: LocalStepFunctions = new LocalStepFunctions((execution) => {
    const run = runWorkflow({
      definition: options.definition,
      functions,
      input: JSON.parse(execution.input) as unknown,
      name: execution.name,
      taskTokens: stepFunctions,
      callbackTimeoutMs: options.callbackTimeoutMs ?? 2_000,
      ...(options.observer?.(execution) ? { observer: options.observer(execution)! } : {}),
    }).then((result) => {
      stepFunctions.finish(execution.executionArn, result.status);
      return result;
    });
    runs.set(execution.executionArn, run);
  });
  await stepFunctions.start();
  environment.AWS_ENDPOINT_URL_SFN = stepFunctions.endpoint;
  Object.assign(process.env, environment);
  const awsCalls: AwsCallTiming[] = [];
  observeAwsCalls((call) => awsCalls.push(call));
  resetFunctions('everything');

  return {
    codePipeline,
    bedrock,
    stepFunctions,
    motoEndpoint,
    environment,
    stateMachineArn: environment.SUTURE_STATE_MACHINE_ARN!,
    approvalRequests,
    awsCalls,
    reconfigure(extra) {
      Object.assign(environment, extra);
      Object.assign(process.env, extra);
      resetFunctions(Object.keys(extra));
    },
    deliver: (event) => triage(event),
    async settle() {
      const settled = new Map<string, WorkflowRun>();
      let pending = [...runs.entries()].filter(([arn]) => !settled.has(arn));
      while (pending.length > 0) {
        for (const [arn, run] of pending) settled.set(arn, await run);
        pending = [...runs.entries()].filter(([arn]) => !settled.has(arn));
      }
      return settled;
    },
    async stop() {
      await Promise.allSettled([...runs.values()]);
      await Promise.allSettled([stepFunctions.stop(), codePipeline.stop(), bedrock.stop()]);
      if (moto) stopMoto(moto.pid);
      for (const key of Object.keys(process.env)) if (!(key in savedEnvironment)) delete process.env[key];
      Object.assign(process.env, savedEnvironment);
      observeAwsCalls(undefined);
      resetFunctions('everything');
    },
  };
}
