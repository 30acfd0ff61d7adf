import {
  CloudWatchLogsClient,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AuditTrail, verifyChain } from '../../functions/commons/audit';
import type { WorkflowIncident } from '../../functions/commons/workflow/schema';
import { incidentFromCodePipeline } from '../../functions/triage';
import { CodePipelineEventSchema } from '../../functions/triage/schema';
import { startLocalLoop, type LocalLoop } from '../../local/loop/harness';
import { SIMULATED_VARIABLES } from '../../local/simulate/setup';
import { createBuildProject, emulatorClientConfig } from '../helpers/aws';
import { deliveryPipeline } from '../helpers/codepipeline';
import { captureOutput } from '../helpers/lambda-context';
import { testModuleDir } from '../helpers/module';

type Kind = 'action' | 'stage' | 'pipeline';

/** Every order in which EventBridge may deliver the three events of one failure. */
const ORDERS: readonly (readonly Kind[])[] = [
  ['action', 'stage', 'pipeline'],
  ['action', 'pipeline', 'stage'],
  ['stage', 'action', 'pipeline'],
  ['stage', 'pipeline', 'action'],
  ['pipeline', 'action', 'stage'],
  ['pipeline', 'stage', 'action'],
];

/** One word per order, so each order is its own failure (own fingerprint, own attempt budget). */
const MIRRORS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'];

