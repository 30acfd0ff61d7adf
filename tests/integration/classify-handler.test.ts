import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AuditTrail } from '../../functions/commons/audit';
import { resetAwsClients } from '../../functions/commons/aws/clients';
import { classify } from '../../functions/classify';
import { createTable, emulatorClientConfig } from '../helpers/aws';

describe('classify handler', () => {
  const config = emulatorClientConfig();
  const dynamo = new DynamoDBClient(config);
  const savedEnv = { ...process.env };
  let auditTable: string;

  beforeEach(async () => {
    auditTable = await createTable(dynamo, 'suture-audit', 'incident_id', 'seq');
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: config.endpoint,
      AWS_REGION: 'us-west-2',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      SUTURE_AUDIT_TABLE: auditTable,
    });
    resetAwsClients();
  });

  afterEach(() => {
    process.env = { ...savedEnv };
  });

  afterAll(() => dynamo.destroy());

  const state = (excerpt: string, source: 'codepipeline' | 'cloudwatch_alarm' = 'codepipeline') => ({
    incident: {
      id: `inc-classify-${excerpt.length}-${source}`,
      source,
      detail_type: 'CodePipeline Action Execution State Change',
      state: 'FAILED',
      pipeline: 'myPipeline',
      stage: 'Build',
      action: 'Build',
      execution_id: 'exec-1',
      account: '123456789012',
      region: 'us-west-2',
      event_id: 'e-1',
      event_time: '2026-11-23T10:00:00Z',
      detected_at: '2026-11-23T10:00:01Z',
      fingerprint: 'fp-1',
      ...(source === 'cloudwatch_alarm' ? { alarm_name: 'checkout-5xx' } : {}),
    },
    attempts: { fingerprint_24h: 0, pipeline_1h: 0 },
    evidence: {
      pipeline_execution: { status: 'Failed' },
      failed_actions: [{ stage: 'Build', action: 'Build', status: 'Failed', error_code: 'JobFailed' }],
      excerpt,
      alarms: [],
      rollback_target: null,
      recent_failed_validations: 0,
      stage_protected: false,
      pipeline_tags: {},
      object: { bucket: 'b', key: 'k', sha256: 'x', bytes: 1 },
    },
  });

  it('classifies the excerpt with the signatures and records the verdict', async () => {
    // Prepare
    const input = state(
      'npm ERR! code ECONNRESET\nnpm ERR! network request to https://registry.npmjs.org/left-pad failed, reason: socket hang up',
    );

    // Act
    const verdict = await classify(input);

    // Assess
    expect(verdict.class).toBe('transient_network');
    expect(verdict.confidence).toBeGreaterThanOrEqual(0.8);
    const audit = await new AuditTrail(dynamo, auditTable).records(input.incident.id);
    expect(
      audit.map((r) => [r.step, (r.data as { classification: { class: string } }).classification.class]),
    ).toEqual([['classify', 'transient_network']]);
  });

  it('says unknown rather than guessing when nothing matches', async () => {
    // Act
    const verdict = await classify(state('the build did a thing and then it stopped'));

    // Assess
    expect(verdict).toMatchObject({ class: 'unknown', signature: null });
  });

  it('treats a release-health alarm as deploy_health', async () => {
    // Act
    const verdict = await classify(state('', 'cloudwatch_alarm'));

    // Assess
    expect(verdict).toMatchObject({ class: 'deploy_health', signature: 'cloudwatch-alarm' });
  });

  it('names the missing part of a malformed state', async () => {
    // Prepare
    const { evidence: _omitted, ...withoutEvidence } = state('x');

    // Act / Assess
    await expect(classify(withoutEvidence)).rejects.toThrow(/evidence/);
  });
});
