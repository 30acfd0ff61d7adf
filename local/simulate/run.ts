import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient, CreateProjectCommand, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { DeleteItemCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { RedriveExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import {
  DeleteParameterCommand,
  GetParameterHistoryCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { AuditTrail, verifyChain, type AuditRecord } from '../../functions/commons/audit';
import type { AuditDigest } from '../../functions/commons/audit/digest';
import { checkAgainstDigest, incidentDigests } from '../../functions/commons/audit/digest-store';
import { LoopGuard } from '../../functions/commons/loop-guard';
import { incidentFromCodePipeline } from '../../functions/triage';
import { CodePipelineEventSchema, type TriageResult } from '../../functions/triage/schema';
import { replies } from '../bedrock-agent/server';
import type { PipelineDefinition } from '../codepipeline';
import { describeDenial, type ReplayDecision, type UnusedGrant } from '../iam/replay';
import { FaultInjector, type FaultCounts } from '../faults/injector';
import { checkInvariants, type ApprovedStep, type InvariantResult } from '../faults/invariants';
import type { EnvironmentGap } from '../loop/environment';
import { startLocalLoop, type LocalLoop } from '../loop/harness';
import { scenarioAlarms, scenarioPipelines } from './setup';
import type { AwsCallTiming } from '../aws/instrument';
import { processCpuUs, type StateRecord, type TaskInvocation, type WorkflowRun } from '../workflow/runner';
import type { Scenario } from './scenario';

/** One expectation of a scenario and whether it held. */
export interface ExpectationResult {
  readonly name: string;
  readonly expected: unknown;
  readonly actual: unknown;
  readonly ok: boolean;
}

/** What happened to one scenario. */
export interface ScenarioResult {
  readonly name: string;
  readonly file: string;
  /**
   * `dead_lettered`: every delivery failed (Lambda's two retries included), so the event went
   * to the dead-letter queue, whose alarm pages.
   */
  readonly outcome:
    'resolved' | 'escalated' | 'ignored' | 'loop_detected' | 'duplicate' | 'dead_lettered' | 'failed';
  readonly entered_loop: boolean;
  readonly deliveries: number;
  readonly workflows: number;
  readonly incident_id?: string;
  readonly states: readonly SimulatedState[];
  readonly started_at: number;
  readonly decision?: {
    readonly outcome: 'allow' | 'require_approval' | 'deny';
    readonly reasons: readonly { code: string; msg: string }[];
    readonly bundle_revision: string;
    readonly proposal: { readonly action: string; readonly source: string };
  };
  readonly actions: readonly string[];
  /** URLs of the pull requests the executor opened (scenarios with `github`). */
  readonly pull_requests?: readonly string[];
  readonly validation?: { readonly healthy: boolean };
  readonly audit: {
    readonly records: number;
    readonly chain_ok: boolean;
    readonly steps: readonly string[];
    /**
     * The incident's digests (docs/audit.md) and whether the trail holds against every one of
     * them, signatures included; `sealed` is false when there is none.
     */
    readonly digests: number;
    readonly sealed: boolean;
    /** Why the trail does not hold against its digests (reason codes), when it does not. */
    readonly seal_reasons?: readonly string[];
  };
  /**
   * Event → policy decision and event → validated, in ms. Wall time includes the emulated AWS
   * services' answers; see {@link SpanCost} for the loop's own share.
   */
  readonly timings: {
    readonly to_decision_ms?: number;
    readonly to_validated_ms?: number;
    readonly total_ms: number;
    /** Event → the first policy decision, split into emulated AWS time and the loop's own. */
    readonly to_decision?: SpanCost;
    /** Event → the end of validation, split the same way. */
    readonly to_validated?: SpanCost;
  };
  readonly expectations: readonly ExpectationResult[];
  readonly passed: boolean;
  /** With `--faults`: the seed this run drew its faults from (run it again to reproduce). */
  readonly seed?: number;
  /** With `--faults`: the faults injected into this run, by kind. */
  readonly faults?: FaultCounts;
  /** With `--faults`: the invariants, which replace the scenario's own expectations. */
  readonly invariants?: readonly InvariantResult[];
  /** RedriveExecution calls the simulator made for the incident's failed workflow. */
  readonly redrives?: number;
}

/**
 * Where a span of a simulated incident went. `aws_ms` is the time during which at least one
 * AWS call was waiting for its answer (moto, the CodePipeline, Bedrock and Step Functions
 * fakes; for the model, its whole calls with retries and back-off); `own_ms` is the rest of
 * the wall time, the loop's own code (handlers, SDK, the local Step Functions interpreter). `cpu_ms` is the Node process's
 * CPU time over the span: an upper bound of the loop's own work, as it also holds the
 * in-process fakes' serving and the garbage collector, but not moto (another process).
 */
export interface SpanCost {
  readonly wall_ms: number;
  readonly aws_ms: number;
  readonly aws_calls: number;
  readonly own_ms: number;
  readonly cpu_ms: number;
}

/** A state of the run (Triage included), with what it spent on emulated AWS and CPU. */
export interface SimulatedState extends StateRecord {
  readonly cost?: SpanCost;
}

/**
 * The model (the Bedrock agent) counts with its whole calls, retries and back-off included:
 * the target leaves model latency out. Every other service counts with its HTTP round trips.
 */
function isModel(call: AwsCallTiming): boolean {
  return /bedrock/i.test(call.service);
}

/** A moment of a run: `performance.now()` ms and process CPU µs. */
interface Moment {
  readonly at: number;
  readonly cpuUs: number;
}

/** Wall time, emulated-AWS time and CPU between two moments. */
export function spanCost(calls: readonly AwsCallTiming[], from: Moment, to: Moment): SpanCost {
  // Round trips (whole calls for the model) and the IAM replay's authorisations are emulated AWS.
  const counted = calls.filter(
    (call) => call.kind === 'authorization' || (call.kind === 'call') === isModel(call),
  );
  const inside = counted
    .filter((call) => call.end > from.at && call.start < to.at)
    .map((call) => [Math.max(call.start, from.at), Math.min(call.end, to.at)] as const)
    .sort((a, b) => a[0] - b[0]);
  let awsMs = 0;
  let coveredUntil = -Infinity;
  for (const [start, end] of inside) {
    const clippedStart = Math.max(start, coveredUntil);
    if (end > clippedStart) awsMs += end - clippedStart;
    coveredUntil = Math.max(coveredUntil, end);
  }
  const wallMs = to.at - from.at;
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return {
    wall_ms: round(wallMs),
    aws_ms: round(awsMs),
    aws_calls: counted.filter(
      (call) => call.kind !== 'authorization' && call.end > from.at && call.start < to.at,
    ).length,
    own_ms: round(wallMs - awsMs),
    cpu_ms: round((to.cpuUs - from.cpuUs) / 1000),
  };
}

/** Inputs of {@link simulateScenarios}. */
export interface SimulationOptions {
  /**
   * The synthesised module the loop deploys, once per scenario: the workflow definition, the
   * EventBridge patterns, every function's environment and IAM policies come from it.
   */
  readonly moduleDir: string;
  /** The module's input variables (each scenario adds its release-health alarms). */
  readonly variables: Readonly<Record<string, unknown>>;
  /** Decides whether an event matches a pattern (EventBridge content filtering). */
  readonly matches: (pattern: unknown, event: unknown) => boolean;
  /** Live progress, one line at a time. */
  readonly progress?: (line: string) => void;
  /** A running moto endpoint to use; otherwise the simulation starts its own. */
  readonly motoEndpoint?: string;
  /**
   * Receives each scenario's whole audit trail (when the event opened an incident) and the
   * incident's signed digests from the evidence bucket, oldest first (none when unsealed).
   */
  readonly onAuditTrail?: (
    file: string,
    records: readonly AuditRecord[],
    digests: readonly AuditDigest[],
  ) => void | Promise<void>;
  /** Receives, at the end of the run, the grants of the module's roles that no call used. */
  readonly onUnusedGrants?: (grants: readonly UnusedGrant[]) => void;
  /**
   * Runs every scenario once per seed with faults injected at `rate` per call
   * (local/faults/injector.ts) and checks the invariants (local/faults/invariants.ts) instead
   * of the scenarios' expectations. @default no faults
   */
  readonly faults?: { readonly rate: number; readonly seeds: readonly number[] };
}

/** Lambda retries a failed asynchronous invocation twice: one minute later, then two more. */
const ASYNC_RETRY_AFTER_SECONDS = [60, 180] as const;

/** How many times the simulator redrives a failed workflow, as an operator would. */
const MAX_REDRIVES = 3;

const ACCOUNT = '123456789012';
const REGION = 'us-west-2';

function pipelineFor(scenario: Scenario, project: string): PipelineDefinition {
  const github = scenario.github;
  return {
    name: scenario.pipeline.name,
    stages: [
      {
        name: 'Source',
        actions: [
          {
            name: 'Source',
            category: 'Source',
            provider: 'CodeStarSourceConnection',
            ...(github
              ? {
                  configuration: {
                    ConnectionArn: `arn:aws:codeconnections:${REGION}:${ACCOUNT}:connection/simulated`,
                    FullRepositoryId: github.repository,
                    BranchName: github.branch,
                  },
                }
              : {}),
          },
        ],
      },
      {
        name: 'Build',
        actions: [
          {
            name: 'Build',
            category: 'Build',
            provider: 'CodeBuild',
            configuration: { ProjectName: project },
          },
        ],
      },
      { name: 'Deploy', actions: [{ name: 'Deploy', category: 'Deploy', provider: 'CodeDeploy' }] },
      { name: 'Prod', actions: [{ name: 'Deploy', category: 'Deploy', provider: 'CodeDeploy' }] },
    ],
    tags: scenario.pipeline.tags,
  };
}

/**
 * Seeds the scenario's repository on the GitHub fake: the last good commit, then the failing
 * one; returns both as the source revisions the pipeline's executions ran.
 */
async function seedGitHub(loop: LocalLoop, scenario: Scenario) {
  const github = scenario.github;
  if (!github) return undefined;
  const good = await loop.github.addRepository(github.repository, github.files, github.branch);
  const failed = await loop.github.commit(
    github.repository,
    github.change,
    'The change that broke the build',
  );
  const revision = (revisionId: string) => ({
    actionName: 'Source',
    revisionId,
    revisionUrl: `https://github.com/${github.repository}/commit/${revisionId}`,
  });
  return { good: revision(good), failed: revision(failed) };
}

function stateChangeEvent(
  scenario: Scenario,
  executionId: string,
  buildId: string | undefined,
): Record<string, unknown> {
  const time = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const base = { version: '0', id: randomUUID(), account: ACCOUNT, time, region: REGION };
  if (scenario.event.source === 'alarm') {
    return {
      ...base,
      'detail-type': 'CloudWatch Alarm State Change',
      source: 'aws.cloudwatch',
      resources: [`arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${scenario.event.alarm_name}`],
      detail: {
        alarmName: scenario.event.alarm_name,
        state: { value: 'ALARM', reason: scenario.failure.summary, timestamp: new Date().toISOString() },
        previousState: { value: 'OK', timestamp: new Date(Date.now() - 3_600_000).toISOString() },
      },
    };
  }
  const action = scenario.failure.action ?? (scenario.failure.stage === 'Build' ? 'Build' : 'Deploy');
  const kind = scenario.event.source;
  const detail: Record<string, unknown> = {
    pipeline: scenario.pipeline.name,
    'execution-id': executionId,
    state: scenario.event.state,
    version: 1,
  };
  if (kind !== 'pipeline') detail.stage = scenario.failure.stage;
  if (kind === 'action') {
    detail.action = action;
    detail.region = REGION;
    detail.type = {
      owner: 'AWS',
      category: scenario.failure.stage === 'Build' ? 'Build' : 'Deploy',
      provider: scenario.failure.stage === 'Build' ? 'CodeBuild' : 'CodeDeploy',
      version: '1',
    };
    detail['execution-result'] = {
      'external-execution-summary': scenario.failure.summary,
      'error-code': scenario.failure.error_code,
      ...(buildId ? { 'external-execution-id': buildId } : {}),
    };
  }
  return {
    ...base,
    'detail-type': `CodePipeline ${kind === 'action' ? 'Action' : kind === 'stage' ? 'Stage' : 'Pipeline'} Execution State Change`,
    source: 'aws.codepipeline',
    resources: [`arn:aws:codepipeline:${REGION}:${ACCOUNT}:${scenario.pipeline.name}`],
    detail,
  };
}

/** The simulator's view of the emulated AWS account: clients for seeding and reading back. */
class World {
  readonly codeBuild: CodeBuildClient;
  readonly logs: CloudWatchLogsClient;
  readonly cloudWatch: CloudWatchClient;
  readonly ssm: SSMClient;
  readonly dynamo: DynamoDBClient;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly kms: KMSClient;

  constructor(endpoint: string) {
    const config = {
      endpoint,
      region: REGION,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    };
    this.codeBuild = new CodeBuildClient(config);
    this.logs = new CloudWatchLogsClient(config);
    this.cloudWatch = new CloudWatchClient(config);
    this.ssm = new SSMClient(config);
    this.dynamo = new DynamoDBClient(config);
    this.s3 = new S3Client({ ...config, forcePathStyle: true });
    this.sqs = new SQSClient(config);
    this.sns = new SNSClient(config);
    this.kms = new KMSClient(config);
  }

  destroy(): void {
    [
      this.codeBuild,
      this.logs,
      this.cloudWatch,
      this.ssm,
      this.dynamo,
      this.s3,
      this.sqs,
      this.sns,
      this.kms,
    ].forEach((c) => c.destroy());
  }

  async buildWithLog(project: string, log: string): Promise<string> {
    await this.codeBuild.send(
      new CreateProjectCommand({
        name: project,
        source: { type: 'S3', location: 'artifacts/source.zip' },
        artifacts: { type: 'NO_ARTIFACTS' },
        environment: {
          type: 'LINUX_CONTAINER',
          image: 'aws/codebuild/standard:7.0',
          computeType: 'BUILD_GENERAL1_SMALL',
        },
        serviceRole: `arn:aws:iam::${ACCOUNT}:role/codebuild`,
      }),
    );
    const group = `/aws/codebuild/${project}`;
    await this.logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    const { build } = await this.codeBuild.send(new StartBuildCommand({ projectName: project }));
    const stream = build!.id!.split(':')[1]!;
    await this.logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
    const lines = log.split('\n');
    const start = Date.now() - lines.length;
    await this.logs.send(
      new PutLogEventsCommand({
        logGroupName: group,
        logStreamName: stream,
        logEvents: lines.map((message, i) => ({ timestamp: start + i, message })),
      }),
    );
    return build!.id!;
  }

  async setAlarm(name: string, state: string): Promise<void> {
    await this.cloudWatch.send(
      new PutMetricAlarmCommand({
        AlarmName: name,
        Namespace: 'Suture/Simulation',
        MetricName: name,
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    );
    await this.cloudWatch.send(
      new SetAlarmStateCommand({
        AlarmName: name,
        StateValue: state as never,
        StateReason: `simulated ${state}`,
      }),
    );
  }

  /** Deletes an SSM parameter with its history; one that does not exist is fine. */
  async deleteParameter(name: string): Promise<void> {
    try {
      await this.ssm.send(new DeleteParameterCommand({ Name: name }));
    } catch (error) {
      if (!(error instanceof ParameterNotFound)) throw error;
    }
  }

  async clearTable(tableName: string): Promise<void> {
    const items = (await this.dynamo.send(new ScanCommand({ TableName: tableName }))).Items ?? [];
    await Promise.all(
      items.map((item) =>
        this.dynamo.send(new DeleteItemCommand({ TableName: tableName, Key: { pk: item.pk! } })),
      ),
    );
  }

  async drainQueue(queueUrl: string): Promise<string[]> {
    const bodies: string[] = [];
    for (;;) {
      const page = await this.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
      );
      if (!page.Messages?.length) return bodies;
      bodies.push(...page.Messages.map((m) => m.Body ?? ''));
    }
  }

  async objectsUnder(bucket: string, prefix: string): Promise<string[]> {
    const listed = await this.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return Promise.all(
      (listed.Contents ?? []).map(async (o) =>
        (await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }))).Body!.transformToString(),
      ),
    );
  }
}

function decisionOf(records: readonly AuditRecord[]): ScenarioResult['decision'] {
  const gate = records.find((r) => r.step === 'policy_decision');
  if (!gate) return undefined;
  const data = gate.data as {
    decision: {
      allow: boolean;
      require_approval: boolean;
      reasons: { code: string; msg: string }[];
      bundle_revision: string;
    };
    proposal: { action: string; source: string };
  };
  return {
    outcome: data.decision.allow ? 'allow' : data.decision.require_approval ? 'require_approval' : 'deny',
    reasons: data.decision.reasons,
    bundle_revision: data.decision.bundle_revision,
    proposal: { action: data.proposal.action, source: data.proposal.source },
  };
}

/**
 * Whether `records` hold against every digest of their incident (as `suture audit verify
 * --digest-bucket` checks them), signatures verified with KMS; with the reason codes if not.
 */
async function sealVerdict(
  records: readonly AuditRecord[],
  digests: readonly AuditDigest[],
  kms: KMSClient,
): Promise<{ sealed: boolean; reasons: string[] }> {
  if (digests.length === 0) return { sealed: false, reasons: [] };
  const reasons = new Set<string>();
  for (const digest of digests) {
    for (const reason of (await checkAgainstDigest(records, digest, kms)).reasons) reasons.add(reason.code);
  }
  return { sealed: reasons.size === 0, reasons: [...reasons] };
}

/** The incident id in a workflow execution's input (triage names the execution after it too). */
export function incidentOfExecution(input: string): string | undefined {
  try {
    const id = (JSON.parse(input) as { incident?: { id?: unknown } }).incident?.id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

function outcomeOf(
  results: readonly TriageResult[],
  run: WorkflowRun | undefined,
  deadLettered: number,
): ScenarioResult['outcome'] {
  if (run) {
    if (run.status === 'FAILED') return 'failed';
    return run.lastState === 'Resolved' ? 'resolved' : 'escalated';
  }
  if (results.some((r) => r.status === 'loop_detected')) return 'loop_detected';
  if (deadLettered > 0 && results.length === 0) return 'dead_lettered';
  if (results.length > 0 && results.every((r) => r.status === 'duplicate')) return 'duplicate';
  return 'ignored';
}

function check(
  scenario: Scenario,
  result: Omit<ScenarioResult, 'expectations' | 'passed'>,
  written: string,
): ExpectationResult[] {
  const expect = scenario.expect;
  const checks: ExpectationResult[] = [];
  const add = (name: string, expected: unknown, actual: unknown, ok: boolean) =>
    checks.push({ name, expected, actual, ok });
  if (expect.outcome) add('outcome', expect.outcome, result.outcome, expect.outcome === result.outcome);
  if (expect.decision)
    add(
      'decision',
      expect.decision,
      result.decision?.outcome ?? null,
      expect.decision === result.decision?.outcome,
    );
  if (expect.codes) {
    const codes = new Set(result.decision?.reasons.map((r) => r.code) ?? []);
    add(
      'codes',
      expect.codes,
      [...codes].sort(),
      expect.codes.every((code) => codes.has(code)),
    );
  }
  if (expect.actions) {
    add(
      'actions',
      expect.actions,
      result.actions,
      JSON.stringify(expect.actions) === JSON.stringify(result.actions),
    );
  }
  if (expect.pull_request !== undefined) {
    const opened = (result.pull_requests ?? []).length > 0;
    add('pull_request', expect.pull_request, opened, expect.pull_request === opened);
  }
  if (expect.workflows !== undefined)
    add('workflows', expect.workflows, result.workflows, expect.workflows === result.workflows);
  if (expect.secrets_absent) {
    const found = expect.secrets_absent.filter((secret) => written.includes(secret));
    add(
      'secrets_absent',
      'none of the seeded secrets in any output',
      found.length === 0 ? 'none found' : `${found.length} found`,
      found.length === 0,
    );
  }
  if (result.incident_id) add('audit chain verifies', true, result.audit.chain_ok, result.audit.chain_ok);
  return checks;
}

/**
 * Runs scenarios one after another through the whole loop on this machine: the module's
 * workflow definition and event patterns, the real handlers and policy wasm, moto and the
 * protocol fakes. Handler output (logs, EMF) is captured and searched for secrets, not printed.
 */
export async function simulateScenarios(
  scenarios: ReadonlyArray<{ readonly file: string; readonly scenario: Scenario }>,
  options: SimulationOptions,
): Promise<ScenarioResult[]> {
  let current: Scenario | undefined;
  const injector = options.faults ? new FaultInjector(options.faults.rate) : undefined;
  const loop: LocalLoop = await startLocalLoop({
    moduleDir: options.moduleDir,
    variables: options.variables,
    ...(injector ? { faults: injector } : {}),
    ...(options.motoEndpoint ? { motoEndpoint: options.motoEndpoint } : {}),
    callbackTimeoutMs: 1_000,
    approvals: () => {
      const approval = current?.approval;
      if (!approval || approval.decision === 'none') return 'ignore';
      return {
        decision: approval.decision,
        approver: approval.approver,
        ...(approval.reason ? { reason: approval.reason } : {}),
      };
    },
    observer: () => ({
      onStateExited: (record) =>
        options.progress?.(
          `    ${record.name.padEnd(18)} ${(record.endedAt - record.startedAt).toString().padStart(5)} ms${record.error ? `  (${record.error.Error})` : ''}`,
        ),
      onStateEntered: (name) => {
        if (name === 'Validate' && current) void applyAlarmsAfter(current);
      },
    }),
  });
  const world = new World(loop.motoEndpoint);
  const applyAlarmsAfter = async (scenario: Scenario) => {
    for (const [name, state] of Object.entries(scenario.world.alarms_after))
      await world.setAlarm(name, state);
  };
  const queueUrl = (
    await world.sqs.send(new CreateQueueCommand({ QueueName: `suture-simulate-${randomUUID().slice(0, 8)}` }))
  ).QueueUrl!;
  const queueArn = (
    await world.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes!.QueueArn!;
  await world.sns.send(
    new SubscribeCommand({
      TopicArn: loop.resources.topicArn,
      Protocol: 'sqs',
      Endpoint: queueArn,
    }),
  );

  const results: ScenarioResult[] = [];
  const stdoutWrite = process.stdout.write.bind(process.stdout);
  const operator = new SFNClient({
    endpoint: loop.stepFunctions.endpoint,
    region: REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  // Without faults, one pass; with faults, one pass per seed.
  const passes: (number | undefined)[] = options.faults ? [...options.faults.seeds] : [undefined];
  try {
    for (const seed of passes)
      for (const [index, { file, scenario }] of scenarios.entries()) {
        current = scenario;
        options.progress?.(`▶ ${scenario.name}  (${file})${seed !== undefined ? `  seed ${seed}` : ''}`);
        const project = `suture-sim-${index}-${randomUUID().slice(0, 6)}`;
        loop.codePipeline.reset();
        loop.bedrock.reset();
        // Each scenario is its own world: attempts counted by earlier scenarios do not carry over.
        await world.clearTable(loop.resources.guardTable);
        loop.codePipeline.addPipeline(pipelineFor(scenario, project));
        const commits = await seedGitHub(loop, scenario);
        for (let i = scenario.prior_successes; i > 0; i -= 1) {
          loop.codePipeline.addExecution(scenario.pipeline.name, {
            startTime: new Date(Date.now() - i * 86_400_000),
            ...(commits ? { sourceRevisions: [commits.good] } : {}),
          });
        }
        const buildId =
          scenario.failure.log !== undefined
            ? await world.buildWithLog(project, scenario.failure.log)
            : undefined;
        const failed =
          scenario.event.source === 'alarm'
            ? loop.codePipeline.addExecution(scenario.pipeline.name, {})
            : loop.codePipeline.addExecution(scenario.pipeline.name, {
                failAt: {
                  stage: scenario.failure.stage,
                  ...(scenario.failure.action ? { action: scenario.failure.action } : {}),
                  summary: scenario.failure.summary,
                  errorCode: scenario.failure.error_code,
                  ...(buildId ? { externalExecutionId: buildId } : {}),
                },
                ...(commits ? { sourceRevisions: [commits.failed] } : {}),
              });
        for (const alarm of scenario.alarms) await world.setAlarm(alarm.name, alarm.state);
        for (const parameter of scenario.parameters) {
          // A parameter an earlier scenario created starts its history afresh.
          await world.deleteParameter(parameter.name);
          for (const [i, value] of parameter.versions.entries()) {
            await world.ssm.send(
              new PutParameterCommand({
                Name: parameter.name,
                Value: value,
                Type: 'String',
                Overwrite: i > 0,
              }),
            );
          }
        }
        loop.codePipeline.hooks = {
          onRetryStage: () => scenario.world.retry,
          onRollbackStage: () => scenario.world.rollback,
          onStartPipelineExecution: () => scenario.world.start,
          onStopPipelineExecution: () => (scenario.world.stop === 'Succeeded' ? 'Stopped' : 'Stopping'),
        };
        if (scenario.model) {
          const model = scenario.model;
          if (model.kind === 'propose') {
            loop.bedrock.script(
              replies.returnControl(
                {
                  actionGroup: 'suture-remediation',
                  function: model.function,
                  parameters: Object.entries(model.parameters).map(([name, value]) => ({
                    name,
                    type:
                      typeof value === 'number'
                        ? 'number'
                        : typeof value === 'boolean'
                          ? 'boolean'
                          : 'string',
                    value: commits
                      ? String(value).replaceAll('${failed_commit}', commits.failed.revisionId)
                      : String(value),
                  })),
                },
                model.rationale ? { text: model.rationale } : {},
              ),
            );
          } else if (model.kind === 'text') loop.bedrock.script(replies.text(model.text));
          else
            loop.bedrock.setDefaultReply(
              model.kind === 'throttled' ? replies.throttled() : replies.internalError('model unavailable'),
            );
        }
        // Each scenario deploys the module with its own release-health alarms.
        await loop.redeploy({
          pipelines: scenarioPipelines(scenario),
          release_health_alarms: scenarioAlarms(scenario),
        });
        for (const execution of scenario.executions) {
          loop.stepFunctions.addExecution({
            executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:${execution.state_machine}:${execution.name}`,
            name: execution.name,
            input: '{}',
            status: execution.status,
          });
        }
        loop.stepFunctions.onRedrive = () =>
          scenario.world.redrive === 'Succeeded' ? 'SUCCEEDED' : 'FAILED';
        const deniedBefore = loop.denials().length;

        const event = stateChangeEvent(scenario, failed.pipelineExecutionId, buildId);
        if (scenario.prior_attempts > 0 && event.source === 'aws.codepipeline') {
          const candidate = incidentFromCodePipeline(CodePipelineEventSchema.parse(event), new Date());
          if (typeof candidate !== 'string') {
            const guard = new LoopGuard(world.dynamo, loop.resources.guardTable);
            for (let i = 0; i < scenario.prior_attempts; i += 1) {
              await guard.recordAttempt({
                deliveryKey: `simulated-earlier-${randomUUID()}`,
                fingerprint: candidate.incident.fingerprint,
                pipelineKey: `${ACCOUNT}/${REGION}/${scenario.pipeline.name}`,
                now: new Date(),
              });
            }
          }
        }

        if (scenario.github?.down) loop.github.setDown(true);
        const mutationsBefore = await mutationCounts(loop, world, scenario);
        if (injector && seed !== undefined) {
          // Cold functions for each run: its draws, and so its seed, reproduce it on its own.
          loop.coldStart();
          injector.begin(seed, file);
        }
        const startedAt = Date.now();
        const start = { at: performance.now(), cpuUs: processCpuUs() };
        const enters = loop.deployment.eventPatterns.some((pattern) => options.matches(pattern, event));
        let captured = '';
        const triage: TriageResult[] = [];
        let run: WorkflowRun | undefined;
        let workflowIncident: string | undefined;
        let deadLettered = 0;
        let redrives = 0;
        let beforeRedrive: Record<string, number> | undefined;
        const before = new Set(loop.stepFunctions.startedExecutions().map((e) => e.executionArn));
        if (!enters)
          options.progress?.('    the EventBridge rule does not match this event: the loop is not woken');
        else {
          process.stdout.write = ((chunk: string | Uint8Array) => {
            captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
            return true;
          }) as typeof process.stdout.write;
          try {
            // Deliveries arrive one event-loop turn apart: each reaches its first AWS call before
            // the next begins, and all of them are still in flight together. Started in the same
            // tick, their SDK work would run in lockstep on this one thread, and the first
            // delivery's request would leave only after every delivery's pre-send work, a
            // serialisation that Lambda, one execution environment per delivery, does not have.
            const deliveries: Promise<TriageResult>[] = [];
            for (let i = 0; i < scenario.event.deliveries; i += 1) {
              if (i > 0) await new Promise((resolve) => setImmediate(resolve));
              const delivery = loop.deliver(event);
              // Observed at once, so a delivery that fails while the next ones start is not an
              // unhandled rejection; allSettled below still sees it.
              delivery.catch(() => undefined);
              deliveries.push(delivery);
            }
            // A delivery that failed (a redelivery that found the first one still starting the
            // workflow, or a fault) is retried as Lambda retries asynchronous invocations: twice,
            // a minute and then three minutes after the event; after that it is dead-lettered.
            const firstRound = await Promise.allSettled(deliveries);
            for (const settled of firstRound) {
              if (settled.status === 'fulfilled') {
                triage.push(settled.value);
                continue;
              }
              let delivered: TriageResult | undefined;
              for (const after of ASYNC_RETRY_AFTER_SECONDS) {
                try {
                  delivered = await loop.deliver(event, new Date(startedAt + after * 1000));
                  break;
                } catch {
                  // Lambda's next retry, or the dead-letter queue.
                }
              }
              if (delivered) triage.push(delivered);
              else deadLettered += 1;
            }
            let runs = await loop.settle();
            const started = loop.stepFunctions.startedExecutions().filter((e) => !before.has(e.executionArn));
            run = started[0] ? runs.get(started[0].executionArn) : undefined;
            // The workflow's own incident: a delivery that died after StartExecution left (and
            // whose retries were dead-lettered) returned nothing, yet its workflow runs.
            workflowIncident = started[0] ? incidentOfExecution(started[0].input) : undefined;
            // A workflow that failed part-way is redriven, as an operator answering the
            // ExecutionsFailed alarm would: Step Functions restarts it at the failed state.
            while (run?.status === 'FAILED' && started[0] && redrives < MAX_REDRIVES) {
              beforeRedrive ??= await mutationCounts(loop, world, scenario);
              redrives += 1;
              options.progress?.(
                `    redrive ${redrives} of ${started[0].name} (failed at ${run.lastState})`,
              );
              await operator.send(new RedriveExecutionCommand({ executionArn: started[0].executionArn }));
              runs = await loop.settle();
              run = runs.get(started[0].executionArn);
            }
            // The same event once more, after the workflow ended (EventBridge delivers at least once).
            if (injector?.lateDuplicate()) {
              try {
                triage.push(await loop.deliver(event, new Date(Date.now() + 600_000)));
              } catch {
                // A late duplicate that fails is retried by Lambda and then dropped: no harm.
              }
              await loop.settle();
            }
          } finally {
            process.stdout.write = stdoutWrite;
          }
        }
        loop.github.setDown(false);
        const injected = injector?.end();
        const workflows = loop.stepFunctions
          .startedExecutions()
          .filter((e) => !before.has(e.executionArn)).length;
        const incidentId = triage.find((r) => r.incident_id)?.incident_id ?? workflowIncident;
        const records = incidentId
          ? await new AuditTrail(world.dynamo, loop.resources.auditTable).records(incidentId)
          : [];
        const digests = incidentId
          ? await incidentDigests(world.s3, loop.resources.evidenceBucket, incidentId)
          : [];
        const seal = await sealVerdict(records, digests, world.kms);
        if (records.length > 0) await options.onAuditTrail?.(file, records, digests);
        const executed = records
          .filter((r) => r.step === 'execute')
          .map(
            (r) =>
              r.data as { action: string; outcome: string; detail?: { pull_request?: { url?: string } } },
          );
        const pullRequests = executed.flatMap((e) =>
          e.detail?.pull_request?.url ? [e.detail.pull_request.url] : [],
        );
        for (const url of pullRequests) options.progress?.(`    pull request: ${url}`);
        const validation = records.find((r) => r.step === 'validate')?.data as
          { validation?: { healthy: boolean } } | undefined;
        // Triage runs before the workflow: drawn as its own step, from the delivery to the first state.
        const workflowStates = run?.states ?? [];
        const tasks = run?.tasks ?? [];
        const costs = stateCosts(workflowStates, tasks, loop.awsCalls, start);
        const states: SimulatedState[] = workflowStates.length
          ? [
              {
                name: 'Triage',
                type: 'Lambda',
                startedAt,
                endedAt: workflowStates[0]!.startedAt,
                retries: 0,
                ...(costs.triage ? { cost: costs.triage } : {}),
              },
              ...workflowStates.map((state, i) => ({
                ...state,
                ...(costs.states[i] ? { cost: costs.states[i] } : {}),
              })),
            ]
          : [];
        const endOf = (name: string) => states.find((s) => s.name === name)?.endedAt;
        const decisionEnd = endOf('PolicyGate');
        const validatedEnd = endOf('Validate');
        const firstDecision = tasks.find((task) => task.state === 'PolicyGate');
        const lastValidation = tasks.filter((task) => task.state === 'Validate').at(-1);
        const until = (task: TaskInvocation | undefined) =>
          task ? spanCost(loop.awsCalls, start, { at: task.end, cpuUs: task.cpuEndUs }) : undefined;
        const toDecision = until(firstDecision);
        const toValidated = until(lastValidation);
        const partial = {
          name: scenario.name,
          file,
          outcome: outcomeOf(triage, run, deadLettered),
          entered_loop: enters,
          deliveries: enters ? scenario.event.deliveries : 0,
          workflows,
          ...(incidentId ? { incident_id: incidentId } : {}),
          states,
          started_at: startedAt,
          ...(decisionOf(records) ? { decision: decisionOf(records)! } : {}),
          actions: executed
            .filter((e) => e.outcome === 'executed' || e.outcome === 'already_handled')
            .map((e) => e.action),
          ...(scenario.github ? { pull_requests: pullRequests } : {}),
          ...(validation?.validation ? { validation: { healthy: validation.validation.healthy } } : {}),
          audit: {
            records: records.length,
            chain_ok: verifyChain(records).ok,
            steps: records.map((r) => r.step),
            digests: digests.length,
            sealed: seal.sealed,
            ...(seal.reasons.length > 0 ? { seal_reasons: seal.reasons } : {}),
          },
          timings: {
            ...(decisionEnd ? { to_decision_ms: decisionEnd - startedAt } : {}),
            ...(validatedEnd ? { to_validated_ms: validatedEnd - startedAt } : {}),
            total_ms: Date.now() - startedAt,
            ...(toDecision ? { to_decision: toDecision } : {}),
            ...(toValidated ? { to_validated: toValidated } : {}),
          },
        };
        const written = [
          captured,
          ...(await world.drainQueue(queueUrl)),
          JSON.stringify(records),
          ...(incidentId
            ? await world.objectsUnder(loop.resources.evidenceBucket, `evidence/${incidentId}/`)
            : []),
          ...(incidentId
            ? await world.objectsUnder(loop.resources.evidenceBucket, `patches/${incidentId}/`)
            : []),
          ...loop.bedrock.invocations.map((i) => JSON.stringify(i)),
          ...(scenario.github ? loop.github.pulls(scenario.github.repository).map((p) => p.body) : []),
          JSON.stringify(partial),
        ].join('\n');
        const deployment = deploymentChecks(loop.denials().slice(deniedBefore), loop.environmentGaps());
        let result: ScenarioResult;
        if (injected && seed !== undefined) {
          const mutations = difference(await mutationCounts(loop, world, scenario), mutationsBefore);
          const invariants = checkInvariants({
            outcome: partial.outcome,
            ...(run ? { workflow: { status: run.status, lastState: run.lastState ?? '(none)' } } : {}),
            auditSteps: partial.audit.steps,
            chainOk: partial.audit.chain_ok,
            sealed: partial.audit.sealed,
            approvedSteps: approvedSteps(records),
            mutations,
            secretsFound: (scenario.expect.secrets_absent ?? []).filter((secret) => written.includes(secret))
              .length,
            ...(beforeRedrive
              ? { redrive: { count: redrives, mutationsBefore: difference(beforeRedrive, mutationsBefore) } }
              : {}),
          });
          result = {
            ...partial,
            expectations: deployment,
            passed: invariants.every((i) => i.ok) && deployment.every((e) => e.ok),
            seed,
            faults: injected,
            invariants,
            ...(redrives > 0 ? { redrives } : {}),
          };
          for (const broken of invariants.filter((i) => !i.ok))
            options.progress?.(`    ✗ invariant ${broken.name}: ${broken.detail}  (seed ${seed})`);
        } else {
          const expectations = [...check(scenario, partial, written), ...deployment];
          result = {
            ...partial,
            expectations,
            passed: expectations.every((e) => e.ok),
            ...(redrives > 0 ? { redrives } : {}),
          };
        }
        options.progress?.(
          `  ${result.passed ? '✓' : '✗'} ${result.outcome}${result.decision ? ` · decision ${result.decision.outcome} (${result.decision.reasons.map((r) => r.code).join(', ')})` : ''}`,
        );
        results.push(result);
      }
    options.onUnusedGrants?.(loop.unusedGrants());
  } finally {
    process.stdout.write = stdoutWrite;
    injector?.end();
    operator.destroy();
    world.destroy();
    await loop.stop();
  }
  return results;
}

/**
 * Mutations performed so far in the scenario's world, counted where they land: applied
 * mutating calls at the CodePipeline fake, versions of the scenario's SSM parameters in moto,
 * pull requests at the GitHub fake, and redrives of the seeded executions at the Step
 * Functions endpoint. Keys are {@link MUTATION_OF_ACTION}'s values.
 */
async function mutationCounts(
  loop: LocalLoop,
  world: World,
  scenario: Scenario,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const add = (kind: string, n = 1) => (counts[kind] = (counts[kind] ?? 0) + n);
  for (const mutation of loop.codePipeline.appliedMutations()) add(`codepipeline:${mutation.operation}`);
  for (const parameter of scenario.parameters) {
    let versions = 0;
    let nextToken: string | undefined;
    do {
      const page = await world.ssm.send(
        new GetParameterHistoryCommand({ Name: parameter.name, MaxResults: 50, NextToken: nextToken }),
      );
      versions += page.Parameters?.length ?? 0;
      nextToken = page.NextToken;
    } while (nextToken);
    add('ssm:PutParameter', versions);
  }
  if (scenario.github) add('git:pull request', loop.github.pulls(scenario.github.repository).length);
  for (const execution of scenario.executions) {
    const arn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:${execution.state_machine}:${execution.name}`;
    add('states:RedriveExecution', loop.stepFunctions.execution(arn)?.redriveCount ?? 0);
  }
  return counts;
}

/** `after − before`, per kind. */
function difference(
  after: Readonly<Record<string, number>>,
  before: Readonly<Record<string, number>>,
): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([kind, n]) => [kind, n - (before[kind] ?? 0)]));
}

/**
 * The steps every policy decision of the incident allowed or sent for approval (the proposal
 * and its follow-up steps), from the audit trail: what the executor may perform, once each.
 */
function approvedSteps(records: readonly AuditRecord[]): ApprovedStep[] {
  const steps: ApprovedStep[] = [];
  for (const record of records.filter((r) => r.step === 'policy_decision')) {
    const data = record.data as {
      decision?: { allow?: boolean; require_approval?: boolean };
      proposal?: { action?: string; parameters?: unknown };
      then?: Array<{ action?: string; parameters?: unknown }>;
    };
    if (!data.decision?.allow && !data.decision?.require_approval) continue;
    for (const step of [data.proposal, ...(data.then ?? [])]) {
      if (step?.action) steps.push({ action: step.action, parameters: step.parameters ?? {} });
    }
  }
  return steps;
}

/**
 * What AWS would have refused that the emulators allowed: calls the module's IAM denies, and
 * variables a handler read that the module does not set. Each fails the scenario.
 */
function deploymentChecks(
  denials: readonly ReplayDecision[],
  gaps: readonly EnvironmentGap[],
): ExpectationResult[] {
  return [
    {
      name: 'iam',
      expected: "every AWS call allowed by the function's role in the module",
      actual: denials.length === 0 ? 'all allowed' : denials.map(describeDenial),
      ok: denials.length === 0,
    },
    {
      name: 'environment',
      expected: 'every variable a handler reads is set by the module',
      actual: gaps.length === 0 ? 'all set' : gaps.map((gap) => `${gap.function}: ${gap.variable}`),
      ok: gaps.length === 0,
    },
  ];
}

/**
 * The cost of each workflow state (from its function calls: all of a retried state's calls,
 * the waits between them excluded) and of triage (the delivery until the first state's call).
 */
function stateCosts(
  states: readonly StateRecord[],
  tasks: readonly TaskInvocation[],
  calls: readonly AwsCallTiming[],
  start: Moment,
): { triage?: SpanCost; states: (SpanCost | undefined)[] } {
  const first = tasks[0];
  const triage = first ? spanCost(calls, start, { at: first.start, cpuUs: first.cpuStartUs }) : undefined;
  const used = new Set<TaskInvocation>();
  const perState = states.map((state) => {
    // A state entered twice (an approval loop) has one record per entry: each takes the calls
    // made within its own window (state records are in whole milliseconds, hence the slack).
    const mine = tasks.filter((task) => {
      const at = performance.timeOrigin + task.start;
      return (
        task.state === state.name && !used.has(task) && at >= state.startedAt - 1 && at <= state.endedAt + 1
      );
    });
    if (mine.length === 0) return undefined;
    for (const task of mine) used.add(task);
    return mine
      .map((task) =>
        spanCost(calls, { at: task.start, cpuUs: task.cpuStartUs }, { at: task.end, cpuUs: task.cpuEndUs }),
      )
      .reduce((sum, cost) => ({
        wall_ms: sum.wall_ms + cost.wall_ms,
        aws_ms: sum.aws_ms + cost.aws_ms,
        aws_calls: sum.aws_calls + cost.aws_calls,
        own_ms: sum.own_ms + cost.own_ms,
        cpu_ms: sum.cpu_ms + cost.cpu_ms,
      }));
  });
  return { ...(triage ? { triage } : {}), states: perState };
}
