import type { Context } from 'aws-lambda';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodeBuildClient, CreateProjectCommand, StartBuildCommand } from '@aws-sdk/client-codebuild';
import {
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  type AttributeDefinition,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, DescribeKeyCommand, KMSClient, NotFoundException } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { decideApproval, resetApprovalForTests } from '../../functions/approval';
import { classify } from '../../functions/classify';
import { collectEvidence, resetCollectEvidenceForTests } from '../../functions/collect-evidence';
import { instrumentAwsClients, resetAwsClients } from '../../functions/commons/aws/clients';
import { setEnvironmentSource } from '../../functions/commons/config';
import { execute, resetExecutorForTests } from '../../functions/execute';
import { notify, resetNotifyForTests } from '../../functions/notify';
import { plan } from '../../functions/plan';
import { decide, resetGateForTests } from '../../functions/policy-gate';
import { resetTriageForTests, triage } from '../../functions/triage';
import type { TriageResult } from '../../functions/triage/schema';
import { resetValidateForTests, validate } from '../../functions/validate';
import { instrumentClient, principals, type AwsCallTiming } from '../aws/instrument';
import { BedrockAgentFake } from '../bedrock-agent/server';
import { CodePipelineFake } from '../codepipeline';
import type { FaultInjector } from '../faults/injector';
import { fillModuleSecrets, startLoopGitHub } from '../github/loop';
import type { GitHubFake } from '../github/server';
import { IamReplay, type ReplayDecision, type UnusedGrant } from '../iam/replay';
import { startMoto, stopMoto, type MotoServer } from '../moto/server';
import { LocalStepFunctions, type LocalExecution } from '../stepfunctions/server';
import { runWorkflow, type LocalFunction, type RunnerObserver, type WorkflowRun } from '../workflow/runner';
import { deployModule, type LoopDeployment } from './deployment';
import { EnvironmentRecorder, type EnvironmentGap } from './environment';

/** The account and region the local loop deploys the module to. */
export const LOCAL_ACCOUNT = '123456789012';
export const LOCAL_REGION = 'us-west-2';

/** The principal name the state machine's own calls (service integrations) are attributed to. */
export const STATE_MACHINE_PRINCIPAL = 'state-machine';

/**
 * The handlers' SDK clients wait this long before their n-th retry (ms) instead of the SDK's
 * exponential back-off (100 ms base, 500 ms when throttled, up to 20 s): the local loop runs
 * on emulated time for waits, as Step Functions' retry intervals shrink to nothing here, so a
 * fault run (`suture simulate --faults`) spends its wall time on the loop's work. The SDK
 * still decides what to retry and how many times.
 */
export const LOCAL_SDK_RETRY_BACKOFF = (retry: number): number => 5 * retry;

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
  /** The synthesised module (`synthesizeModule`): what deploys is what runs. */
  readonly moduleDir: string;
  /**
   * The module's input variables, as a root module would pass them (`pipelines` is required).
   * `name_prefix` defaults to one unique to this loop, so loops sharing one moto do not collide.
   */
  readonly variables: Readonly<Record<string, unknown>>;
  /** An already running moto endpoint; otherwise the loop starts (and stops) its own. */
  readonly motoEndpoint?: string;
  /** Answers approval requests. @default every request is ignored (it times out) */
  readonly approvals?: ApprovalResponder;
  /** A `.waitForTaskToken` state times out after this long (ms). @default 2000 */
  readonly callbackTimeoutMs?: number;
  /** Progress of each execution's states. */
  readonly observer?: (execution: LocalExecution) => RunnerObserver | undefined;
  /**
   * Injects faults into every handler's AWS calls and GitHub requests, and kills invocations
   * part-way (`suture simulate --faults`). @default none
   */
  readonly faults?: FaultInjector;
}

/** The module's resources a caller inspects, by purpose (from the module's outputs). */
export interface LoopResources {
  readonly auditTable: string;
  readonly guardTable: string;
  readonly idempotencyTable: string;
  readonly approvalTable: string;
  readonly evidenceBucket: string;
  readonly topicArn: string;
  readonly stateMachineArn: string;
}

