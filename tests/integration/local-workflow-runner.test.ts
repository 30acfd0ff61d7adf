import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { LocalStepFunctions, type LocalExecution } from '../../local/stepfunctions/server';
import { runWorkflow, type LocalFunction } from '../../local/workflow/runner';

const WORK = 'arn:aws:lambda:us-west-2:123456789012:function:work';
const ASK = 'arn:aws:lambda:us-west-2:123456789012:function:ask';

/** A small workflow with the shapes the loop uses: a Lambda task, a callback task, Retry and Catch. */
const definition = {
  StartAt: 'Work',
  States: {
    Work: {
      Type: 'Task',
      Resource: WORK,
      ResultPath: '$.work',
      Retry: [{ ErrorEquals: ['TransientAwsError'], IntervalSeconds: 5, MaxAttempts: 2, BackoffRate: 2 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Escalated' }],
      Next: 'Ask',
    },
    Ask: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: ASK, Payload: { 'state.$': '$', 'task_token.$': '$$.Task.Token' } },
      ResultPath: '$.approval',
      TimeoutSeconds: 3600,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Escalated' }],
      Next: 'Bake',
    },
    Bake: { Type: 'Wait', Seconds: 600, Next: 'Done' },
    Done: { Type: 'Succeed' },
    Escalated: { Type: 'Succeed' },
  },
};

describe('local workflow runner (aws-local-stepfunctions + Step Functions protocol on 127.0.0.1)', () => {
  const server = new LocalStepFunctions();
  let sfn: SFNClient;

  beforeAll(async () => {
    const { endpoint } = await server.start();
    sfn = new SFNClient({
      endpoint,
      region: 'us-west-2',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
  });

  afterAll(async () => {
    sfn.destroy();
    await server.stop();
  });

  function functions(ask: LocalFunction, work: LocalFunction = async () => ({ ok: true })) {
    return new Map<string, LocalFunction>([
      [WORK, work],
      [ASK, ask],
    ]);
  }

  it('resumes a callback task when the real SFN client sends success with the issued token', async () => {
    // Prepare: the "ask" function answers through the wire protocol, as the approval function does.
    const ask: LocalFunction = async (payload) => {
      const token = (payload as { task_token: string }).task_token;
      setTimeout(() => {
        void sfn.send(
          new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ approved: true }) }),
        );
      }, 20);
      return {};
    };
    let attempts = 0;
    const work: LocalFunction = async () => {
      attempts += 1;
      if (attempts === 1) throw Object.assign(new Error('throttled'), { name: 'TransientAwsError' });
      return { done: attempts };
    };

    // Act
    const run = await runWorkflow({
      definition,
      functions: functions(ask, work),
      input: { id: 1 },
      taskTokens: server,
    });

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toEqual({ id: 1, work: { done: 2 }, approval: { approved: true } });
    expect(run.states.map((s) => s.name)).toEqual(['Work', 'Ask', 'Bake', 'Done']);
    expect(run.states[0]!.retries).toBe(1);
  });

  it('turns a failure callback into the named error that Catch routes, and rejects a reused token', async () => {
    // Prepare
    let token = '';
    const ask: LocalFunction = async (payload) => {
      token = (payload as { task_token: string }).task_token;
      setTimeout(() => {
        void sfn.send(
          new SendTaskFailureCommand({ taskToken: token, error: 'ApprovalRejectedError', cause: 'no' }),
        );
      }, 20);
      return {};
    };

    // Act
    const run = await runWorkflow({ definition, functions: functions(ask), input: {}, taskTokens: server });

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect((run.output as { error: { Error: string } }).error.Error).toBe('ApprovalRejectedError');
    expect(run.states.map((s) => s.name)).toEqual(['Work', 'Ask', 'Escalated']);
    await expect(
      sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })),
    ).rejects.toMatchObject({ name: 'TaskTimedOut' });
    await expect(
      sfn.send(new SendTaskSuccessCommand({ taskToken: 'local-unknown', output: '{}' })),
    ).rejects.toMatchObject({ name: 'TaskDoesNotExist' });
  });

  it('times a callback task out as States.Timeout when nobody answers', async () => {
    // Act
    const run = await runWorkflow({
      definition,
      functions: functions(async () => ({})),
      input: {},
      taskTokens: server,
      callbackTimeoutMs: 50,
    });

    // Assess
    expect((run.output as { error: { Error: string } }).error.Error).toBe('States.Timeout');
  });

  it('starts one execution per name and reports a different input under a taken name as ExecutionAlreadyExists', async () => {
    // Prepare
    const started: LocalExecution[] = [];
    const local = new LocalStepFunctions((execution) => started.push(execution));
    const { endpoint } = await local.start();
    const client = new SFNClient({
      endpoint,
      region: 'us-west-2',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    const stateMachineArn = 'arn:aws:states:us-west-2:123456789012:stateMachine:suture-loop';

    try {
      // Act
      const first = await client.send(
        new StartExecutionCommand({ stateMachineArn, name: 'inc-1', input: '{"a":1}' }),
      );
      const same = await client.send(
        new StartExecutionCommand({ stateMachineArn, name: 'inc-1', input: '{"a":1}' }),
      );
      const different = client.send(
        new StartExecutionCommand({ stateMachineArn, name: 'inc-1', input: '{"a":2}' }),
      );

      // Assess
      expect(same.executionArn).toBe(first.executionArn);
      await expect(different).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
      expect(started.map((e) => e.name)).toEqual(['inc-1']);
    } finally {
      client.destroy();
      await local.stop();
    }
  });
});
