import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

import { resetAwsClients } from '../../functions/commons/aws/clients';
import type { PolicyGate } from '../../functions/commons/policy-gate';
import { plan } from '../../functions/plan';
import { createTable, emulatorClientConfig } from '../helpers/aws';
import { planState } from '../helpers/bedrock';
import { codesOf, loadBuiltGate } from '../helpers/policy';

describe('a model-assigned class reaches the policy and never acts alone', () => {
  const savedEnv = { ...process.env };
  const dynamo = new DynamoDBClient(emulatorClientConfig());
  let gate: PolicyGate;

  beforeAll(async () => {
    gate = await loadBuiltGate();
    const auditTable = await createTable(dynamo, 'suture-audit', 'incident_id', 'seq');
    Object.assign(process.env, {
      AWS_REGION: 'us-west-2',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_ENDPOINT_URL_DYNAMODB: process.env.SUTURE_TEST_AWS_ENDPOINT,
      SUTURE_AUDIT_TABLE: auditTable,
    });
    delete process.env.SUTURE_BEDROCK_AGENT_ID;
    delete process.env.SUTURE_BEDROCK_AGENT_ALIAS_ID;
    resetAwsClients();
  });

  afterAll(() => {
    process.env = { ...savedEnv };
    resetAwsClients();
    dynamo.destroy();
  });

  const state = (source?: 'model' | 'signature') => {
    const base = planState({
      id: `inc-${randomUUID()}`,
      failureClass: 'transient_network',
      confidence: 0.95,
    });
    return source === undefined ? base : { ...base, classification: { ...base.classification, source } };
  };

  it('passes classification_source "model" to the policy, which asks for approval', async () => {
    // Act
    const result = await plan(state('model'));

    // Assess
    expect(result.proposal.action).toBe('retry_stage');
    expect(result.gate_input.incident).toMatchObject({
      class: 'transient_network',
      classification_source: 'model',
    });
    const decision = gate.decide(result.gate_input);
    expect(decision).toMatchObject({ allow: false, require_approval: true });
    expect(codesOf(decision)).toEqual(['classification_by_model']);
  });

  it.each([undefined, 'signature' as const])(
    'lets the same signature class (source %s) run on its own',
    async (source) => {
      // Act
      const result = await plan(state(source));

      // Assess
      expect(result.gate_input.incident).not.toHaveProperty('classification_source');
      expect(gate.decide(result.gate_input)).toMatchObject({ allow: true, require_approval: false });
    },
  );
});