describe('one CodePipeline failure, three event kinds, any order (local loop on 127.0.0.1)', () => {
  const config = emulatorClientConfig();
  const codeBuild = new CodeBuildClient(config);
  const logs = new CloudWatchLogsClient(config);
  const dynamo = new DynamoDBClient(config);
  const project = `suture-e2e-kinds-${Date.now()}`;
  let loop: LocalLoop;

  beforeAll(async () => {
    loop = await startLocalLoop({
      moduleDir: testModuleDir(),
      variables: SIMULATED_VARIABLES,
      motoEndpoint: config.endpoint,
      callbackTimeoutMs: 500,
    });
    await createBuildProject(codeBuild, logs, project);
  });

  afterAll(async () => {
    await loop.stop();
    [codeBuild, logs, dynamo].forEach((client) => client.destroy());
  });

  /** A transient network failure of myPipeline's Build action and the three events it emits. */
  async function transientFailure(mirror: string) {
    const pipeline = 'myPipeline';
    const summary = `Build terminated with state: FAILED (npm mirror ${mirror})`;
    loop.codePipeline.reset();
    loop.codePipeline.addPipeline(deliveryPipeline(pipeline, project));
    loop.codePipeline.hooks.onRetryStage = () => 'Succeeded';
    const { build } = await codeBuild.send(new StartBuildCommand({ projectName: project }));
    const logStreamName = build!.id!.split(':')[1]!;
    const lines = [
      'npm ci',
      'npm ERR! code ECONNRESET',
      `npm ERR! network request to https://${mirror}.registry.example/left-pad failed, reason: socket hang up`,
    ];
    await logs.send(new CreateLogStreamCommand({ logGroupName: `/aws/codebuild/${project}`, logStreamName }));
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: `/aws/codebuild/${project}`,
        logStreamName,
        logEvents: lines.map((message, i) => ({ timestamp: Date.now() - lines.length + i, message })),
      }),
    );
    loop.codePipeline.addExecution(pipeline, { startTime: new Date(Date.now() - 86_400_000) });
    const failed = loop.codePipeline.addExecution(pipeline, {
      failAt: {
        stage: 'Build',
        action: 'Build',
        summary,
        errorCode: 'JobFailed',
        externalExecutionId: build!.id!,
      },
    });
    const base = {
      version: '0',
      source: 'aws.codepipeline',
      account: '123456789012',
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: 'us-west-2',
      resources: [`arn:aws:codepipeline:us-west-2:123456789012:${pipeline}`],
    };
    const detail = { pipeline, 'execution-id': failed.pipelineExecutionId, state: 'FAILED', version: 1 };
    const events: Record<Kind, Record<string, unknown>> = {
      action: {
        ...base,
        id: `evt-${mirror}-action`,
        'detail-type': 'CodePipeline Action Execution State Change',
        detail: {
          ...detail,
          stage: 'Build',
          action: 'Build',
          region: 'us-west-2',
          type: { owner: 'AWS', provider: 'CodeBuild', category: 'Build', version: '1' },
          'execution-result': {
            'external-execution-summary': summary,
            'external-execution-id': build!.id!,
            'error-code': 'JobFailed',
          },
        },
      },
      stage: {
        ...base,
        id: `evt-${mirror}-stage`,
        'detail-type': 'CodePipeline Stage Execution State Change',
        detail: { ...detail, stage: 'Build' },
      },
      pipeline: {
        ...base,
        id: `evt-${mirror}-pipeline`,
        'detail-type': 'CodePipeline Pipeline Execution State Change',
        detail,
      },
    };
    return { pipeline, events };
  }

  it.each(ORDERS.map((order, i) => [order.join(' → '), order, MIRRORS[i]!] as const))(
    '%s: one workflow, one retry, and the incident an action event opens',
    async (_name, order, mirror) => {
      // Prepare
      const { pipeline, events } = await transientFailure(mirror);
      const fromAction = incidentFromCodePipeline(CodePipelineEventSchema.parse(events.action), new Date());
      if (typeof fromAction === 'string') throw new Error(fromAction);

      // Act: the three events, one after the other, in this order.
      const { result } = await captureOutput(async () => {
        const triaged = [];
        for (const kind of order) triaged.push(await loop.deliver(events[kind]));
        return { triaged, runs: await loop.settle() };
      });

      // Assess: the first event opens the one workflow, the others are duplicates ...
      const { triaged, runs } = result;
      expect(triaged.map((t) => t.status)).toEqual(['started', 'duplicate', 'duplicate']);
      const incidentId = triaged[0]!.incident_id!;
      expect(new Set(triaged.map((t) => t.incident_id))).toEqual(new Set([incidentId]));
      expect(loop.stepFunctions.startedExecutions().filter((e) => e.name === incidentId)).toHaveLength(1);
      const run = runs.get(triaged[0]!.execution_arn!)!;
      expect(run.status).toBe('SUCCEEDED');
      expect(run.states.map((s) => s.name).at(-1)).toBe('Resolved');
      // ... which repairs once, by retrying the failed stage ...
      const mutations = loop.codePipeline
        .appliedMutations()
        .filter((m) => m.input.pipelineName === pipeline || m.input.name === pipeline);
      expect(mutations.map((m) => m.operation)).toEqual(['RetryStageExecution']);
      expect(mutations[0]!.input).toMatchObject({ stageName: 'Build' });
      // ... and the playbook, the fingerprint, the budget and the policy saw the incident an
      // action event opens, whichever event came first.
      const audit = await new AuditTrail(dynamo, loop.resources.auditTable).records(incidentId);
      expect(verifyChain(audit).ok).toBe(true);
      const gate = audit.find((r) => r.step === 'policy_decision')?.data as {
        decision: { allow: boolean };
        incident: WorkflowIncident;
        proposal: { action: string; parameters: Record<string, unknown> };
        context: { attempts: { fingerprint_24h: number } };
      };
      expect(gate.decision.allow).toBe(true);
      expect(gate.proposal).toMatchObject({ action: 'retry_stage', parameters: { stage: 'Build' } });
      expect(gate.incident).toMatchObject({
        stage: 'Build',
        action: 'Build',
        fingerprint: fromAction.incident.fingerprint,
      });
      expect(gate.context.attempts.fingerprint_24h).toBe(0);
      const collected = audit.find((r) => r.step === 'collect_evidence')?.data as {
        incident_completed: unknown;
      };
      if (order[0] === 'action') expect(collected.incident_completed).toBeNull();
      else expect(collected.incident_completed).toMatchObject({ stage: 'Build', action: 'Build' });
    },
  );
});