/** A whole Suture loop on 127.0.0.1: the module's wiring, real handlers, real policy wasm, emulated AWS. */
export interface LocalLoop {
  readonly codePipeline: CodePipelineFake;
  /** GitHub, with the module's secret holding its app's credentials and github_api_url pointing at it. */
  readonly github: GitHubFake;
  readonly bedrock: BedrockAgentFake;
  readonly stepFunctions: LocalStepFunctions;
  readonly motoEndpoint: string;
  /** The module as currently deployed (environment, roles, state machine). */
  readonly deployment: LoopDeployment;
  readonly resources: LoopResources;
  /** What the loop sets for every function besides the module's variables: AWS_* and local endpoints. */
  readonly environment: Readonly<Record<string, string>>;
  /** Approval requests seen so far. */
  readonly approvalRequests: readonly ApprovalRequested[];
  /**
   * Every AWS call the functions made so far (moto, the CodePipeline, Bedrock and Step
   * Functions fakes), each timed from request sent to response received.
   */
  readonly awsCalls: readonly AwsCallTiming[];
  /** Every IAM authorisation evaluated so far (IAM replay), allowed or denied. */
  readonly iam: IamReplay;
  /**
   * Deploys the module again with these variables merged over the current ones (e.g. other
   * release-health alarms): functions get the new environment and policies, new stores are
   * created. Like an update of warm functions, SDK clients and the policy bundle are kept.
   */
  redeploy(variables: Readonly<Record<string, unknown>>): Promise<void>;
  /**
   * Changes what the loop itself sets for every function (`AWS_*`, `SUTURE_POLICY_BUNDLE`) and
   * makes the functions read their environment again. SDK clients and the loaded policy bundle
   * are kept unless an `AWS_*`, `SUTURE_S3_*` or `SUTURE_POLICY_*` variable is among those set.
   */
  reconfigure(environment: Readonly<Record<string, string>>): void;
  /**
   * Starts every function cold: environments, SDK clients and the policy bundle are dropped,
   * as if each ran in a new execution environment. A fault run does this before each scenario,
   * so what one scenario's calls draw does not depend on what ran before it in the process.
   */
  coldStart(): void;
  /**
   * Delivers one EventBridge event to the triage function; `at` is the time the function sees
   * (a redelivery after Lambda's retry delay). @default now
   */
  deliver(event: unknown, at?: Date): Promise<TriageResult>;
  /** Waits for every execution started so far to end. */
  settle(): Promise<Map<string, WorkflowRun>>;
  /** Calls the function denied by the module's IAM so far. */
  denials(): ReplayDecision[];
  /** Granted actions and resources that no call used so far. */
  unusedGrants(): UnusedGrant[];
  /** `SUTURE_*` variables a handler read that the module did not set. */
  environmentGaps(): EnvironmentGap[];
  /** Stops the servers and restores the process environment. */
  stop(): Promise<void>;
}

/**
 * What Lambda passes a handler as its context, for the handlers that read it (execute gives
 * Powertools idempotency the time left, so an in-progress record expires with the invocation).
 */
