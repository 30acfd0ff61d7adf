import {
  CloudWatchLogsClient,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AuditTrail, verifyChain } from '../../functions/commons/audit';
import { replies } from '../../local/bedrock-agent/server';
import { startLocalLoop, type LocalLoop } from '../../local/loop/harness';
import { SIMULATED_VARIABLES } from '../../local/simulate/setup';
import { createBuildProject, emulatorClientConfig, queueSubscribedTo } from '../helpers/aws';
import { deliveryPipeline } from '../helpers/codepipeline';
import { captureOutput } from '../helpers/lambda-context';
import { testModuleDir } from '../helpers/module';

const APPROVER = 'arn:aws:iam::123456789012:user/oncall';

/**
 * A config drift repaired by a plan: the model proposes reverting the parameter, the plan
 * function adds the retry of the failed stage, the policy asks one approval for both, the
 * executor runs them in order, and validation judges the re-run (docs/workflow.md).
 */
describe('a repair that needs a re-run ends with the re-run (local loop, real handlers)', () => {
  const config = emulatorClientConfig();
  const codeBuild = new CodeBuildClient(config);
  const logs = new CloudWatchLogsClient(config);
  const dynamo = new DynamoDBClient(config);
  const ssm = new SSMClient(config);
  const sns = new SNSClient(config);
  const sqs = new SQSClient(config);
  let loop: LocalLoop;
  let queueUrl: string;
  const project = `suture-plan-build-${Date.now()}`;

  beforeAll(async () => {
    loop = await startLocalLoop({
      moduleDir: testModuleDir(),
      variables: SIMULATED_VARIABLES,
      motoEndpoint: config.endpoint,
      callbackTimeoutMs: 500,
      approvals: (request) =>
        request.action === 'revert_parameter' ? { decision: 'approve', approver: APPROVER } : 'ignore',
    });
    queueUrl = await queueSubscribedTo(sqs, sns, loop.resources.topicArn, 'suture-plan');
    await createBuildProject(codeBuild, logs, project);
  });

  afterAll(async () => {
    await loop.stop();
    [codeBuild, logs, dynamo, ssm, sns, sqs].forEach((client) => client.destroy());
  });

  let counter = 0;

  /**
   * myPipeline's latest execution failed in Build on a buildspec error, after a parameter
   * changed from a good value (version 1) to a bad one (version 2); the model proposes the revert.
   */
  async function configDrift() {
    counter += 1;
    const parameter = `/myPipeline/build-image-${Date.now()}-${counter}`;
    await ssm.send(
      new PutParameterCommand({ Name: parameter, Value: 'aws/codebuild/standard:7.0', Type: 'String' }),
    );
    await ssm.send(
      new PutParameterCommand({
        Name: parameter,
        Value: 'broken:\n  image',
        Type: 'String',
        Overwrite: true,
      }),
    );
    loop.codePipeline.reset();
    loop.codePipeline.addPipeline(deliveryPipeline('myPipeline', project));
    const { build } = await codeBuild.send(new StartBuildCommand({ projectName: project }));
    const logStreamName = build!.id!.split(':')[1]!;
    await logs.send(new CreateLogStreamCommand({ logGroupName: `/aws/codebuild/${project}`, logStreamName }));
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: `/aws/codebuild/${project}`,
        logStreamName,
        logEvents: [
          {
            timestamp: Date.now(),
            message:
              '[Container] 2026/11/23 10:00:01 Phase context status code: YAML_FILE_ERROR Message: Expected Commands[0] to be of string type: found subkeys instead at line 14',
          },
        ],
      }),
    );
    loop.codePipeline.addExecution('myPipeline', { startTime: new Date(Date.now() - 86_400_000) });
    // Each incident its own failure (summary), so its own attempt budget; fingerprints ignore
    // numbers, so the cases differ in words.
    const summary = `Build terminated with state FAILED (buildspec of the ${['api', 'web', 'worker'][counter - 1]} image)`;
    const failed = loop.codePipeline.addExecution('myPipeline', {
      failAt: {
        stage: 'Build',
        action: 'Build',
        summary,
        errorCode: 'JobFailed',
        externalExecutionId: build!.id!,
      },
    });
    loop.bedrock.script(
      replies.returnControl({
        actionGroup: 'suture-remediation',
        function: 'revert_parameter',
        parameters: [
          { name: 'parameter_name', type: 'string', value: parameter },
          { name: 'to_version', type: 'integer', value: '1' },
        ],
      }),
    );
    const event = {
      version: '0',
      id: `evt-plan-${counter}`,
      'detail-type': 'CodePipeline Action Execution State Change',
      source: 'aws.codepipeline',
      account: '123456789012',
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: 'us-west-2',
      resources: ['arn:aws:codepipeline:us-west-2:123456789012:myPipeline'],
      detail: {
        pipeline: 'myPipeline',
        'execution-id': failed.pipelineExecutionId,
        stage: 'Build',
        action: 'Build',
        state: 'FAILED',
        region: 'us-west-2',
        type: { owner: 'AWS', provider: 'CodeBuild', category: 'Build', version: '1' },
        'execution-result': {
          'external-execution-summary': summary,
          'external-execution-id': build!.id!,
          'error-code': 'JobFailed',
        },
        version: 1,
      },
    };
    return { parameter, executionId: failed.pipelineExecutionId, event };
  }

  async function runIncident(event: unknown) {
    const { result } = await captureOutput(async () => {
      const triaged = await loop.deliver(event);
      const runs = await loop.settle();
      return { triaged, run: runs.get(triaged.execution_arn!)! };
    });
    const audit = await new AuditTrail(dynamo, loop.resources.auditTable).records(
      result.triaged.incident_id!,
    );
    return { ...result, audit, visited: result.run.states.map((s) => s.name) };
  }

  const valueOf = async (name: string) =>
    (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
  const retries = () =>
    loop.codePipeline.appliedMutations().filter((m) => m.operation === 'RetryStageExecution');

  async function messages(): Promise<{ Subject?: string; Message: string }[]> {
    const bodies: { Subject?: string; Message: string }[] = [];
    for (;;) {
      const page = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
      if (!page.Messages?.length) return bodies;
      bodies.push(
        ...page.Messages.map((m) => JSON.parse(m.Body ?? '{}') as { Subject?: string; Message: string }),
      );
    }
  }

  it('reverts the parameter, retries the failed stage, validates the re-run and resolves, on one approval', async () => {
    // Prepare
    await messages();
    const { parameter, executionId, event } = await configDrift();
    loop.codePipeline.hooks.onRetryStage = () => 'Succeeded';

    // Act
    const { triaged, run, audit, visited } = await runIncident(event);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(visited).toEqual([
      'CollectEvidence',
      'Classify',
      'PlanRemediation',
      'PolicyGate',
      'RouteDecision',
      'RequestApproval',
      'IsApproved',
      'IsDelayed',
      'ExecuteRepair',
      'IsExecuted',
      'StartSmokeChecks',
      'BakeTime',
      'Validate',
      'IsHealthy',
      'NotifyResolved',
      'Resolved',
    ]);
    expect(await valueOf(parameter)).toBe('aws/codebuild/standard:7.0');
    expect(retries().map((m) => m.input.pipelineExecutionId)).toEqual([executionId]);
    // One approval request for the whole plan.
    expect(loop.approvalRequests.filter((r) => r.incidentId === triaged.incident_id)).toHaveLength(1);
    const executed = audit
      .filter((r) => r.step === 'execute')
      .map((r) => r.data as { action: string; step: number });
    expect(executed.map((e) => [e.action, e.step])).toEqual([
      ['revert_parameter', 1],
      ['retry_stage', 2],
    ]);
    const decision = audit.find((r) => r.step === 'policy_decision')!.data as {
      decision: { require_approval: boolean };
      then: { action: string }[];
    };
    expect(decision.decision.require_approval).toBe(true);
    expect(decision.then.map((step) => step.action)).toEqual(['retry_stage']);
    expect(audit.find((r) => r.step === 'validate')?.data).toMatchObject({ validation: { healthy: true } });
    expect(audit.map((r) => r.step)).toContain('resolved');
    expect(verifyChain(audit).ok).toBe(true);
    const published = await messages();
    const approval = published.find((m) => m.Subject?.startsWith('[Suture] Approval needed'));
    expect(approval?.Subject).toBe(
      '[Suture] Approval needed: revert_parameter then retry_stage on myPipeline/Build',
    );
    expect(approval?.Message).toContain(
      'One decision covers every step of the plan, in order: 1. revert_parameter, 2. retry_stage',
    );
    expect(
      published.some(
        (m) => m.Subject === '[Suture] Resolved: myPipeline/Build by revert_parameter then retry_stage',
      ),
    ).toBe(true);
  });

  it('escalates with the revert recorded when the re-run fails', async () => {
    // Prepare
    await messages();
    const { parameter, event } = await configDrift();
    loop.codePipeline.hooks.onRetryStage = () => 'Failed';

    // Act
    const { run, audit, visited } = await runIncident(event);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(visited.slice(-5)).toEqual(['BakeTime', 'Validate', 'IsHealthy', 'Escalate', 'Escalated']);
    expect(await valueOf(parameter)).toBe('aws/codebuild/standard:7.0');
    expect(retries()).toHaveLength(1);
    expect(
      audit.filter((r) => r.step === 'execute').map((r) => (r.data as { action: string }).action),
    ).toEqual(['revert_parameter', 'retry_stage']);
    expect(audit.find((r) => r.step === 'validate')?.data).toMatchObject({ validation: { healthy: false } });
    const escalation = (await messages()).find((m) => m.Subject?.startsWith('[Suture] Escalated'));
    expect(escalation?.Message).toMatch(/Step 1: +revert_parameter executed/);
    expect(escalation?.Message).toMatch(/Step 2: +retry_stage executed/);
    expect(escalation?.Message).toContain('Validation: NOT healthy');
  });

  it('escalates with what was done when the resume step itself fails', async () => {
    // Prepare: CodePipeline refuses the retry (the pipeline is gone by the time it runs).
    await messages();
    const { parameter, event } = await configDrift();
    loop.codePipeline.injectFault({
      operation: 'RetryStageExecution',
      error: 'PipelineNotFoundException',
      message: 'pipeline myPipeline was deleted',
      times: 10,
    });

    // Act
    const { run, audit, visited } = await runIncident(event);

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(visited.slice(-3)).toEqual(['ExecuteRepair', 'Escalate', 'Escalated']);
    expect(await valueOf(parameter)).toBe('aws/codebuild/standard:7.0');
    expect(audit.map((r) => r.step)).toEqual(
      expect.arrayContaining(['execute', 'execute_step_failed', 'escalation']),
    );
    expect(audit.find((r) => r.step === 'execute_step_failed')?.data).toMatchObject({
      step: 2,
      action: 'retry_stage',
      done: [{ action: 'revert_parameter', outcome: 'executed' }],
    });
    const escalation = (await messages()).find((m) => m.Subject?.startsWith('[Suture] Escalated'));
    expect(escalation?.Message).toContain('PlanStepFailedError');
    expect(escalation?.Message).toMatch(/already done: step 1 revert_parameter executed/);
  });
});
