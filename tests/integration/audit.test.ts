import { DeleteItemCommand, DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { AuditTrail, canonicalJson, verifyChain, type AuditRecord } from '../../functions/commons/audit';
import { createTable, emulatorClientConfig } from '../helpers/aws';
import { suture } from '../helpers/cli';

describe('AuditTrail on DynamoDB (moto on 127.0.0.1)', () => {
  const client = new DynamoDBClient(emulatorClientConfig());
  let tableName: string;
  let trail: AuditTrail;

  beforeEach(async () => {
    tableName = await createTable(client, 'suture-audit', 'incident_id', 'seq');
    trail = new AuditTrail(client, tableName);
  });

  afterAll(() => client.destroy());

  async function threeSteps(incident: string): Promise<void> {
    await trail.append(incident, 'triage', { pipeline: 'myPipeline', stage: 'Deploy' });
    await trail.append(incident, 'policy_decision', {
      allow: true,
      reasons: [{ code: 'auto_allowed', msg: 'retry_stage is allowed' }],
      bundle_revision: 'sha256:abc',
    });
    await trail.append(incident, 'execute', { action: 'retry_stage', result: 'RESUMED' });
  }

  it('chains the steps of an incident and verifies them', async () => {
    // Act
    await threeSteps('inc-1');
    const records = await trail.records('inc-1');

    // Assess
    expect(records.map((r) => [r.seq, r.step])).toEqual([
      [0, 'triage'],
      [1, 'policy_decision'],
      [2, 'execute'],
    ]);
    expect(records[1]!.prev_hash).toBe(records[0]!.hash);
    expect(verifyChain(records)).toMatchObject({ ok: true, records: 3, head: records[2]!.hash, breaks: [] });
  });

  it('detects a record edited in the store', async () => {
    // Prepare
    await threeSteps('inc-2');
    const stored = (await trail.records('inc-2'))[1]!;
    const forged: AuditRecord = {
      ...stored,
      data: { allow: true, reasons: [], bundle_revision: 'sha256:forged' },
    };
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { incident_id: { S: 'inc-2' }, seq: { N: '1' } },
        UpdateExpression: 'SET #r = :r',
        ExpressionAttributeNames: { '#r': 'record' },
        ExpressionAttributeValues: { ':r': { S: canonicalJson(forged) } },
      }),
    );

    // Act
    const verification = verifyChain(await trail.records('inc-2'));

    // Assess
    expect(verification.ok).toBe(false);
    expect(verification.breaks).toEqual([{ seq: 1, reason: 'content does not match its hash' }]);
  });

  it('detects a record removed from the middle of the chain', async () => {
    // Prepare
    await threeSteps('inc-3');
    await client.send(
      new DeleteItemCommand({ TableName: tableName, Key: { incident_id: { S: 'inc-3' }, seq: { N: '1' } } }),
    );

    // Act
    const verification = verifyChain(await trail.records('inc-3'));

    // Assess
    expect(verification.ok).toBe(false);
    expect(verification.breaks.map((b) => b.reason)).toEqual([
      'expected seq 1: a record is missing',
      'prev_hash does not match the record before',
    ]);
  });

  it('gives concurrent writers distinct, gapless places in the chain', async () => {
    // Act
    await Promise.all(Array.from({ length: 10 }, (_, i) => trail.append('inc-4', `step-${i}`, { i })));
    const records = await trail.records('inc-4');

    // Assess
    expect(records.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(new Set(records.map((r) => r.step)).size).toBe(10);
    expect(verifyChain(records).ok).toBe(true);
  });

  it('opens a new trail in one write when told it is new, and still chains when it was not', async () => {
    // Prepare: a client whose calls are listed
    const watched = new DynamoDBClient(emulatorClientConfig());
    const calls: string[] = [];
    watched.middlewareStack.add(
      (next, context) => async (args) => {
        calls.push(context.commandName ?? '?');
        return next(args);
      },
      { step: 'initialize', name: 'watch' },
    );
    const fresh = new AuditTrail(watched, tableName);

    // Act
    const opened = await fresh.append('inc-new', 'triage', { step: 1 }, new Date(), { expectNew: true });
    const openingCalls = [...calls];
    const wrongGuess = await fresh.append('inc-new', 'triage', { step: 2 }, new Date(), { expectNew: true });

    // Assess
    expect(opened.seq).toBe(0);
    expect(openingCalls).toEqual(['PutItemCommand']);
    expect(wrongGuess).toMatchObject({ seq: 1, prev_hash: opened.hash });
    expect(verifyChain(await trail.records('inc-new'))).toMatchObject({ ok: true, records: 2 });
    watched.destroy();
  });

  it('stores redacted data with a report, never the secret', async () => {
    // Prepare
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

    // Act
    const record = await trail.append('inc-5', 'collect_evidence', {
      log: `export AWS_SECRET_ACCESS_KEY=${secret}`,
      job: { artifactCredentials: { secretAccessKey: secret, accessKeyId: 'AKIAIOSFODNN7EXAMPLE' } },
    });
    const stored = JSON.stringify(await trail.records('inc-5'));

    // Assess
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(record.redaction.total).toBeGreaterThanOrEqual(2);
    expect(verifyChain(await trail.records('inc-5')).ok).toBe(true);
  });
});

