import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';

import { AuditTrail } from '../../functions/commons/audit';
import { resetAwsClients } from '../../functions/commons/aws/clients';
import { classify } from '../../functions/classify';
import { classifyWithModel } from '../../functions/classify/model';
import {
  BedrockRuntimeFake,
  converseReplies,
  type ConverseFakeReply,
} from '../../local/bedrock-runtime/server';
import { createTable, emulatorClientConfig } from '../helpers/aws';

const MODEL_ID = 'anthropic.claude-3-haiku-20240307-v1:0';
/** A log no signature reads, holding an AWS access key id the redactor must remove. */
const SECRET = 'AKIAIOSFODNN7EXAMPLE';
const OPAQUE_LOG = [
  'Deploying revision 42 with key ' + SECRET,
  'orchestrator: step "publish" returned 17',
  'the release did not complete',
].join('\n');

describe('classify with a model for what the signatures leave unknown (real Bedrock Runtime client, fake on 127.0.0.1)', () => {
  const config = emulatorClientConfig();
  const dynamo = new DynamoDBClient(config);
  const savedEnv = { ...process.env };
  const fake = new BedrockRuntimeFake();
  let auditTable: string;
  let counter = 0;

  beforeAll(async () => {
    await fake.start();
  });

  afterAll(async () => {
    await fake.stop();
    dynamo.destroy();
  });

  beforeEach(async () => {
    fake.reset();
    auditTable = await createTable(dynamo, 'suture-audit', 'incident_id', 'seq');
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: config.endpoint,
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: fake.endpoint,
      AWS_REGION: 'us-west-2',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      SUTURE_AUDIT_TABLE: auditTable,
      SUTURE_CLASSIFY_MODEL_ID: MODEL_ID,
      SUTURE_CLASSIFY_MODEL_TIMEOUT_MS: '1500',
    });
    resetAwsClients();
  });

  afterEach(() => {
    process.env = { ...savedEnv };
    resetAwsClients();
  });

  const state = (excerpt: string) => {
    counter += 1;
    return {
      incident: {
        id: `inc-model-${counter}`,
        source: 'codepipeline' as const,
        detail_type: 'CodePipeline Action Execution State Change',
        state: 'FAILED',
        pipeline: 'myPipeline',
        stage: 'Deploy',
        action: 'Deploy',
        execution_id: 'exec-1',
        account: '123456789012',
        region: 'us-west-2',
        event_id: 'e-1',
        event_time: '2026-11-23T10:00:00Z',
        detected_at: '2026-11-23T10:00:01Z',
        fingerprint: 'fp-1',
      },
      attempts: { fingerprint_24h: 0, pipeline_1h: 0 },
      evidence: {
        pipeline_execution: { status: 'Failed' },
        failed_actions: [{ stage: 'Deploy', action: 'Deploy', status: 'Failed' }],
        excerpt,
        alarms: [],
        rollback_target: null,
        recent_failed_validations: 0,
        stage_protected: false,
        pipeline_tags: {},
        object: { bucket: 'b', key: 'k', sha256: 'x', bytes: 1 },
      },
    };
  };

  const auditOf = async (incidentId: string) => {
    const records = await new AuditTrail(dynamo, auditTable).records(incidentId);
    expect(records.map((r) => r.step)).toEqual(['classify']);
    return records[0]?.data as {
      classification: { class: string; source: string };
      model?: { model_id: string; status: string; code?: string };
    };
  };

  it('takes a valid model answer as source "model", sending only the redacted excerpt', async () => {
    // Prepare
    fake.script(
      converseReplies.text(
        'Here is my answer: {"class": "config_error", "confidence": 0.7, "line": "orchestrator: step \\"publish\\" returned 17"}',
      ),
    );
    const input = state(OPAQUE_LOG);

    // Act
    const verdict = await classify(input);

    // Assess
    expect(verdict).toEqual({
      class: 'config_error',
      confidence: 0.7,
      signature: null,
      matched_line: 'orchestrator: step "publish" returned 17',
      source: 'model',
    });
    expect(fake.requests).toHaveLength(1);
    const sent = JSON.stringify(fake.requests[0]?.body);
    expect(fake.requests[0]?.modelId).toBe(MODEL_ID);
    expect(sent).toContain('orchestrator: step');
    expect(sent).not.toContain(SECRET);
    const audit = await auditOf(input.incident.id);
    expect(audit.classification).toMatchObject({ class: 'config_error', source: 'model' });
    expect(audit.model).toMatchObject({ model_id: MODEL_ID, status: 'classified' });
    expect(JSON.stringify(audit)).not.toContain(SECRET);
  });

  it.each<[string, ConverseFakeReply, string]>([
    ['the model is throttled', converseReplies.throttled(), 'model_unavailable'],
    ['access to the model is denied', converseReplies.accessDenied(), 'model_unavailable'],
    [
      'the answer is not JSON',
      converseReplies.text('I think it is a config problem.'),
      'model_invalid_answer',
    ],
    [
      'the answer lacks the line',
      converseReplies.json({ class: 'config_error', confidence: 0.9 }),
      'model_invalid_answer',
    ],
    [
      'the confidence is out of range',
      converseReplies.json({ class: 'config_error', confidence: 7, line: 'the release did not complete' }),
      'model_invalid_answer',
    ],
    [
      'the class is not in the taxonomy',
      converseReplies.json({ class: 'cosmic_rays', confidence: 0.9, line: 'the release did not complete' }),
      'model_out_of_taxonomy',
    ],
    [
      'the model answers unknown',
      converseReplies.json({ class: 'unknown', confidence: 0.2, line: 'the release did not complete' }),
      'model_declined',
    ],
    [
      'the line is not in the excerpt',
      converseReplies.json({ class: 'permissions', confidence: 0.95, line: 'AccessDenied: not authorized' }),
      'model_line_not_in_excerpt',
    ],
    ['the model is too slow', converseReplies.delayed(4000, converseReplies.json({})), 'model_timeout'],
  ])('answers unknown when %s', async (_name, reply, code) => {
    // Prepare
    fake.setDefaultReply(reply);
    const input = state(OPAQUE_LOG);

    // Act
    const verdict = await classify(input);

    // Assess
    expect(verdict).toMatchObject({ class: 'unknown', signature: null, matched_line: null });
    expect(verdict.source).toBeUndefined();
    const audit = await auditOf(input.incident.id);
    expect(audit.classification).toMatchObject({ class: 'unknown', source: 'signature' });
    expect(audit.model).toMatchObject({ model_id: MODEL_ID, status: 'failed', code });
    fake.setDefaultReply(converseReplies.internalError('BedrockRuntimeFake: no reply scripted'));
  });

  it('does not ask the model when a signature decides', async () => {
    // Act
    const verdict = await classify(
      state('An error occurred (AccessDenied) when calling the PutObject operation: Access Denied'),
    );

    // Assess
    expect(verdict).toMatchObject({ class: 'permissions' });
    expect(fake.requests).toHaveLength(0);
  });

  it('does not ask any model when none is configured', async () => {
    // Prepare
    delete process.env.SUTURE_CLASSIFY_MODEL_ID;
    const input = state(OPAQUE_LOG);

    // Act
    const verdict = await classify(input);

    // Assess
    expect(verdict).toMatchObject({ class: 'unknown' });
    expect(fake.requests).toHaveLength(0);
    expect((await auditOf(input.incident.id)).model).toBeUndefined();
  });

  it('names a bad timeout setting', async () => {
    process.env.SUTURE_CLASSIFY_MODEL_TIMEOUT_MS = '10';
    await expect(classify(state(OPAQUE_LOG))).rejects.toThrow(/SUTURE_CLASSIFY_MODEL_TIMEOUT_MS/);
  });

  it('sends the system prompt with the taxonomy and a bounded, deterministic request', async () => {
    // Prepare
    fake.script(
      converseReplies.json({ class: 'timeout', confidence: 0.5, line: 'the release did not complete' }),
    );
    const client = new BedrockRuntimeClient({
      endpoint: fake.endpoint,
      region: 'us-west-2',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: 1,
    });

    // Act
    const outcome = await classifyWithModel(OPAQUE_LOG, { modelId: MODEL_ID, client });
    client.destroy();

    // Assess
    expect(outcome).toMatchObject({
      status: 'classified',
      classification: { class: 'timeout', source: 'model' },
    });
    const body = fake.requests[0]?.body as {
      system: Array<{ text: string }>;
      inferenceConfig: { maxTokens: number; temperature: number };
    };
    expect(body.system[0]?.text).toContain('"rate_limited_or_quota"');
    expect(body.system[0]?.text).not.toContain('"unknown"');
    expect(body.inferenceConfig).toEqual({ maxTokens: 300, temperature: 0 });
  });
});
