import { generateKeyPairSync } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AuditTrail } from '../../functions/commons/audit';
import { resetAwsClients } from '../../functions/commons/aws/clients';
import type { Evidence } from '../../functions/commons/workflow/schema';
import { handler, resetExecutorForTests } from '../../functions/execute';
import { performAction } from '../../functions/execute/actions';
import { parseCredentials } from '../../functions/execute/github';
import { GitHubFake } from '../../local/github';
import { createTable, emulatorClientConfig } from '../helpers/aws';
import { captureOutput, fakeLambdaContext } from '../helpers/lambda-context';
import { bundleFile, loadBuiltGate, patched, transientRetryInput } from '../helpers/policy';

const REPO = 'acme/payments';
const APP_ID = 31337;
const INSTALLATION_ID = 4711;

describe('execute: patches and reverts become pull requests (GitHub fake, moto)', () => {
  const config = emulatorClientConfig();
  const dynamo = new DynamoDBClient(config);
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const secrets = new SecretsManagerClient(config);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const savedEnv = { ...process.env };
  let fake: GitHubFake;
  let good: string;
  let broken: string;
  let secretArn: string;
  let auditTable: string;
  let bucket: string;
  let run = 0;

  beforeAll(async () => {
    fake = await GitHubFake.start({
      apps: [
        {
          appId: APP_ID,
          installationId: INSTALLATION_ID,
          publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          repositories: [REPO],
        },
      ],
    });
    await fake.addRepository(REPO, {
      'src/retry.ts': 'export const attempts = 3;\nexport const delayMs = 100;\n',
      'README.md': '# payments\n',
    });
    good = await fake.commit(REPO, { 'src/limits.ts': 'export const max = 10;\n' }, 'Add limits');
    broken = await fake.commit(
      REPO,
      { 'src/retry.ts': 'export const attempts = 0;\nexport const delayMs = 100;\n' },
      'Tune retries',
    );
    const created = await secrets.send(
      new CreateSecretCommand({
        Name: `suture-github-${Date.now()}`,
        SecretString: JSON.stringify({
          app_id: APP_ID,
          installation_id: INSTALLATION_ID,
          private_key: privatePem,
        }),
      }),
    );
    secretArn = created.ARN!;
  });

  beforeEach(async () => {
    run += 1;
    const idempotencyTable = await createTable(dynamo, 'suture-idempotency', 'id');
    auditTable = await createTable(dynamo, 'suture-audit', 'incident_id', 'seq');
    bucket = `suture-evidence-gh-${idempotencyTable.slice(-8).toLowerCase()}`;
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: 'us-west-2' },
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
      SUTURE_EVIDENCE_BUCKET: bucket,
      SUTURE_POLICY_BUNDLE: bundleFile,
      SUTURE_POLICY_ALLOW_UNSIGNED: 'true',
      SUTURE_GITHUB_SECRET_ARN: secretArn,
      SUTURE_GITHUB_API_URL: fake.endpoint,
    });
    fake.setDown(false);
    resetAwsClients();
    resetExecutorForTests();
  });

  afterEach(() => {
    process.env = { ...savedEnv };
  });

  afterAll(async () => {
    dynamo.destroy();
    s3.destroy();
    secrets.destroy();
    await fake.stop();
  });

  const evidenceFor = (source: Partial<NonNullable<Evidence['source']>> = {}): Evidence => ({
    pipeline_execution: { status: 'Failed' },
    failed_actions: [
      { stage: 'Build', action: 'Build', status: 'Failed', error_code: 'JobFailed', summary: 'tests failed' },
    ],
    excerpt: '',
    alarms: [],
    rollback_target: null,
    recent_failed_validations: 0,
    stage_protected: false,
    pipeline_tags: {},
    object: { bucket: 'evidence', key: 'evidence/inc/abc.json', sha256: 'abc', bytes: 10 },
    source: {
      action: 'Source',
      provider: 'github',
      repository: REPO,
      branch: 'main',
      revision: broken,
      last_success: { execution_id: 'exec-good', revision: good },
      ...source,
    },
  });

  /** A patch proposal the built policy allows (approved), with `$.evidence` in the state. */
  async function patchState(patch: string, evidence: Evidence = evidenceFor()) {
    const base = transientRetryInput();
    const proposal = {
      action: 'open_patch_proposal',
      parameters: { title: 'Restore retry attempts', summary: 'attempts = 0 disables retries', patch },
      source: 'playbook' as const,
      rationale: 'the last commit set attempts to 0',
      confidence: 0.9,
    };
    const gateInput = patched(base, {
      incident: { id: `inc-gh-${run}-${Date.now()}`, class: 'test_failure', confidence: 0.9 },
    });
    (gateInput as { proposal: unknown }).proposal = proposal;
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
      plan: { proposal, gate_input: gateInput },
      decision,
      approval: {
        approved: true,
        approver: 'arn:aws:iam::123456789012:user/oncall',
        action: 'open_patch_proposal',
        at: '2026-11-23T10:05:00Z',
      },
      evidence,
    };
  }

  const FIX = [
    '--- a/src/retry.ts',
    '+++ b/src/retry.ts',
    '@@ -1,2 +1,2 @@',
    '-export const attempts = 0;',
    '+export const attempts = 3;',
    ' export const delayMs = 100;',
    '',
  ].join('\n');

  it('opens a labelled pull request from suture/<incident> whose commit holds the patched file, once', async () => {
    // Prepare
    const state = await patchState(FIX);

    // Act
    const { result, output } = await captureOutput(() => handler(state, fakeLambdaContext('suture-execute')));
    resetExecutorForTests();
    const again = await handler(state, fakeLambdaContext('suture-execute'));

    // Assess
    expect(result).toMatchObject({ action: 'open_patch_proposal', outcome: 'executed' });
    const pull = result.detail.pull_request as {
      url: string;
      branch: string;
      number: number;
      head_sha: string;
    };
    expect(pull.branch).toBe(`suture/${state.incident.id}`);
    const pulls = fake.pulls(REPO).filter((p) => p.head === pull.branch);
    expect(pulls).toHaveLength(1);
    expect(pulls[0]!.labels).toEqual(['suture', 'suture:patch']);
    expect(pulls[0]!.base).toBe('main');
    expect(pulls[0]!.body).toContain(state.incident.id);
    expect(pulls[0]!.body).toContain(state.decision.bundle_revision);
    expect(pulls[0]!.body).toContain('tests failed');
    expect(pull.url).toBe(pulls[0]!.htmlUrl);
    expect(await fake.fileAt(REPO, pull.branch, 'src/retry.ts')).toBe(
      'export const attempts = 3;\nexport const delayMs = 100;\n',
    );
    const commit = await fake.repository(REPO).readCommit(pull.head_sha);
    expect(commit.parents).toEqual([broken]);
    expect(again.detail.pull_request).toMatchObject({ number: pull.number, url: pull.url });
    // The private key never leaves the function.
    const keyLine = privatePem.split('\n')[1]!;
    expect(output).not.toContain(keyLine);
    const audit = await new AuditTrail(dynamo, auditTable).records(state.incident.id);
    expect(JSON.stringify(audit)).not.toContain(keyLine);
    expect(JSON.stringify(result)).not.toContain(keyLine);
  });

  it('finds the pull request an earlier attempt opened when the idempotency record is gone', async () => {
    // Prepare
    const state = await patchState(FIX);
    const first = await handler(state, fakeLambdaContext('suture-execute'));
    process.env.SUTURE_IDEMPOTENCY_TABLE = await createTable(dynamo, 'suture-idempotency', 'id');
    resetExecutorForTests();

    // Act
    const second = await handler(state, fakeLambdaContext('suture-execute'));

    // Assess
    expect(second.detail.pull_request).toMatchObject({
      number: (first.detail.pull_request as { number: number }).number,
      reused: true,
    });
    expect(fake.pulls(REPO).filter((p) => p.head === `suture/${state.incident.id}`)).toHaveLength(1);
  });

  it('rejects a patch that does not apply cleanly and pushes nothing', async () => {
    // Prepare
    const stale = FIX.replace('-export const attempts = 0;', '-export const attempts = 5;');
    const state = await patchState(stale);

    // Act / Assess
    await expect(handler(state, fakeLambdaContext('suture-execute'))).rejects.toMatchObject({
      name: 'ActionFailedError',
      message: expect.stringContaining('does not apply cleanly to src/retry.ts'),
    });
    expect(await fake.repository(REPO).readRef(`refs/heads/suture/${state.incident.id}`)).toBeUndefined();
  });

  it('falls back to the S3 patch, saying why, when GitHub is down, the source is GitLab, or no secret is set', async () => {
    // Prepare
    fake.setDown(true);
    const down = await patchState(FIX);
    const gitlab = await patchState(FIX, evidenceFor({ provider: 'gitlab', repository: 'acme/app' }));

    // Act
    const whileDown = await handler(down, fakeLambdaContext('suture-execute'));
    fake.setDown(false);
    const onGitLab = await handler(gitlab, fakeLambdaContext('suture-execute'));
    delete process.env.SUTURE_GITHUB_SECRET_ARN;
    resetExecutorForTests();
    const unconfigured = await handler(await patchState(FIX), fakeLambdaContext('suture-execute'));

    // Assess
    expect(whileDown.detail.pull_request_fallback).toMatch(/GitHub is unavailable .*HTTP 503/);
    expect(onGitLab.detail.pull_request_fallback).toMatch(/source is gitlab/);
    expect(unconfigured.detail.pull_request_fallback).toMatch(/no GitHub credentials/);
    const stored = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: String(whileDown.detail.key) }));
    expect(await stored.Body!.transformToString()).toContain('+export const attempts = 3;');
    expect(fake.pulls(REPO).some((p) => p.head === `suture/${down.incident.id}`)).toBe(false);
  });

  it('reverts the failed commit in a pull request only when its parent is the last successful commit', async () => {
    // Prepare
    const github = { apiUrl: fake.endpoint, secretArn };
    const request = {
      incident_id: `inc-revert-${Date.now()}`,
      action: 'revert_commit' as const,
      parameters: { commit: broken },
    };

    // Act
    const outcome = await performAction(request, { github }, { evidence: evidenceFor() });
    const wrongParent = performAction(
      { ...request, incident_id: `${request.incident_id}-b` },
      { github },
      { evidence: evidenceFor({ last_success: { execution_id: 'older', revision: 'f'.repeat(40) } }) },
    );

    // Assess
    const pull = outcome.detail.pull_request as { branch: string; head_sha: string };
    const git = fake.repository(REPO);
    const revert = await git.readCommit(pull.head_sha);
    expect(revert.parents).toEqual([broken]);
    expect(revert.tree).toBe((await git.readCommit(good)).tree);
    expect(revert.message).toContain(`This reverts commit ${broken}.`);
    expect(fake.pulls(REPO).find((p) => p.head === pull.branch)?.labels).toEqual(['suture', 'suture:revert']);
    await expect(wrongParent).rejects.toMatchObject({
      name: 'ActionFailedError',
      message: expect.stringContaining('not the last successful commit'),
    });
  });

  it('opens the revert pull request through the handler once a human approved it', async () => {
    // Prepare
    const base = transientRetryInput();
    const proposal = {
      action: 'revert_commit',
      parameters: { commit: broken },
      source: 'playbook' as const,
      rationale: 'the failing commit is the only change since the last success',
      confidence: 0.9,
    };
    const gateInput = patched(base, {
      incident: { id: `inc-gh-revert-${Date.now()}`, class: 'test_failure', confidence: 0.9 },
      context: {
        source: {
          provider: 'github',
          repository: REPO,
          branch: 'main',
          revision: broken,
          last_success_revision: good,
        },
      },
    });
    (gateInput as { proposal: unknown }).proposal = proposal;
    const gate = await loadBuiltGate();
    const unapproved = gate.decide(gateInput);
    const approval = {
      approved: true,
      approver: 'arn:aws:iam::123456789012:user/oncall',
      action: 'revert_commit',
      at: '2026-11-23T10:05:00Z',
    };
    const state = {
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
      plan: { proposal, gate_input: gateInput },
      decision: unapproved,
      approval,
      evidence: evidenceFor(),
    };

    // Act
    const result = await handler(state, fakeLambdaContext('suture-execute'));

    // Assess
    expect(unapproved).toMatchObject({ allow: false, require_approval: true });
    expect(unapproved.reasons.map((r) => r.code)).toContain('action_requires_approval');
    const pull = result.detail.pull_request as { branch: string; head_sha: string };
    expect(pull.branch).toBe(`suture/${state.incident.id}`);
    const opened = fake.pulls(REPO).find((p) => p.head === pull.branch)!;
    expect(opened.body).toContain('approved by arn:aws:iam::123456789012:user/oncall');
    expect(opened.body).toContain('action_requires_approval');
    expect((await fake.repository(REPO).readCommit(pull.head_sha)).tree).toBe(
      (await fake.repository(REPO).readCommit(good)).tree,
    );
  });

  it('names what the secret lacks without echoing it', () => {
    const leaked = 'not-a-key-0123456789abcdef';
    expect(() => parseCredentials(JSON.stringify({ app_id: 1, private_key: leaked }))).toThrow(
      /installation_id, private_key \(PEM\)/,
    );
    try {
      parseCredentials(JSON.stringify({ app_id: 1, private_key: leaked }));
    } catch (error) {
      expect((error as Error).message).not.toContain(leaked);
    }
    expect(parseCredentials(JSON.stringify({ token: 'github_pat_x' }))).toEqual({
      kind: 'token',
      token: 'github_pat_x',
    });
  });
});