describe('AuditTrail failures', () => {
  it('reports an unreachable table as TransientAwsError (the workflow retries) and a missing one as AuditUnavailableError', async () => {
    // Prepare: nothing listens on port 9 of 127.0.0.1; the emulator has no table of that name.
    const unreachable = new DynamoDBClient({
      ...emulatorClientConfig(),
      endpoint: 'http://127.0.0.1:9',
      maxAttempts: 1,
    });
    const emulator = new DynamoDBClient(emulatorClientConfig());

    try {
      // Act / Assess
      await expect(new AuditTrail(unreachable, 'audit').append('inc-x', 'triage', {})).rejects.toMatchObject({
        name: 'TransientAwsError',
      });
      await expect(
        new AuditTrail(emulator, 'no-such-table').append('inc-x', 'triage', {}),
      ).rejects.toMatchObject({
        name: 'AuditUnavailableError',
      });
    } finally {
      unreachable.destroy();
      emulator.destroy();
    }
  });
});

describe('suture audit verify', () => {
  const client = new DynamoDBClient(emulatorClientConfig());
  afterAll(() => client.destroy());

  it('reads the chain from the table and from an export, and exits 1 once it is tampered with', async () => {
    // Prepare
    const tableName = await createTable(client, 'suture-audit-cli', 'incident_id', 'seq');
    const trail = new AuditTrail(client, tableName);
    await trail.append('inc-cli', 'triage', { pipeline: 'myPipeline' });
    await trail.append('inc-cli', 'escalate', { reason: 'needs a human' });
    const records = await trail.records('inc-cli');
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };
    const fromTable = [
      'audit',
      'verify',
      '--table',
      tableName,
      '--incident',
      'inc-cli',
      '--region',
      'us-west-2',
      '--endpoint-url',
      process.env.SUTURE_TEST_AWS_ENDPOINT!,
    ];

    // Act
    const table = suture(fromTable, undefined, env);
    const intact = suture(
      ['audit', 'verify', '--file', '-'],
      records.map((r) => JSON.stringify(r)).join('\n'),
    );
    const tampered = suture(
      ['audit', 'verify', '--file', '-'],
      JSON.stringify([records[0], { ...records[1]!, step: 'execute' }]),
    );
    const unusable = suture(['audit', 'verify'], '');

    // Assess
    expect(table.code).toBe(0);
    expect(JSON.parse(table.stdout)).toMatchObject({ ok: true, records: 2 });
    expect(intact.code).toBe(0);
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.stdout).breaks).toEqual([
      { seq: 1, reason: 'content does not match its hash' },
    ]);
    expect(unusable.code).toBe(2);
    expect(unusable.stderr).toContain('audit verify needs --file FILE');
  });
});
