import { DynamoDBClient, ScanCommand, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { fingerprint, LoopGuard, LoopGuardUnavailableError } from '../../functions/commons/loop-guard';
import { createTable, emulatorClientConfig } from '../helpers/aws';

describe('LoopGuard on DynamoDB (moto on 127.0.0.1)', () => {
  const client = new DynamoDBClient(emulatorClientConfig());
  let tableName: string;

  beforeEach(async () => {
    tableName = await createTable(client, 'suture-guard', 'pk');
  });

  afterAll(() => client.destroy());

  const now = new Date('2026-11-23T10:15:00Z');
  const request = (deliveryKey: string, at: Date = now) => ({
    deliveryKey,
    fingerprint: 'fp-deploy-timeout',
    pipelineKey: '123456789012/us-west-2/myPipeline',
    now: at,
  });

  it('records one attempt for 50 concurrent deliveries of the same failure', async () => {
    // Prepare
    const guard = new LoopGuard(client, tableName);

    // Act
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, () => guard.recordAttempt(request('exec-1/Deploy/FAILED'))),
    );

    // Assess
    expect(outcomes.filter((o) => o.outcome === 'recorded')).toEqual([
      { outcome: 'recorded', before: { fingerprint_24h: 0, pipeline_1h: 0 } },
    ]);
    expect(outcomes.filter((o) => o.outcome === 'duplicate')).toHaveLength(49);
    const items = await client.send(new ScanCommand({ TableName: tableName }));
    const counters = (items.Items ?? []).filter((item) => item.pk?.S?.startsWith('attempts#'));
    expect(counters.map((item) => item.attempts?.N)).toEqual(['1', '1']);
  });

  it('counts earlier attempts and stops a loop at the fingerprint ceiling without counting it', async () => {
    // Prepare
    const guard = new LoopGuard(client, tableName, { fingerprintPerDay: 3 });

    // Act
    const outcomes = [];
    for (let i = 0; i < 5; i += 1) outcomes.push(await guard.recordAttempt(request(`delivery-${i}`)));

    // Assess
    expect(
      outcomes.slice(0, 3).map((o) => (o.outcome === 'recorded' ? o.before.fingerprint_24h : -1)),
    ).toEqual([0, 1, 2]);
    expect(outcomes[3]).toEqual({ outcome: 'loop_detected', scope: 'fingerprint' });
    expect(outcomes[4]).toEqual({ outcome: 'loop_detected', scope: 'fingerprint' });
  });

  it('stops at the pipeline ceiling across different failures of one pipeline', async () => {
    // Prepare
    const guard = new LoopGuard(client, tableName, { pipelinePerHour: 2 });

    // Act
    const first = await guard.recordAttempt({ ...request('a'), fingerprint: 'fp-a' });
    const second = await guard.recordAttempt({ ...request('b'), fingerprint: 'fp-b' });
    const third = await guard.recordAttempt({ ...request('c'), fingerprint: 'fp-c' });

    // Assess
    expect(first).toMatchObject({ outcome: 'recorded', before: { pipeline_1h: 0 } });
    expect(second).toMatchObject({ outcome: 'recorded', before: { pipeline_1h: 1 } });
    expect(third).toEqual({ outcome: 'loop_detected', scope: 'pipeline' });
  });

  it('starts counting afresh in the next window', async () => {
    // Prepare
    const guard = new LoopGuard(client, tableName, { pipelinePerHour: 1 });
    await guard.recordAttempt(request('hour-1'));

    // Act
    const sameHour = await guard.recordAttempt(request('hour-1b', new Date('2026-11-23T10:59:59Z')));
    const nextHour = await guard.recordAttempt(request('hour-2', new Date('2026-11-23T11:00:01Z')));

    // Assess
    expect(sameHour).toEqual({ outcome: 'loop_detected', scope: 'pipeline' });
    expect(nextHour).toMatchObject({ outcome: 'recorded', before: { pipeline_1h: 0, fingerprint_24h: 1 } });
  });

  /** A client of the same emulator whose every call is listed, and whose answers `rewrite` may change. */
  function watchedClient(rewrite?: (command: string, output: Record<string, unknown>) => void) {
    const watched = new DynamoDBClient(emulatorClientConfig());
    const calls: string[] = [];
    watched.middlewareStack.add(
      (next, context) => async (args) => {
        calls.push(context.commandName ?? '?');
        const result = await next(args);
        rewrite?.(context.commandName ?? '?', result.output as unknown as Record<string, unknown>);
        return result;
      },
      { step: 'initialize', name: 'watch' },
    );
    return { watched, calls };
  }

  it('tells a redelivery when the first delivery was counted, from the refused transaction alone', async () => {
    // Prepare
    const { watched, calls } = watchedClient();
    const guard = new LoopGuard(watched, tableName);
    await guard.recordAttempt(request('exec-2/Deploy/FAILED'));
    calls.length = 0;

    // Act
    const again = await guard.recordAttempt(
      request('exec-2/Deploy/FAILED', new Date('2026-11-23T10:20:00Z')),
    );

    // Assess
    expect(again).toEqual({ outcome: 'duplicate', firstRecordedAt: Math.floor(now.getTime() / 1000) });
    expect(calls).toEqual(['TransactWriteItemsCommand']);
    watched.destroy();
  });

  it('reads the delivery marker when the store does not return the refused item', async () => {
    // Prepare: a store that answers the refusal without the item
    const { watched, calls } = watchedClient();
    watched.middlewareStack.add(
      (next) => async (args) => {
        try {
          return await next(args);
        } catch (error) {
          if (error instanceof TransactionCanceledException)
            for (const reason of error.CancellationReasons ?? []) delete reason.Item;
          throw error;
        }
      },
      { step: 'initialize', name: 'dropRefusedItem', priority: 'low' },
    );
    const guard = new LoopGuard(watched, tableName);
    await guard.recordAttempt(request('exec-3/Deploy/FAILED'));
    calls.length = 0;

    // Act
    const again = await guard.recordAttempt(request('exec-3/Deploy/FAILED'));

    // Assess
    expect(again).toEqual({ outcome: 'duplicate', firstRecordedAt: Math.floor(now.getTime() / 1000) });
    expect(calls).toEqual(['TransactWriteItemsCommand', 'GetItemCommand']);
    watched.destroy();
  });

  it('asks again for counters the store left unprocessed', async () => {
    // Prepare: the first counter read answers only one of the two counters
    let withheld = false;
    const { watched, calls } = watchedClient((command, output) => {
      if (command !== 'BatchGetItemCommand' || withheld) return;
      withheld = true;
      const items = (output.Responses as Record<string, Record<string, unknown>[]>)[tableName]!;
      const held = items.pop()!;
      output.UnprocessedKeys = { [tableName]: { Keys: [{ pk: held.pk }], ConsistentRead: true } };
    });
    const guard = new LoopGuard(watched, tableName);
    await guard.recordAttempt(request('first'));

    // Act
    const second = await guard.recordAttempt(request('second'));

    // Assess
    expect(withheld).toBe(true);
    expect(second).toEqual({ outcome: 'recorded', before: { fingerprint_24h: 1, pipeline_1h: 1 } });
    expect(calls.filter((call) => call === 'BatchGetItemCommand')).toHaveLength(3);
    watched.destroy();
  });

  it('reports an unusable table instead of letting a workflow start unguarded', async () => {
    // Prepare
    const guard = new LoopGuard(client, 'no-such-table');

    // Act
    const recording = guard.recordAttempt(request('x'));

    // Assess
    await expect(recording).rejects.toThrow(LoopGuardUnavailableError);
  });
});

describe('fingerprint', () => {
  const identity = {
    pipeline: 'myPipeline',
    stage: 'Deploy',
    action: 'Deploy',
    failureClass: 'deploy_health',
    signature: 'Deployment d-8F3K2L1Q failed at 2026-11-23T10:00:00Z after 120 s (build 7a9c0e12f3)',
  };

  it('is the same for two occurrences that differ only in ids, times and numbers', () => {
    // Act
    const again = fingerprint({
      ...identity,
      signature: 'Deployment d-8F3K2L1Q failed at 2026-11-24T03:12:45Z after 98 s (build 0b1d2e3f4a)',
    });

    // Assess
    expect(again).toBe(fingerprint(identity));
    expect(fingerprint(identity)).toMatch(/^fp-[0-9a-f]{32}$/);
  });

  it('differs for another stage, class or error', () => {
    // Act
    const variants = [
      fingerprint({ ...identity, stage: 'Prod' }),
      fingerprint({ ...identity, failureClass: 'timeout' }),
      fingerprint({
        ...identity,
        signature: 'AccessDenied: not authorized to perform codedeploy:CreateDeployment',
      }),
    ];

    // Assess
    expect(new Set([fingerprint(identity), ...variants]).size).toBe(4);
  });
});