function lambdaContext(fn: { functionName: string; arn: string }, timeoutMs = 60_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: fn.arn,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${fn.functionName}`,
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

/** The local handler of each function of the module, by catalogue name. */
type Handlers = Record<string, (payload: unknown, context: Context) => Promise<unknown>>;

const HANDLERS: Handlers = {
  triage: (payload) => triage(payload),
  'collect-evidence': (payload) => collectEvidence(payload),
  classify: (payload) => classify(payload),
  plan: (payload) => plan(payload),
  'policy-gate': (payload) => decide(payload),
  execute: (payload, context) => execute(payload, context),
  validate: (payload) => validate(payload),
  notify: (payload) => notify(payload),
  approval: () => Promise.reject(new Error('the approval function is called through its function URL')),
};

/** Creates the module's stores in moto (idempotent: a store that exists is kept). */
async function applyStores(deployment: LoopDeployment, motoEndpoint: string): Promise<void> {
  const config = {
    endpoint: motoEndpoint,
    region: deployment.facts.region,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
  const dynamo = new DynamoDBClient(config);
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const sns = new SNSClient(config);
  const codeBuild = new CodeBuildClient(config);
  const kms = new KMSClient(config);
  try {
    // The module's keys under the ids it was evaluated with (local/moto/moto_server.py honours
    // the suture:local-key-id tag), so the ARNs in the functions' environment name real keys.
    for (const key of deployment.keys) {
      try {
        await kms.send(new DescribeKeyCommand({ KeyId: key.arn }));
        continue;
      } catch (error) {
        if (!(error instanceof NotFoundException)) throw error;
      }
      await kms.send(
        new CreateKeyCommand({
          KeyUsage: key.keyUsage as never,
          KeySpec: key.keySpec as never,
          Description: key.description,
          Tags: [{ TagKey: 'suture:local-key-id', TagValue: key.keyId }],
        }),
      );
    }
    for (const table of deployment.tables) {
      const keys: KeySchemaElement[] = [{ AttributeName: table.hashKey, KeyType: 'HASH' }];
      if (table.rangeKey) keys.push({ AttributeName: table.rangeKey, KeyType: 'RANGE' });
      const definitions: AttributeDefinition[] = table.attributes.map((a) => ({
        AttributeName: a.name,
        AttributeType: a.type,
      }));
      try {
        await dynamo.send(
          new CreateTableCommand({
            TableName: table.name,
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: definitions,
            KeySchema: keys,
          }),
        );
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
      }
    }
    for (const bucket of deployment.buckets) {
      try {
        await s3.send(
          new CreateBucketCommand({
            Bucket: bucket,
            CreateBucketConfiguration: { LocationConstraint: deployment.facts.region as never },
            ...(deployment.objectLockBuckets.includes(bucket) ? { ObjectLockEnabledForBucket: true } : {}),
          }),
        );
      } catch (error) {
        if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes((error as Error).name)) throw error;
      }
    }
    for (const object of deployment.objects) {
      await s3.send(
        new PutObjectCommand({ Bucket: object.bucket, Key: object.key, Body: readFileSync(object.source) }),
      );
    }
    for (const topic of deployment.topics) {
      const created = await sns.send(new CreateTopicCommand({ Name: topic.name }));
      if (created.TopicArn !== topic.arn)
        throw new Error(`the module names topic ${topic.arn}, the emulator created ${created.TopicArn}`);
    }
    for (const project of deployment.codeBuildProjects) {
      try {
        await codeBuild.send(
          new CreateProjectCommand({
            name: project.name,
            // moto requires a location even for a project without source; the module's
            // project has none (its buildspec is inline).
            source: { type: 'NO_SOURCE', location: 'none', buildspec: project.buildspec ?? 'version: 0.2' },
            artifacts: { type: 'NO_ARTIFACTS' },
            environment: {
              type: 'LINUX_CONTAINER',
              image: 'aws/codebuild/standard:7.0',
              computeType: 'BUILD_GENERAL1_SMALL',
            },
            serviceRole: `arn:aws:iam::${deployment.facts.account}:role/${project.name}`,
          }),
        );
      } catch (error) {
        if ((error as Error).name !== 'ResourceAlreadyExistsException') throw error;
      }
    }
  } finally {
    for (const client of [dynamo, s3, sns, codeBuild, kms]) client.destroy();
  }
}

/** The same value with every object key's first letter in lower case (`ProjectName` → `projectName`). */
function camelCaseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelCaseKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key.charAt(0).toLowerCase() + key.slice(1),
      camelCaseKeys(inner),
    ]),
  );
}

/** The policy bundle archive inside a function's deployment package, extracted into `dir`. */
function bundleFromPackage(packageFile: string, dir: string): string {
  execFileSync('unzip', ['-q', '-o', packageFile, 'policy/bundle.tar.gz', '-d', dir]);
  return join(dir, 'policy', 'bundle.tar.gz');
}

/** Names of the function variables whose value differs between two deployments. */
function changedVariables(before: LoopDeployment, after: LoopDeployment): string[] {
  const changed = new Set<string>();
  for (const fn of after.functions) {
    const old = before.functions.find((each) => each.name === fn.name)?.environment ?? {};
    for (const name of new Set([...Object.keys(old), ...Object.keys(fn.environment)]))
      if (old[name] !== fn.environment[name]) changed.add(name);
  }
  return [...changed];
}

/** The output `name` of the deployment, which must be a string. */
function outputString(deployment: LoopDeployment, path: string): string {
  let value: unknown = deployment.outputs;
  for (const part of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
  if (typeof value !== 'string' || value === '')
    throw new Error(`the module's output ${path} is not a known string (${JSON.stringify(value)})`);
  return value;
}

