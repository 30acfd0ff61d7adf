import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  GetParameterCommand,
  GetParameterHistoryCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { AuditTrail } from '../../functions/commons/audit';
import { resetAwsClients } from '../../functions/commons/aws/clients';
import type { GateDecision } from '../../functions/commons/policy-gate';
import { planDigest, planSummary } from '../../functions/commons/workflow/plan';
import type { Plan } from '../../functions/commons/workflow/schema';
import { execute, handler, resetExecutorForTests } from '../../functions/execute';
import type { CodePipelineFake } from '../../local/codepipeline/server';
import { createTable, emulatorClientConfig } from '../helpers/aws';
import { deliveryPipeline, startCodePipelineFake } from '../helpers/codepipeline';
import { captureOutput, fakeLambdaContext } from '../helpers/lambda-context';
import { bundleFile, loadBuiltGate, patched, transientRetryInput } from '../helpers/policy';

const PARAMETER = '/myPipeline/api-endpoint';

describe('execute handler (moto: SSM, S3, DynamoDB on 127.0.0.1)', () => {
  const config = emulatorClientConfig();
  const dynamo = new DynamoDBClient(config);
  const ssm = new SSMClient(config);
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const savedEnv = { ...process.env };
  let auditTable: string;
  let parameterName: string;

  beforeEach(async () => {
    const idempotencyTable = await createTable(dynamo, 'suture-idempotency', 'id');
    auditTable = await createTable(dynamo, 'suture-audit', 'incident_id', 'seq');
    parameterName = `${PARAMETER}-${idempotencyTable.slice(-8)}`;
    // Version 1 is the good value; version 2 is the drift that broke the build.
    await ssm.send(
      new PutParameterCommand({ Name: parameterName, Value: 'https://api.good', Type: 'String' }),
    );
    await ssm.send(
      new PutParameterCommand({
        Name: parameterName,
        Value: 'https://api.broken',
        Type: 'String',
        Overwrite: true,
      }),
    );
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: config.endpoint,
      AWS_REGION: 'us-west-2',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      SUTURE_S3_FORCE_PATH_STYLE: 'true',
      SUTURE_IDEMPOTENCY_TABLE: idempotencyTable,
      SUTURE_AUDIT_TABLE: auditTable,
      SUTURE_POLICY_BUNDLE: bundleFile,
      SUTURE_POLICY_ALLOW_UNSIGNED: 'true',
    });
    resetAwsClients();
    resetExecutorForTests();
  });

  afterEach(() => {
    process.env = { ...savedEnv };
  });

  afterAll(async () => {
    dynamo.destroy();
    ssm.destroy();
    s3.destroy();
    await codePipeline?.stop();
  });

  let codePipeline: CodePipelineFake | undefined;

  /** A config drift incident whose proposal reverts the parameter; the policy requires approval. */
  async function revertState(options: { approved?: boolean; approvedAction?: string } = {}) {
    const base = transientRetryInput();
    const gateInput = patched(base, {
      incident: { id: `inc-${parameterName.slice(-8)}`, class: 'config_error', confidence: 0.92 },
      proposal: {
        action: 'revert_parameter',
        parameters: { parameter_name: parameterName, to_version: 1 },
        rationale: 'the endpoint parameter changed just before the deploy failed',
      },
    });
    (gateInput.proposal as { parameters: unknown }).parameters = {
      parameter_name: parameterName,
      to_version: 1,
    };
    const decision = (await loadBuiltGate()).decide(gateInput);
    return {
      incident: {
        ...gateInput.incident,
        source: 'codepipeline',
        detail_type: 'CodePipeline Action Execution State Change',
        state: 'FAILED',
        event_id: 'e-1',
        event_time: '2026-11-23T09:59:00Z',
        detected_at: '2026-11-23T09:59:01Z',
      },
      attempts: gateInput.context.attempts,
      plan: { proposal: gateInput.proposal, gate_input: gateInput },
      decision,
      ...(options.approved === undefined
        ? {}
        : {
            approval: {
              approved: options.approved,
              approver: 'arn:aws:iam::123456789012:user/oncall',
              action: options.approvedAction ?? 'revert_parameter',
              at: '2026-11-23T10:05:00Z',
            },
          }),
    };
  }

  const versions = async () =>
    (await ssm.send(new GetParameterHistoryCommand({ Name: parameterName }))).Parameters?.length ?? 0;
  const currentValue = async () =>
    (await ssm.send(new GetParameterCommand({ Name: parameterName }))).Parameter?.Value;

  it('reverts the parameter once approved, and a second invocation for the same decision does not mutate again', async () => {
    // Prepare
    const state = await revertState({ approved: true });
    expect((state.decision as GateDecision).require_approval).toBe(true);

    // Act
    const first = await execute(state, fakeLambdaContext('suture-execute'));
    const second = await execute(state, fakeLambdaContext('suture-execute'));

    // Assess
    expect(first).toMatchObject({ action: 'revert_parameter', outcome: 'executed' });
    expect(second).toEqual(first);
    expect(await currentValue()).toBe('https://api.good');
    expect(await versions()).toBe(3);
    const audit = await new AuditTrail(dynamo, auditTable).records(state.incident.id);
    expect(audit.map((record) => record.step)).toEqual(['execute', 'execute']);
  });

  it('mutates once when the executor is invoked concurrently for one decision', async () => {
    // Prepare
    const state = await revertState({ approved: true });

    // Act
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, () => execute(state, fakeLambdaContext('suture-execute'))),
    );

    // Assess: one mutation; the others either replay its result or were told it is in progress.
    expect(await versions()).toBe(3);
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') expect(outcome.value.outcome).toBe('executed');
      else expect((outcome.reason as Error).name).toBe('IdempotencyAlreadyInProgressError');
    }
    expect(outcomes.some((o) => o.status === 'fulfilled')).toBe(true);
  });

  it.each([
    ['no approval was given', {}, /approval was required/],
    ['the approver rejected it', { approved: false }, /rejected/],
    [
      'the approval was for another action',
      { approved: true, approvedAction: 'open_patch_proposal' },
      /not for/,
    ],
  ])('refuses to act when %s, and mutates nothing', async (_what, options, reason) => {
    // Prepare
    const state = await revertState(options);

    // Act / Assess
    await expect(execute(state)).rejects.toMatchObject({
      name: 'ExecutionRefusedError',
      message: expect.stringMatching(reason),
    });
    expect(await versions()).toBe(2);
    const audit = await new AuditTrail(dynamo, auditTable).records(state.incident.id);
    expect(audit.map((record) => record.step)).toEqual(['execute_refused']);
  });

  it('refuses a forged allow: the re-evaluated policy decides, not the workflow state', async () => {
    // Prepare: the state claims "allow" for a proposal the policy only lets through with approval.
    const state = await revertState();
    state.decision = { ...(state.decision as GateDecision), allow: true, require_approval: false };

    // Act / Assess
    await expect(execute(state)).rejects.toThrow(/re-evaluated now, does not allow/);
    expect(await versions()).toBe(2);
  });

  it('refuses when the proposal in the workflow differs from the one the policy evaluated', async () => {
    // Prepare: a tampered proposal aims at another parameter after the decision.
    const state = await revertState({ approved: true });
    const tampered = {
      ...state.plan.proposal,
      parameters: { parameter_name: '/other/secret', to_version: 1 },
    };
    state.plan = { ...state.plan, proposal: tampered as unknown as typeof state.plan.proposal };

    // Act / Assess
    await expect(execute(state)).rejects.toThrow(/differs from the one the policy evaluated/);
    expect(await versions()).toBe(2);
  });

  it('refuses when the policy bundle changed between the decision and the execution', async () => {
    // Prepare
    const state = await revertState({ approved: true });
    state.decision = { ...(state.decision as GateDecision), bundle_revision: 'sha256:' + '0'.repeat(64) };

    // Act / Assess
    await expect(execute(state)).rejects.toThrow(/bundle changed/);
    expect(await versions()).toBe(2);
  });

  it('refuses, failing closed, when the policy bundle cannot be loaded', async () => {
    // Prepare
    const state = await revertState({ approved: true });
    process.env.SUTURE_POLICY_BUNDLE = '/nonexistent/bundle.tar.gz';
    resetExecutorForTests();

    // Act / Assess
    await expect(execute(state)).rejects.toThrow(/policy bundle unavailable/);
    expect(await versions()).toBe(2);
  });

  it('names the wrong field of a malformed input', async () => {
    // Prepare
    const state = await revertState({ approved: true });
    const broken = { ...state, plan: { ...state.plan, gate_input: undefined } };

    // Act / Assess
    await expect(execute(broken)).rejects.toMatchObject({
      name: 'ExecuteInputError',
      message: expect.stringMatching(/plan\.gate_input/),
    });
  });

  it('stores a patch proposal redacted for review, never applying it, and keeps secrets out of logs', async () => {
    // Prepare
    const bucket = `suture-evidence-${parameterName.slice(-8).toLowerCase()}`;
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: 'us-west-2' },
      }),
    );
    process.env.SUTURE_EVIDENCE_BUCKET = bucket;
    resetExecutorForTests();
    const secret = 'ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789';
    const base = await revertState({ approved: true });
    const proposal = {
      action: 'open_patch_proposal',
      parameters: {
        title: 'Pin the flaky dependency',
        patch: `--- a/.npmrc\n+++ b/.npmrc\n-//registry.npmjs.org/:_authToken=${secret}\n+save-exact=true\n`,
      },
      source: 'playbook' as const,
      rationale: 'dependency drift',
      confidence: 0.9,
    };
    const gateInput = { ...base.plan.gate_input, proposal };
    const decision = (await loadBuiltGate()).decide(gateInput);
    const state = {
      ...base,
      plan: { proposal, gate_input: gateInput },
      decision,
      approval: { ...base.approval!, action: 'open_patch_proposal' },
    };

    // Act
    const { result, output } = await captureOutput(() => handler(state, fakeLambdaContext('suture-execute')));

    // Assess
    expect(result).toMatchObject({ action: 'open_patch_proposal', outcome: 'executed' });
    const stored = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: String(result.detail.key) }));
    const body = await stored.Body!.transformToString();
    expect(body).toContain('+save-exact=true');
    expect(body).not.toContain(secret);
    expect(output).not.toContain(secret);
    const audit = await new AuditTrail(dynamo, auditTable).records(state.incident.id);
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  describe('a plan: revert the parameter, then retry the failed stage', () => {
    let failedExecution: string;

    beforeEach(async () => {
      codePipeline ??= await startCodePipelineFake();
      codePipeline.reset();
      codePipeline.addPipeline(deliveryPipeline('myPipeline'));
      failedExecution = codePipeline.addExecution('myPipeline', {
        failAt: { stage: 'Build', action: 'Build' },
      }).pipelineExecutionId;
      codePipeline.hooks.onRetryStage = () => 'Succeeded';
      process.env.AWS_ENDPOINT_URL_CODEPIPELINE = codePipeline.endpoint;
      resetAwsClients();
    });

    const retryStep = (executionId: string) => ({
      action: 'retry_stage',
      parameters: {
        pipeline: 'myPipeline',
        stage: 'Build',
        execution_id: executionId,
        retry_mode: 'FAILED_ACTIONS',
      },
      source: 'playbook' as const,
      rationale:
        'revert_parameter does not re-run anything; retrying the failed Build stage lets validation observe the repair',
      confidence: 0.92,
    });

    /** The revert state with a resume step, decided again for the whole plan. */
    async function planState(
      options: { approval?: 'plan' | 'first-step-only' | 'other-plan'; executionId?: string } = {},
    ) {
      const base = await revertState();
      const executionId = options.executionId ?? failedExecution;
      const incident = {
        ...base.plan.gate_input.incident,
        stage: 'Build',
        action: 'Build',
        execution_id: executionId,
      };
      const then = [retryStep(executionId)];
      const gateInput = { ...base.plan.gate_input, incident, then };
      const plan = { proposal: base.plan.proposal, then, gate_input: gateInput };
      const steps = planSummary(plan as unknown as Plan);
      const approvedSteps =
        options.approval === 'other-plan'
          ? [steps[0]!, { action: 'start_pipeline_execution', parameters: { pipeline: 'myPipeline' } }]
          : steps;
      return {
        ...base,
        incident: { ...base.incident, stage: 'Build', action: 'Build', execution_id: executionId },
        plan,
        decision: (await loadBuiltGate()).decide(gateInput),
        ...(options.approval
          ? {
              approval: {
                approved: true,
                approver: 'arn:aws:iam::123456789012:user/oncall',
                action: 'revert_parameter',
                ...(options.approval === 'first-step-only'
                  ? {}
                  : { steps: approvedSteps, plan_sha256: planDigest(approvedSteps) }),
                at: '2026-11-23T10:05:00Z',
              },
            }
          : {}),
      };
    }

    const retries = () =>
      codePipeline!.appliedMutations().filter((m) => m.operation === 'RetryStageExecution');

    it('runs both steps in order once approved, and a redelivered plan redoes neither', async () => {
      // Prepare
      const state = await planState({ approval: 'plan' });
      expect(state.decision).toMatchObject({ allow: false, require_approval: true });

      // Act
      const first = await execute(state, fakeLambdaContext('suture-execute'));
      const second = await execute(state, fakeLambdaContext('suture-execute'));

      // Assess
      expect(first).toMatchObject({
        action: 'retry_stage',
        outcome: 'executed',
        pipeline_execution_id: failedExecution,
        steps: [
          { action: 'revert_parameter', outcome: 'executed' },
          { action: 'retry_stage', outcome: 'executed' },
        ],
      });
      expect(second).toEqual(first);
      expect(await currentValue()).toBe('https://api.good');
      expect(await versions()).toBe(3);
      expect(retries()).toHaveLength(1);
      const audit = await new AuditTrail(dynamo, auditTable).records(state.incident.id);
      expect(
        audit.map((r) => [r.step, (r.data as { action: string }).action, (r.data as { step?: number }).step]),
      ).toEqual([
        ['execute', 'revert_parameter', 1],
        ['execute', 'retry_stage', 2],
        ['execute', 'revert_parameter', 1],
        ['execute', 'retry_stage', 2],
      ]);
    });

    it.each([
      ['the approval names the first step only', 'first-step-only' as const, /does not name the steps/],
      ['the approval was for another second step', 'other-plan' as const, /another plan/],
    ])('refuses when %s, and mutates nothing', async (_what, approval, reason) => {
      // Prepare
      const state = await planState({ approval });

      // Act / Assess
      await expect(execute(state)).rejects.toMatchObject({
        name: 'ExecutionRefusedError',
        message: expect.stringMatching(reason),
      });
      expect(await versions()).toBe(2);
      expect(retries()).toHaveLength(0);
    });

    it('refuses when a follow-up step was changed after the decision', async () => {
      // Prepare
      const state = await planState({ approval: 'plan' });
      const changed = {
        ...state.plan.then[0]!,
        action: 'start_pipeline_execution',
        parameters: { pipeline: 'myPipeline' },
      };
      const tampered = { ...state, plan: { ...state.plan, then: [changed] } };

      // Act / Assess
      await expect(execute(tampered)).rejects.toThrow(/follow-up steps differ/);
      expect(await versions()).toBe(2);
    });

    it('stops at a failed step, records what was done, and a redelivery does not revert again', async () => {
      // Prepare: the retry aims at an execution CodePipeline does not know.
      const state = await planState({
        approval: 'plan',
        executionId: '99999999-1234-5678-abcd-12345678abcd',
      });
      codePipeline!.reset();

      // Act
      const failure = execute(state, fakeLambdaContext('suture-execute'));
      await expect(failure).rejects.toMatchObject({
        name: 'PlanStepFailedError',
        message: expect.stringMatching(
          /^step 2 of 2 \(retry_stage\) failed: .*; already done: step 1 revert_parameter executed at /,
        ),
      });
      const again = execute(state, fakeLambdaContext('suture-execute'));
      await expect(again).rejects.toMatchObject({ name: 'PlanStepFailedError' });

      // Assess
      expect(await currentValue()).toBe('https://api.good');
      expect(await versions()).toBe(3);
      const audit = await new AuditTrail(dynamo, auditTable).records(state.incident.id);
      expect(audit.map((r) => r.step)).toEqual([
        'execute',
        'execute_step_failed',
        'execute',
        'execute_step_failed',
      ]);
      expect(audit[1]!.data).toMatchObject({
        step: 2,
        of: 2,
        action: 'retry_stage',
        done: [{ action: 'revert_parameter', outcome: 'executed' }],
      });
    });
  });
});
