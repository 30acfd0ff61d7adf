import {
  CodePipelineServiceException,
  ConflictException,
  DuplicatedStopRequestException,
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  InvalidNextTokenException,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  ListTagsForResourceCommand,
  NotLatestPipelineExecutionException,
  PipelineExecutionNotFoundException,
  PipelineExecutionNotStoppableException,
  PipelineExecutionOutdatedException,
  PipelineNotFoundException,
  RetryStageExecutionCommand,
  RollbackStageCommand,
  StageNotRetryableException,
  StartPipelineExecutionCommand,
  StopPipelineExecutionCommand,
  UnableToRollbackStageException,
  ValidationException,
  type CodePipelineClient,
} from '@aws-sdk/client-codepipeline';
import type { CodePipelineFake, WorldChange } from '../../local/codepipeline/server';
import {
  deliveryPipeline,
  fakeCodePipelineClient,
  FAKE_ACCOUNT,
  FAKE_REGION,
  startCodePipelineFake,
} from '../helpers/codepipeline';

/**
 * The fake is only useful if the real SDK reads it as it reads AWS: every case below goes
 * through the real CodePipelineClient (AWS JSON 1.1, SigV4, typed exceptions, retries).
 */
describe('CodePipelineFake with the real CodePipelineClient', () => {
  let fake: CodePipelineFake;
  let client: CodePipelineClient;
  const PIPELINE = 'myPipeline';

  beforeAll(async () => {
    fake = await startCodePipelineFake();
    client = fakeCodePipelineClient(fake);
  });

  beforeEach(() => {
    fake.reset();
    fake.addPipeline(deliveryPipeline(PIPELINE));
  });

  afterAll(async () => {
    client.destroy();
    await fake.stop();
  });

  /** Two good releases, then one that failed in Deploy. */
  const seedHistory = () => {
    const older = fake.addExecution(PIPELINE, { startTime: new Date('2026-11-20T10:00:00Z') });
    const good = fake.addExecution(PIPELINE, { startTime: new Date('2026-11-21T10:00:00Z') });
    const failed = fake.addExecution(PIPELINE, {
      startTime: new Date('2026-11-22T10:00:00Z'),
      failAt: {
        stage: 'Deploy',
        action: 'Deploy',
        summary: 'Deployment d-8F3K2L1Q failed',
        errorCode: 'JobFailed',
        externalExecutionId: 'd-8F3K2L1Q',
      },
    });
    return { older, good, failed };
  };

  describe('reads', () => {
    it('returns the pipeline structure, version and metadata timestamps', async () => {
      // Act
      const output = await client.send(new GetPipelineCommand({ name: PIPELINE }));

      // Assess
      expect(output.pipeline?.version).toBe(1);
      expect(output.pipeline?.stages?.map((stage) => stage.name)).toEqual(['Source', 'Build', 'Deploy']);
      expect(output.pipeline?.stages?.[1]?.actions?.[0]).toMatchObject({
        name: 'Build',
        actionTypeId: { category: 'Build', owner: 'AWS', provider: 'CodeBuild', version: '1' },
        configuration: { ProjectName: 'my-build-project' },
      });
      expect(output.metadata?.pipelineArn).toBe(
        `arn:aws:codepipeline:${FAKE_REGION}:${FAKE_ACCOUNT}:${PIPELINE}`,
      );
      expect(output.metadata?.created).toBeInstanceOf(Date);
    });

    it('shows the latest execution of each stage and action in GetPipelineState', async () => {
      // Prepare
      const { good, failed } = seedHistory();

      // Act
      const state = await client.send(new GetPipelineStateCommand({ name: PIPELINE }));

      // Assess
      const deploy = state.stageStates?.find((stage) => stage.stageName === 'Deploy');
      expect(deploy?.latestExecution).toEqual({
        pipelineExecutionId: failed.pipelineExecutionId,
        status: 'Failed',
        type: 'STANDARD',
      });
      expect(deploy?.actionStates?.[0]?.latestExecution).toMatchObject({
        status: 'Failed',
        summary: 'Deployment d-8F3K2L1Q failed',
        externalExecutionId: 'd-8F3K2L1Q',
        errorDetails: { code: 'JobFailed', message: 'Deployment d-8F3K2L1Q failed' },
      });
      expect(deploy?.actionStates?.[0]?.latestExecution?.lastStatusChange).toBeInstanceOf(Date);
      expect(state.stageStates?.find((stage) => stage.stageName === 'Build')?.latestExecution).toMatchObject({
        pipelineExecutionId: failed.pipelineExecutionId,
        status: 'Succeeded',
      });
      expect(good.status).toBe('Succeeded');
    });

    it('returns one execution with its status, type and trigger', async () => {
      // Prepare
      const { failed } = seedHistory();

      // Act
      const output = await client.send(
        new GetPipelineExecutionCommand({
          pipelineName: PIPELINE,
          pipelineExecutionId: failed.pipelineExecutionId,
        }),
      );

      // Assess
      expect(output.pipelineExecution).toMatchObject({
        pipelineName: PIPELINE,
        pipelineVersion: 1,
        pipelineExecutionId: failed.pipelineExecutionId,
        status: 'Failed',
        executionType: 'STANDARD',
        trigger: { triggerType: 'StartPipelineExecution' },
      });
    });

    it('lists executions newest first, filtered by the stage they succeeded in, page by page', async () => {
      // Prepare
      const { older, good, failed } = seedHistory();

      // Act
      const all = await client.send(new ListPipelineExecutionsCommand({ pipelineName: PIPELINE }));
      const first = await client.send(
        new ListPipelineExecutionsCommand({
          pipelineName: PIPELINE,
          filter: { succeededInStage: { stageName: 'Deploy' } },
          maxResults: 1,
        }),
      );
      const second = await client.send(
        new ListPipelineExecutionsCommand({
          pipelineName: PIPELINE,
          filter: { succeededInStage: { stageName: 'Deploy' } },
          maxResults: 1,
          nextToken: first.nextToken,
        }),
      );

      // Assess
      expect(all.pipelineExecutionSummaries?.map((s) => s.pipelineExecutionId)).toEqual([
        failed.pipelineExecutionId,
        good.pipelineExecutionId,
        older.pipelineExecutionId,
      ]);
      expect(all.pipelineExecutionSummaries?.[0]?.startTime).toEqual(new Date('2026-11-22T10:00:00Z'));
      expect(first.pipelineExecutionSummaries?.map((s) => s.pipelineExecutionId)).toEqual([
        good.pipelineExecutionId,
      ]);
      expect(first.nextToken).toEqual(expect.any(String));
      expect(second.pipelineExecutionSummaries?.map((s) => s.pipelineExecutionId)).toEqual([
        older.pipelineExecutionId,
      ]);
      expect(second.nextToken).toBeUndefined();
    });

    it('refuses a next token from another listing', async () => {
      // Prepare
      seedHistory();
      const first = await client.send(
        new ListPipelineExecutionsCommand({ pipelineName: PIPELINE, maxResults: 1 }),
      );

      // Act
      const listing = client.send(
        new ListActionExecutionsCommand({ pipelineName: PIPELINE, nextToken: first.nextToken }),
      );

      // Assess
      await expect(listing).rejects.toBeInstanceOf(InvalidNextTokenException);
    });

    it('lists the action executions of one execution with their results, page by page', async () => {
      // Prepare
      const { failed } = seedHistory();
      const filter = { pipelineExecutionId: failed.pipelineExecutionId };

      // Act
      const pages = [];
      let nextToken: string | undefined;
      do {
        const page = await client.send(
          new ListActionExecutionsCommand({ pipelineName: PIPELINE, filter, maxResults: 2, nextToken }),
        );
        pages.push(page.actionExecutionDetails ?? []);
        nextToken = page.nextToken;
      } while (nextToken);

      // Assess
      expect(pages.map((page) => page.length)).toEqual([2, 2]);
      const details = pages.flat();
      expect(new Set(details.map((d) => d.pipelineExecutionId))).toEqual(
        new Set([failed.pipelineExecutionId]),
      );
      expect(details.map((d) => `${d.stageName}/${d.actionName}`).sort()).toEqual([
        'Build/Build',
        'Deploy/Deploy',
        'Deploy/Smoke',
        'Source/Source',
      ]);
      const deploy = details.find((d) => d.actionName === 'Deploy');
      expect(deploy).toMatchObject({
        status: 'Failed',
        input: { actionTypeId: { provider: 'CodeDeploy', category: 'Deploy' } },
        output: {
          executionResult: {
            externalExecutionId: 'd-8F3K2L1Q',
            externalExecutionSummary: 'Deployment d-8F3K2L1Q failed',
            errorDetails: { code: 'JobFailed' },
          },
        },
      });
    });

    it('lists the pipeline tags by ARN', async () => {
      // Act
      const output = await client.send(
        new ListTagsForResourceCommand({
          resourceArn: `arn:aws:codepipeline:${FAKE_REGION}:${FAKE_ACCOUNT}:${PIPELINE}`,
        }),
      );

      // Assess
      expect(output.tags).toEqual([
        { key: 'team', value: 'payments' },
        { key: 'environment', value: 'production' },
      ]);
    });

    it('raises typed not-found errors, and hides pipelines of another region', async () => {
      // Prepare
      const elsewhere = fakeCodePipelineClient(fake, { region: 'eu-west-1' });

      // Act
      const missingExecution = client.send(
        new GetPipelineExecutionCommand({
          pipelineName: PIPELINE,
          pipelineExecutionId: '00000000-0000-4000-8000-000000000000',
        }),
      );
      const otherRegion = elsewhere.send(new GetPipelineStateCommand({ name: PIPELINE }));

      // Assess
      await expect(missingExecution).rejects.toBeInstanceOf(PipelineExecutionNotFoundException);
      await expect(otherRegion).rejects.toBeInstanceOf(PipelineNotFoundException);
      elsewhere.destroy();
    });

    it('refuses a request without a required field with a ValidationException naming it', async () => {
      // Act
      const request = client.send(new GetPipelineExecutionCommand({ pipelineName: PIPELINE } as never));

      // Assess
      await expect(request).rejects.toBeInstanceOf(ValidationException);
      await expect(request).rejects.toThrow(
        "1 validation error detected: Value null at 'pipelineExecutionId' failed to satisfy constraint: Member must not be null",
      );
    });

    it('refuses an unsigned request', async () => {
      // Act
      const response = await fetch(fake.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'CodePipeline_20150709.GetPipeline',
        },
        body: JSON.stringify({ name: PIPELINE }),
      });

      // Assess
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({
        __type: 'MissingAuthenticationTokenException',
        message: 'Missing Authentication Token',
      });
    });
  });

  describe('RetryStageExecution', () => {
    it('resumes the failed stage and reacts as the hook scripts it: one mutation', async () => {
      // Prepare
      const { failed } = seedHistory();
      const contexts: string[] = [];
      fake.hooks.onRetryStage = ({ stageName, execution, retryMode }) => {
        contexts.push(`${stageName}/${execution.pipelineExecutionId}/${retryMode}`);
        return 'Succeeded';
      };
      const changes: WorldChange[] = [];
      fake.on('change', (change: WorldChange) => changes.push(change));

      // Act
      const output = await client.send(
        new RetryStageExecutionCommand({
          pipelineName: PIPELINE,
          stageName: 'Deploy',
          pipelineExecutionId: failed.pipelineExecutionId,
          retryMode: 'FAILED_ACTIONS',
        }),
      );

      // Assess
      fake.removeAllListeners('change');
      expect(output.pipelineExecutionId).toBe(failed.pipelineExecutionId);
      expect(contexts).toEqual([`Deploy/${failed.pipelineExecutionId}/FAILED_ACTIONS`]);
      expect(fake.appliedMutations().map((m) => m.operation)).toEqual(['RetryStageExecution']);
      const execution = await client.send(
        new GetPipelineExecutionCommand({
          pipelineName: PIPELINE,
          pipelineExecutionId: failed.pipelineExecutionId,
        }),
      );
      expect(execution.pipelineExecution?.status).toBe('Succeeded');
      const actions = await client.send(
        new ListActionExecutionsCommand({
          pipelineName: PIPELINE,
          filter: { pipelineExecutionId: failed.pipelineExecutionId },
        }),
      );
      const deployRuns = actions.actionExecutionDetails?.filter((d) => d.actionName === 'Deploy');
      expect(deployRuns?.map((d) => d.status)).toEqual(['Succeeded', 'Failed']);
      // FAILED_ACTIONS re-runs only the failed action: Smoke had succeeded and keeps its one run.
      expect(actions.actionExecutionDetails?.filter((d) => d.actionName === 'Smoke')).toHaveLength(1);
      expect(changes.filter((c) => c.level === 'pipeline').map((c) => c.status)).toEqual([
        'InProgress',
        'Succeeded',
      ]);
      expect(changes.every((c) => c.cause === 'retry')).toBe(true);
    });

    it('refuses a stage that did not fail, one already being retried, and a stale execution', async () => {
      // Prepare
      const { good, failed } = seedHistory();
      const retry = (pipelineExecutionId: string, stageName = 'Deploy') =>
        client.send(
          new RetryStageExecutionCommand({
            pipelineName: PIPELINE,
            stageName,
            pipelineExecutionId,
            retryMode: 'FAILED_ACTIONS',
          }),
        );

      // Act
      const succeededStage = retry(failed.pipelineExecutionId, 'Build');
      const stale = retry(good.pipelineExecutionId);
      await expect(succeededStage).rejects.toBeInstanceOf(StageNotRetryableException);
      await expect(stale).rejects.toBeInstanceOf(NotLatestPipelineExecutionException);
      await retry(failed.pipelineExecutionId); // the default reaction leaves it InProgress
      const again = retry(failed.pipelineExecutionId);

      // Assess
      await expect(again).rejects.toBeInstanceOf(ConflictException);
      expect(fake.mutations.map((m) => m.outcome)).toEqual(['rejected', 'rejected', 'applied', 'rejected']);
      expect(fake.mutations.map((m) => m.error)).toEqual([
        'StageNotRetryableException',
        'NotLatestPipelineExecutionException',
        undefined,
        'ConflictException',
      ]);
      expect(fake.execution(PIPELINE, failed.pipelineExecutionId)?.status).toBe('InProgress');
      fake.settle(PIPELINE, failed.pipelineExecutionId, { status: 'Failed', summary: 'still broken' });
      expect(fake.execution(PIPELINE, failed.pipelineExecutionId)?.status).toBe('Failed');
    });
  });

  describe('RollbackStage', () => {
    it('starts a new ROLLBACK execution of the stage from a target that succeeded in it', async () => {
      // Prepare
      const { good } = seedHistory();
      fake.hooks.onRollbackStage = ({ target }) =>
        target.pipelineExecutionId === good.pipelineExecutionId ? 'Succeeded' : 'Failed';

      // Act
      const output = await client.send(
        new RollbackStageCommand({
          pipelineName: PIPELINE,
          stageName: 'Deploy',
          targetPipelineExecutionId: good.pipelineExecutionId,
        }),
      );

      // Assess
      const rollback = await client.send(
        new GetPipelineExecutionCommand({
          pipelineName: PIPELINE,
          pipelineExecutionId: output.pipelineExecutionId,
        }),
      );
      expect(output.pipelineExecutionId).not.toBe(good.pipelineExecutionId);
      expect(rollback.pipelineExecution).toMatchObject({
        status: 'Succeeded',
        executionType: 'ROLLBACK',
        trigger: { triggerType: 'ManualRollback' },
        rollbackMetadata: { rollbackTargetPipelineExecutionId: good.pipelineExecutionId },
      });
      const state = await client.send(new GetPipelineStateCommand({ name: PIPELINE }));
      expect(state.stageStates?.find((s) => s.stageName === 'Deploy')?.latestExecution).toEqual({
        pipelineExecutionId: output.pipelineExecutionId,
        status: 'Succeeded',
        type: 'ROLLBACK',
      });
      expect(fake.appliedMutations()).toHaveLength(1);
    });

    it('follows the rollback rules: succeeded target, not a rollback, current version, no conflict', async () => {
      // Prepare
      const { good, failed } = seedHistory();
      const rollback = (targetPipelineExecutionId: string, stageName = 'Deploy') =>
        client.send(
          new RollbackStageCommand({ pipelineName: PIPELINE, stageName, targetPipelineExecutionId }),
        );

      // Act
      const failedTarget = rollback(failed.pipelineExecutionId);
      const sourceStage = rollback(good.pipelineExecutionId, 'Source');
      await expect(failedTarget).rejects.toBeInstanceOf(UnableToRollbackStageException);
      await expect(sourceStage).rejects.toBeInstanceOf(UnableToRollbackStageException);
      const first = await rollback(good.pipelineExecutionId); // stays InProgress by default
      const concurrent = rollback(good.pipelineExecutionId);
      await expect(concurrent).rejects.toBeInstanceOf(ConflictException);
      fake.settle(PIPELINE, first.pipelineExecutionId!, 'Succeeded');
      const rollbackAsTarget = rollback(first.pipelineExecutionId!);
      await expect(rollbackAsTarget).rejects.toBeInstanceOf(UnableToRollbackStageException);
      fake.updatePipeline(PIPELINE, { stages: deliveryPipeline(PIPELINE).stages });
      const outdated = rollback(good.pipelineExecutionId);

      // Assess
      await expect(outdated).rejects.toBeInstanceOf(PipelineExecutionOutdatedException);
      expect(fake.appliedMutations().map((m) => m.operation)).toEqual(['RollbackStage']);
    });
  });

  describe('StartPipelineExecution and StopPipelineExecution', () => {
    it('starts one execution per client request token', async () => {
      // Prepare
      const token = 'suture-inc-0001-retry';

      // Act
      const first = await client.send(
        new StartPipelineExecutionCommand({ name: PIPELINE, clientRequestToken: token }),
      );
      const again = await client.send(
        new StartPipelineExecutionCommand({ name: PIPELINE, clientRequestToken: token }),
      );
      const other = await client.send(new StartPipelineExecutionCommand({ name: PIPELINE }));

      // Assess
      expect(again.pipelineExecutionId).toBe(first.pipelineExecutionId);
      expect(other.pipelineExecutionId).not.toBe(first.pipelineExecutionId);
      expect(fake.mutations.map((m) => m.outcome)).toEqual(['applied', 'replayed', 'applied']);
      // The SDK fills clientRequestToken itself (idempotency token), so every call carries one.
      expect(fake.mutations.map((m) => typeof m.input.clientRequestToken)).toEqual([
        'string',
        'string',
        'string',
      ]);
      expect(fake.executions(PIPELINE)).toHaveLength(2);
      expect(fake.execution(PIPELINE, first.pipelineExecutionId!)).toMatchObject({
        status: 'InProgress',
        activeStage: 'Source',
      });
    });

    it('stops a running execution once; a second stop is a duplicate, a finished one is not stoppable', async () => {
      // Prepare
      const running = fake.addExecution(PIPELINE, { runningAt: 'Deploy' });
      const done = fake.addExecution(PIPELINE);
      const stop = (pipelineExecutionId: string, abandon = false) =>
        client.send(
          new StopPipelineExecutionCommand({
            pipelineName: PIPELINE,
            pipelineExecutionId,
            abandon,
            reason: 'suture',
          }),
        );

      // Act
      await stop(running.pipelineExecutionId);
      const duplicate = stop(running.pipelineExecutionId);
      await expect(duplicate).rejects.toBeInstanceOf(DuplicatedStopRequestException);
      await stop(running.pipelineExecutionId, true);
      const finished = stop(done.pipelineExecutionId);

      // Assess
      await expect(finished).rejects.toBeInstanceOf(PipelineExecutionNotStoppableException);
      expect(fake.execution(PIPELINE, running.pipelineExecutionId)?.status).toBe('Stopped');
      expect(fake.execution(PIPELINE, running.pipelineExecutionId)?.stopTrigger).toEqual({
        reason: 'suture',
      });
      expect(fake.appliedMutations()).toHaveLength(2);
    });
  });

  describe('faults', () => {
    it('throttles with a 400 ThrottlingException that the SDK retries', async () => {
      // Prepare
      const { failed } = seedHistory();
      fake.injectFault({ operation: 'GetPipelineExecution', error: 'ThrottlingException', times: 2 });

      // Act
      const output = await client.send(
        new GetPipelineExecutionCommand({
          pipelineName: PIPELINE,
          pipelineExecutionId: failed.pipelineExecutionId,
        }),
      );

      // Assess
      expect(output.pipelineExecution?.status).toBe('Failed');
      expect(output.$metadata.attempts).toBe(3);
      expect(fake.calls.map((c) => c.error ?? 'ok')).toEqual([
        'ThrottlingException',
        'ThrottlingException',
        'ok',
      ]);
    });

    it('gives up after the SDK attempts with a throttling error the caller can recognise', async () => {
      // Prepare
      const { failed } = seedHistory();
      fake.injectFault({ operation: '*', error: 'ThrottlingException', times: 5 });

      // Act
      const call = client.send(
        new RetryStageExecutionCommand({
          pipelineName: PIPELINE,
          stageName: 'Deploy',
          pipelineExecutionId: failed.pipelineExecutionId,
          retryMode: 'FAILED_ACTIONS',
        }),
      );

      // Assess
      const error = (await call.catch((e: unknown) => e)) as CodePipelineServiceException;
      expect(error).toBeInstanceOf(CodePipelineServiceException);
      expect(error.name).toBe('ThrottlingException');
      expect(error.$metadata.httpStatusCode).toBe(400);
      expect(error.$metadata.attempts).toBe(3);
      expect(fake.appliedMutations()).toHaveLength(0);
      expect(fake.mutations.map((m) => m.outcome)).toEqual(['rejected', 'rejected', 'rejected']);
      fake.clearFaults();
    });

    it('fails with a 500 InternalFailure that the SDK retries', async () => {
      // Prepare
      fake.injectFault({ operation: 'GetPipelineState', error: 'InternalFailure' });

      // Act
      const output = await client.send(new GetPipelineStateCommand({ name: PIPELINE }));

      // Assess
      expect(output.$metadata.attempts).toBe(2);
      expect(fake.calls.map((c) => c.error ?? 'ok')).toEqual(['InternalFailure', 'ok']);
    });
  });
});