function resourcesOf(deployment: LoopDeployment): LoopResources {
  return {
    auditTable: outputString(deployment, 'dynamodb_table_names.audit'),
    guardTable: outputString(deployment, 'dynamodb_table_names.guard'),
    idempotencyTable: outputString(deployment, 'dynamodb_table_names.idempotency'),
    approvalTable: outputString(deployment, 'dynamodb_table_names.approvals'),
    evidenceBucket: outputString(deployment, 'evidence_bucket_name'),
    topicArn: outputString(deployment, 'sns_topic_arn'),
    stateMachineArn: outputString(deployment, 'state_machine_arn'),
  };
}

/**
 * Starts the loop: moto (unless given), the CodePipeline and Bedrock protocol fakes and the
 * local Step Functions endpoint; deploys the module to them (its tables, bucket, topic and smoke
 * project); runs every function with the environment the module gives it, and every AWS call
 * of every function through IAM replay against the role the module gives it. Each
 * StartExecution from triage runs the module's state machine with the real handlers.
 */
export async function startLocalLoop(options: LocalLoopOptions): Promise<LocalLoop> {
  const savedEnvironment = { ...process.env };
  let moto: MotoServer | undefined;
  const motoEndpoint = options.motoEndpoint ?? (moto = await startMoto()).endpoint;
  const codePipeline = new CodePipelineFake();
  await codePipeline.start();
  const bedrock = new BedrockAgentFake();
  await bedrock.start();
  const github = await startLoopGitHub();
  const scratch = mkdtempSync(join(tmpdir(), 'suture-loop-'));

  const runs = new Map<string, Promise<WorkflowRun>>();
  const approvalRequests: ApprovalRequested[] = [];
  const awsCalls: AwsCallTiming[] = [];
  const recorder = new EnvironmentRecorder();
  let variables: Record<string, unknown> = {
    name_prefix: `sut-${randomUUID().slice(0, 8)}`,
    github_api_url: github.fake.endpoint,
    ...options.variables,
  };
  let deployment = deployModule(options.moduleDir, variables, {
    account: LOCAL_ACCOUNT,
    region: LOCAL_REGION,
  });
  const iam = new IamReplay(
    [...deployment.functions.map((fn) => fn.role), deployment.stateMachine.role],
    deployment.facts,
    deployment.resourcePolicies,
  );
  await applyStores(deployment, motoEndpoint);
  const secretsConfig = { endpoint: motoEndpoint, region: deployment.facts.region };
  await fillModuleSecrets(deployment.secrets, secretsConfig, github.secretValue);

  const policyFunction = deployment.functions.find((fn) => fn.name === 'policy-gate');
  if (!policyFunction) throw new Error('the module has no policy-gate function');
  const environment: Record<string, string> = {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_ENDPOINT_URL: motoEndpoint,
    AWS_ENDPOINT_URL_CODEPIPELINE: codePipeline.endpoint,
    AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME: bedrock.endpoint,
    SUTURE_S3_FORCE_PATH_STYLE: 'true',
    // In Lambda the bundle lies beside the handler in the deployment package; here it is taken
    // out of that same package, so the gate's pinned SHA-256 checks the bytes the module ships.
    SUTURE_POLICY_BUNDLE: bundleFromPackage(policyFunction.packageFile, scratch),
  };

  const handlerOf = (name: string) => {
    const handler = HANDLERS[name];
    if (!handler) throw new Error(`the module has a function "${name}" that the local loop cannot run`);
    return handler;
  };
  for (const fn of deployment.functions) handlerOf(fn.name);
  const functionNamed = (name: string) => {
    const fn = deployment.functions.find((each) => each.name === name);
    if (!fn) throw new Error(`the module has no function "${name}"`);
    return fn;
  };
  /** Runs `call` as function `name`: its environment, its IAM role. */
  const asFunction = <T>(name: string, call: () => Promise<T>): Promise<T> => principals.run(name, call);
  /** One invocation of function `name`, which an injected fault may kill part-way. */
  const invocation = <T>(name: string, run: () => Promise<T>): Promise<T> =>
    asFunction(name, () => (options.faults ? options.faults.invoke(name, run) : run()));
  const invoke = (name: string, payload: unknown): Promise<unknown> => {
    const fn = functionNamed(name);
    return invocation(name, () => handlerOf(name)(payload, lambdaContext(fn)));
  };

  const respond = options.approvals ?? (() => 'ignore' as const);
  const answerApprovals = async (payload: unknown, result: unknown) => {
    const request = payload as {
      kind?: string;
      state?: { incident?: { id?: string }; plan?: { proposal?: { action?: string } } };
    };
    const approvalId = (result as { approval_id?: string } | undefined)?.approval_id;
    if (request.kind !== 'approval' || !approvalId) return;
    const requested: ApprovalRequested = {
      approvalId,
      incidentId: String(request.state?.incident?.id ?? ''),
      action: String(request.state?.plan?.proposal?.action ?? ''),
    };
    approvalRequests.push(requested);
    const answer = respond(requested);
    if (answer === 'ignore') return;
    // Answer after the workflow has started waiting, as a human would, through the approval function.
    setTimeout(() => {
      void asFunction('approval', () =>
        decideApproval(
          {
            approval_id: requested.approvalId,
            decision: answer.decision,
            ...(answer.reason ? { reason: answer.reason } : {}),
          },
          answer.approver,
        ),
      ).catch(() => undefined);
    }, 10);
  };

  /** The functions the state machine invokes, by the ARN the module gives them. */
  const functionsByArn = () =>
    new Map<string, LocalFunction>(
      deployment.functions.map((fn) => [
        fn.arn,
        async (payload: unknown) => {
          // The state machine's role must be allowed to invoke the function.
          await iam.authorize(STATE_MACHINE_PRINCIPAL, 'LambdaClient', 'InvokeCommand', {
            FunctionName: fn.arn,
          });
          const result = await invoke(fn.name, payload);
          if (fn.name === 'notify') await answerApprovals(payload, result);
          return result;
        },
      ]),
    );
  /** Step Functions' optimised integrations the definition uses, run as the state machine's role. */
  const integrations = new Map<string, LocalFunction>([
    [
      'arn:aws:states:::codebuild:startBuild',
      (parameters) =>
        asFunction(STATE_MACHINE_PRINCIPAL, async () => {
          const client = new CodeBuildClient({
            endpoint: motoEndpoint,
            region: LOCAL_REGION,
            credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
          });
          instrumentClient(client, { observe: (call) => awsCalls.push(call), authorize });
          try {
            // Step Functions' optimised integrations take the API's members in PascalCase.
            const input = camelCaseKeys(parameters) as Record<string, unknown>;
            const started = await client.send(new StartBuildCommand(input as never));
            return { Build: started.build };
          } finally {
            client.destroy();
          }
        }),
    ],
  ]);

  /** Runs an execution of the module's state machine, from the start or (a redrive) from where it failed. */
  const runExecution = (execution: LocalExecution, resumeAt?: WorkflowRun['failedState']) => {
    const run = runWorkflow({
      definition: deployment.stateMachine.definition,
      functions: functionsByArn(),
      integrations,
      input: JSON.parse(execution.input) as unknown,
      name: execution.name,
      stateMachineArn: deployment.stateMachine.arn,
      taskTokens: stepFunctions,
      callbackTimeoutMs: options.callbackTimeoutMs ?? 2_000,
      ...(resumeAt ? { resumeAt } : {}),
      ...(options.observer?.(execution) ? { observer: options.observer(execution)! } : {}),
    }).then((result) => {
      stepFunctions.finish(execution.executionArn, result.status);
      return result;
    });
    runs.set(execution.executionArn, run);
  };
  const stepFunctions: LocalStepFunctions = new LocalStepFunctions((execution) => runExecution(execution), {
    stateMachines: () => [deployment.stateMachine.arn],
    // RedriveExecution of the loop's own workflow: Step Functions restarts it at the state
    // that failed, with that state's input.
    redriveStarted: (execution) => {
      const previous = runs.get(execution.executionArn);
      if (!previous) return;
      runs.set(
        execution.executionArn,
        previous.then((failed) => {
          runExecution(execution, failed.failedState);
          return runs.get(execution.executionArn)!;
        }),
      );
    },
  });
  await stepFunctions.start();
  environment.AWS_ENDPOINT_URL_SFN = stepFunctions.endpoint;

  const authorize = async (call: { principal: string; client: string; command: string; input: unknown }) => {
    await iam.authorize(call.principal, call.client, call.command, call.input);
  };
  // Task tokens belong to executions of the module's state machine (the only one that runs here).
  const withTokens = (facts: LoopDeployment['facts']) => ({
    ...facts,
    stateMachineOfTask: (token: string) =>
      stepFunctions.issuedToken(token) ? deployment.stateMachine.arn : undefined,
  });
  iam.deploy(
    [...deployment.functions.map((fn) => fn.role), deployment.stateMachine.role],
    withTokens(deployment.facts),
    deployment.resourcePolicies,
  );
  Object.assign(process.env, environment);
  setEnvironmentSource(() => {
    const name = principals.getStore();
    if (!name) return process.env;
    const fn = deployment.functions.find((each) => each.name === name);
    return recorder.view(name, { ...environment, ...(fn?.environment ?? {}) }, deployment.variables);
  });
  instrumentAwsClients((client) =>
    instrumentClient(client, {
      observe: (call) => awsCalls.push(call),
      authorize,
      retryBackoffMs: LOCAL_SDK_RETRY_BACKOFF,
      ...(options.faults ? { faults: options.faults } : {}),
    }),
  );
  if (options.faults) {
    const faults = options.faults;
    github.fake.faults = (method, route) => faults.decideHttp('github', method, route);
  }
  resetFunctions('everything');

  const loop: LocalLoop = {
    codePipeline,
    github: github.fake,
    bedrock,
    stepFunctions,
    motoEndpoint,
    get deployment() {
      return deployment;
    },
    get resources() {
      return resourcesOf(deployment);
    },
    environment,
    approvalRequests,
    awsCalls,
    iam,
    async redeploy(changes) {
      variables = { ...variables, ...changes };
      const before = deployment;
      deployment = deployModule(options.moduleDir, variables, {
        account: LOCAL_ACCOUNT,
        region: LOCAL_REGION,
      });
      iam.deploy(
        [...deployment.functions.map((fn) => fn.role), deployment.stateMachine.role],
        withTokens(deployment.facts),
        deployment.resourcePolicies,
      );
      await applyStores(deployment, motoEndpoint);
      await fillModuleSecrets(deployment.secrets, secretsConfig, github.secretValue);
      // Like an update of warm functions: what their clients and bundle are built from decides
      // whether those are rebuilt.
      resetFunctions(changedVariables(before, deployment));
    },
    coldStart() {
      resetFunctions('everything');
    },
    reconfigure(extra) {
      Object.assign(environment, extra);
      Object.assign(process.env, extra);
      resetFunctions(Object.keys(extra));
    },
    deliver: (event, at) => invocation('triage', () => triage(event, at)),
    async settle() {
      const settled = new Map<string, WorkflowRun>();
      let pending = [...runs.entries()].filter(([arn]) => !settled.has(arn));
      while (pending.length > 0) {
        for (const [arn, run] of pending) settled.set(arn, await run);
        pending = [...runs.entries()].filter(([arn]) => !settled.has(arn));
      }
      return settled;
    },
    denials: () => iam.denials(),
    // Writing logs and traces is the Lambda service's and the tracer's doing, not a handler's call.
    unusedGrants: () =>
      iam
        .unusedGrants()
        .filter(
          (grant) =>
            !['logs', 'tracing'].includes(grant.policy) || grant.principal === STATE_MACHINE_PRINCIPAL,
        ),
    environmentGaps: () => recorder.list(),
    async stop() {
      await Promise.allSettled([...runs.values()]);
      await Promise.allSettled([
        stepFunctions.stop(),
        codePipeline.stop(),
        bedrock.stop(),
        github.fake.stop(),
      ]);
      if (moto) stopMoto(moto.pid);
      for (const key of Object.keys(process.env)) if (!(key in savedEnvironment)) delete process.env[key];
      Object.assign(process.env, savedEnvironment);
      instrumentAwsClients(undefined);
      setEnvironmentSource(undefined);
      resetFunctions('everything');
      rmSync(scratch, { recursive: true, force: true });
    },
  };
  return loop;
}
