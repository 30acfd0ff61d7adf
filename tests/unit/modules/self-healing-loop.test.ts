import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaFunctionUrl } from '@cdktf/provider-aws/lib/lambda-function-url';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { SfnStateMachine } from '@cdktf/provider-aws/lib/sfn-state-machine';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { Testing } from 'cdktf';
import { LOOP_FUNCTION_NAMES } from '../../../modules/functions/catalog';
import { StateName, WORKFLOW_FUNCTIONS } from '../../../modules/workflow/definition';
import { validateDefinition } from '../../../modules/workflow/validate';
import {
  actionsOf,
  baseProps,
  grantsOf,
  maskHashes,
  resourceNamed,
  resourcesOf,
  synthLoop,
  type Synthesized,
} from './helpers';

Testing.setupJest();

describe('SelfHealingLoop', () => {
  let synth: Synthesized;

  beforeAll(() => {
    synth = synthLoop();
  });

  describe('functions', () => {
    it('deploys all nine, traced, JSON-logged to their own log group, env encrypted', () => {
      expect(Object.keys(resourcesOf(synth, 'aws_lambda_function'))).toHaveLength(LOOP_FUNCTION_NAMES.length);
      for (const name of LOOP_FUNCTION_NAMES) {
        expect(synth.raw).toHaveResourceWithProperties(LambdaFunction, {
          function_name: `suture-${name}`,
          runtime: 'nodejs24.x',
          handler: 'index.handler',
          tracing_config: { mode: 'Active' },
          logging_config: expect.objectContaining({ log_format: 'JSON' }),
          kms_key_arn: expect.stringContaining('aws_kms_key'),
        });
        expect(synth.raw).toHaveResourceWithProperties(CloudwatchLogGroup, {
          name: `/aws/lambda/suture-${name}`,
          retention_in_days: 30,
        });
      }
    });

    it('reads each package relative to the module and pins its hash', () => {
      for (const fn of Object.values(resourcesOf(synth, 'aws_lambda_function'))) {
        expect(fn.filename).toMatch(/^\$\{path\.module\}\/assets\/[^/]+\/[A-F0-9]{32}\/[a-z-]+\.zip$/);
        expect(fn.source_code_hash).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      }
    });

    it('gives one role to each function', () => {
      const roles = Object.values(resourcesOf(synth, 'aws_lambda_function')).map((fn) => fn.role);
      expect(new Set(roles).size).toBe(LOOP_FUNCTION_NAMES.length);
    });

    it('sets the environment of docs/workflow.md', () => {
      const env = (name: string) =>
        (
          resourceNamed(synth, 'aws_lambda_function', `functions_${name}_function`).environment as {
            variables: Record<string, string>;
          }
        ).variables;
      for (const name of LOOP_FUNCTION_NAMES) expect(env(name)).toHaveProperty('SUTURE_AUDIT_TABLE');
      expect(Object.keys(env('triage'))).toEqual(
        expect.arrayContaining([
          'SUTURE_STATE_MACHINE_ARN',
          'SUTURE_GUARD_TABLE',
          'SUTURE_SCOPE',
          'SUTURE_ALARM_TARGETS',
        ]),
      );
      expect(Object.keys(env('collect-evidence'))).toEqual(
        expect.arrayContaining([
          'SUTURE_EVIDENCE_BUCKET',
          'SUTURE_GUARD_TABLE',
          'SUTURE_ALARM_NAMES',
          'SUTURE_PROTECTED_STAGES',
        ]),
      );
      expect(Object.keys(env('execute'))).toEqual(
        expect.arrayContaining([
          'SUTURE_IDEMPOTENCY_TABLE',
          'SUTURE_EVIDENCE_BUCKET',
          'SUTURE_POLICY_BUNDLE_SHA256',
        ]),
      );
      expect(env('policy-gate')).toMatchObject({
        SUTURE_POLICY_ALLOW_UNSIGNED: 'true',
        SUTURE_POLICY_BUNDLE_SHA256: synth.loop.policyBundle.sha256,
      });
      expect(Object.keys(env('validate'))).toEqual(
        expect.arrayContaining(['SUTURE_GUARD_TABLE', 'SUTURE_ALARM_NAMES']),
      );
      expect(env('validate')).not.toHaveProperty('SUTURE_SMOKE_PROJECT');
      expect(env('notify')).toMatchObject({ SUTURE_APPROVAL_TTL_SECONDS: '86400' });
      expect(Object.keys(env('notify'))).toEqual(
        expect.arrayContaining(['SUTURE_TOPIC_ARN', 'SUTURE_APPROVAL_TABLE', 'SUTURE_APPROVAL_URL']),
      );
      expect(Object.keys(env('approval'))).toContain('SUTURE_APPROVAL_TABLE');
      expect(env('execute')).toMatchObject({
        SUTURE_GITHUB_SECRET_ARN: expect.stringMatching(/^\$\{aws_secretsmanager_secret\.\S+\.arn\}$/),
        SUTURE_GITHUB_API_URL: 'https://api.github.com',
      });
      expect(Object.keys(env('plan'))).not.toContain('SUTURE_BEDROCK_AGENT_ID');
      expect(env('triage').SUTURE_SCOPE).toMatch(
        /^\$\{jsonencode\(\[for p in local\.\S+ : \{ account = p\.account, region = p\.region, pipeline = p\.name \}\]\)\}$/,
      );
    });
  });

  describe('events', () => {
    it('wakes triage on CodePipeline FAILED of the pipelines in scope only', () => {
      const rule = resourceNamed(synth, 'aws_cloudwatch_event_rule', 'pipeline-failures');
      const pattern = String(rule.event_pattern);
      expect(pattern).toContain('"source" = ["aws.codepipeline"]');
      expect(pattern).toContain('"detail" = {"state" = ["FAILED"]}');
      for (const type of ['Action', 'Stage', 'Pipeline'])
        expect(pattern).toContain(`CodePipeline ${type} Execution State Change`);
      expect(pattern).toMatch(/"resources" = local\.suture_scope_pipeline_arns_\w+/);
      const pipelines = Object.entries(synth.json.locals).find(([name]) =>
        /^suture_scope_pipelines_/.test(name),
      )?.[1];
      expect(pipelines).toEqual([
        expect.objectContaining({
          name: 'myPipeline',
          account: expect.stringContaining('aws_caller_identity'),
          protected_stages: [],
        }),
        expect.objectContaining({
          name: 'release-pipeline',
          account: '123456789012',
          region: 'us-west-2',
          protected_stages: ['Prod'],
        }),
      ]);
    });

    it('wakes triage on the release-health alarms going to ALARM', () => {
      expect(synth.raw).toHaveResourceWithProperties(CloudwatchEventRule, {
        name: 'suture-release-health-alarms',
        event_pattern: expect.stringContaining('"detail" = {"state" = {"value" = ["ALARM"]}}'),
      });
    });

    it('retries delivery and dead-letters what triage cannot take, encrypted', () => {
      expect(synth.raw).toHaveResourceWithProperties(CloudwatchEventTarget, {
        retry_policy: { maximum_event_age_in_seconds: 3600, maximum_retry_attempts: 8 },
        dead_letter_config: { arn: expect.stringContaining('aws_sqs_queue') },
      });
      expect(synth.raw).toHaveResourceWithProperties(SqsQueue, {
        name: 'suture-events-dlq',
        kms_master_key_id: expect.stringContaining('aws_kms_key'),
      });
      expect(
        resourceNamed(synth, 'aws_lambda_function', 'functions_triage_function').dead_letter_config,
      ).toEqual({
        target_arn: expect.stringContaining('aws_sqs_queue'),
      });
    });
  });

  describe('stores', () => {
    it('has the four tables with their keys, KMS, PITR and TTL', () => {
      const expected = [
        { name: 'suture-guard', hash_key: 'pk', ttl: { attribute_name: 'expires_at', enabled: true } },
        { name: 'suture-audit', hash_key: 'incident_id', range_key: 'seq' },
        { name: 'suture-idempotency', hash_key: 'id', ttl: { attribute_name: 'expiration', enabled: true } },
        {
          name: 'suture-approvals',
          hash_key: 'approval_id',
          ttl: { attribute_name: 'expires_at', enabled: true },
        },
      ];
      for (const table of expected) {
        expect(synth.raw).toHaveResourceWithProperties(DynamodbTable, {
          ...table,
          billing_mode: 'PAY_PER_REQUEST',
          point_in_time_recovery: { enabled: true },
          server_side_encryption: { enabled: true, kms_key_arn: expect.stringContaining('aws_kms_key') },
        });
      }
      expect(synth.raw).toHaveResourceWithProperties(DynamodbTable, {
        name: 'suture-audit',
        attribute: [
          { name: 'incident_id', type: 'S' },
          { name: 'seq', type: 'N' },
        ],
      });
    });

    it('keeps evidence in a private, KMS-encrypted, TLS-only bucket that expires', () => {
      expect(synth.raw).toHaveResourceWithProperties(S3BucketPublicAccessBlock, {
        block_public_acls: true,
        block_public_policy: true,
        ignore_public_acls: true,
        restrict_public_buckets: true,
      });
      expect(synth.raw).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfigurationA, {
        rule: [
          {
            apply_server_side_encryption_by_default: {
              sse_algorithm: 'aws:kms',
              kms_master_key_id: expect.any(String),
            },
            bucket_key_enabled: true,
          },
        ],
      });
      const tls = Object.entries(synth.json.data.aws_iam_policy_document ?? {}).find(([name]) =>
        name.includes('tls-only'),
      )?.[1];
      expect(tls).toMatchObject({
        statement: [
          {
            effect: 'Deny',
            condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
          },
          expect.objectContaining({ sid: 'DenyDigestDeletion' }),
        ],
      });
      expect(resourceNamed(synth, 'aws_s3_bucket_lifecycle_configuration', 'lifecycle').rule).toEqual([
        expect.objectContaining({ filter: [{ prefix: 'evidence/' }], expiration: [{ days: 90 }] }),
        expect.objectContaining({ filter: [{ prefix: 'patches/' }], expiration: [{ days: 90 }] }),
        expect.objectContaining({ filter: [{ prefix: 'digests/' }], expiration: [{ days: 365 }] }),
        expect.objectContaining({
          filter: [{ prefix: '' }],
          abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }],
        }),
      ]);
      expect(resourceNamed(synth, 'aws_s3_bucket_versioning', 'versioning').versioning_configuration).toEqual(
        { status: 'Enabled' },
      );
    });

    it('encrypts the topic and creates a rotated key', () => {
      expect(synth.raw).toHaveResourceWithProperties(SnsTopic, {
        kms_master_key_id: expect.stringContaining('aws_kms_key'),
      });
      expect(synth.raw).toHaveResourceWithProperties(KmsKey, {
        enable_key_rotation: true,
        deletion_window_in_days: 30,
      });
      const keyPolicy = Object.entries(synth.json.data.aws_iam_policy_document ?? {}).find(([name]) =>
        name.includes('encryption_policy'),
      )?.[1] as {
        statement: { actions: string[] }[];
      };
      expect(
        keyPolicy.statement.flatMap((statement) => statement.actions).some((action) => action.includes('*')),
      ).toBe(false);
    });
  });

  describe('workflow', () => {
    it('is a Standard state machine, logged without execution data and traced', () => {
      expect(synth.raw).toHaveResourceWithProperties(SfnStateMachine, {
        name: 'suture-loop',
        type: 'STANDARD',
        logging_configuration: {
          level: 'ALL',
          include_execution_data: false,
          log_destination: expect.stringMatching(/aws_cloudwatch_log_group\..+\.arn\}:\*$/),
        },
        tracing_configuration: { enabled: true },
      });
    });

    it('invokes exactly the functions of the module, and its definition passes asl-validator', () => {
      const machine = resourceNamed(synth, 'aws_sfn_state_machine', 'state-machine');
      const definition = JSON.parse(String(machine.definition)) as {
        States: Record<string, { Resource?: string; Parameters?: { FunctionName?: string } }>;
      };
      const invoked = new Set(
        Object.values(definition.States)
          .map((state) => state.Parameters?.FunctionName ?? state.Resource)
          .filter((arn): arn is string => Boolean(arn)),
      );
      const deployed = Object.keys(resourcesOf(synth, 'aws_lambda_function'));
      for (const arn of invoked) {
        const match = /^\$\{aws_lambda_function\.(.+)\.arn\}$/.exec(arn);
        expect(match).not.toBeNull();
        expect(deployed).toContain(match![1]);
      }
      expect(invoked.size).toBe(WORKFLOW_FUNCTIONS.length);
      const placeholders = JSON.parse(
        String(machine.definition).replace(
          /\$\{aws_lambda_function\.([^.]+)\.arn\}/g,
          'arn:aws:lambda:us-west-2:123456789012:function:$1',
        ),
      );
      expect(validateDefinition(placeholders)).toEqual([]);
      expect(definition.States[StateName.requestApproval]).toMatchObject({ TimeoutSeconds: 86400 });
    });

    it('lets its role invoke only those functions', () => {
      const grants = grantsOf(synth, 'workflow');
      expect(grants['invoke-functions']).toEqual([
        expect.objectContaining({ sid: 'InvokeWorkflowFunctions', actions: ['lambda:InvokeFunction'] }),
      ]);
      const resources = grants['invoke-functions']![0]!.resources as string[];
      expect(resources).toHaveLength(WORKFLOW_FUNCTIONS.length * 2);
      expect(
        resources.some((arn) => arn.includes('functions_triage') || arn.includes('functions_approval')),
      ).toBe(false);
    });
  });

  describe('IAM', () => {
    it('never grants a wildcard action, an IAM action or a Secrets Manager write', () => {
      for (const document of Object.values(synth.json.data.aws_iam_policy_document ?? {})) {
        for (const statement of (document as { statement: { effect?: string; actions: string[] }[] })
          .statement) {
          if (statement.effect === 'Deny') continue;
          for (const action of statement.actions) {
            expect(action).not.toContain('*');
            expect(action).not.toMatch(/^iam:/);
            if (action.startsWith('secretsmanager:')) expect(action).toBe('secretsmanager:GetSecretValue');
          }
        }
      }
    });

    it('lets only execute read the GitHub secret, and only that secret', () => {
      const secretArn = (
        resourceNamed(synth, 'aws_lambda_function', 'functions_execute_function').environment as {
          variables: Record<string, string>;
        }
      ).variables.SUTURE_GITHUB_SECRET_ARN;
      expect(secretArn).toMatch(/^\$\{aws_secretsmanager_secret\.\S+\.arn\}$/);
      const readers = Object.entries(synth.json.data.aws_iam_policy_document ?? {}).filter(([, document]) =>
        (document as { statement: { actions: string[] }[] }).statement.some((statement) =>
          statement.actions.some((action) => action.startsWith('secretsmanager:')),
        ),
      );
      expect(readers).toHaveLength(1);
      expect(grantsOf(synth, 'functions_execute')['github-credentials']).toEqual([
        expect.objectContaining({ actions: ['secretsmanager:GetSecretValue'], resources: [secretArn] }),
      ]);
    });

    it('lets only execute mutate pipelines, and only those in scope', () => {
      const mutating = [
        'codepipeline:RetryStageExecution',
        'codepipeline:RollbackStage',
        'codepipeline:StartPipelineExecution',
        'codepipeline:StopPipelineExecution',
      ];
      const repair = grantsOf(synth, 'functions_execute')['repair-pipelines']!;
      expect(repair[0]).toMatchObject({
        sid: 'RepairPipelinesInScope',
        actions: expect.arrayContaining(mutating),
      });
      expect(repair[0]!.resources).toMatch(
        /^\$\{concat\(local\.suture_scope_pipeline_arns_\w+, local\.suture_scope_pipeline_stage_arns_\w+\)\}$/,
      );
      expect(repair[1]).toMatchObject({
        sid: 'RevertParametersInScope',
        actions: ['ssm:GetParameterHistory', 'ssm:PutParameter'],
      });
      for (const fn of LOOP_FUNCTION_NAMES.filter((name) => name !== 'execute')) {
        expect(
          actionsOf(synth, `functions_${fn}`).filter(
            (action) => mutating.includes(action) || action === 'ssm:PutParameter',
          ),
        ).toEqual([]);
      }
    });

    it('lets only triage start the workflow and only approval resume it', () => {
      for (const fn of LOOP_FUNCTION_NAMES) {
        const actions = actionsOf(synth, `functions_${fn}`);
        expect(actions.includes('states:StartExecution')).toBe(fn === 'triage');
        expect(actions.includes('states:SendTaskSuccess')).toBe(fn === 'approval');
        expect(actions.includes('states:SendTaskFailure')).toBe(fn === 'approval');
      }
      expect(grantsOf(synth, 'functions_triage')['start-workflow']![0]).toMatchObject({
        actions: ['states:StartExecution'],
        resources: [expect.stringMatching(/^\$\{aws_sfn_state_machine\..+\.arn\}$/)],
      });
      expect(grantsOf(synth, 'functions_approval')['resume-workflow']![0]!.resources).toEqual([
        expect.stringMatching(/^\$\{aws_sfn_state_machine\..+\.arn\}$/),
      ]);
    });

    it('uses one policy per concern, with stable sids', () => {
      expect(Object.keys(grantsOf(synth, 'functions_notify')).sort()).toEqual([
        'approvals-table',
        'audit-digest-signing',
        'audit-digests',
        'audit-table',
        'kms',
        'logs',
        'notifications',
        'tracing',
      ]);
      expect(grantsOf(synth, 'functions_notify').notifications).toEqual([
        expect.objectContaining({ sid: 'PublishNotifications', actions: ['sns:Publish'] }),
      ]);
    });
  });

  describe('audit digests', () => {
    it('signs with an asymmetric SIGN_VERIFY key, which only the functions that end incidents may use, and only to sign', () => {
      expect(synth.raw).toHaveResourceWithProperties(KmsKey, {
        key_usage: 'SIGN_VERIFY',
        customer_master_key_spec: 'RSA_2048',
      });
      const signers = LOOP_FUNCTION_NAMES.filter((name) =>
        Object.keys(grantsOf(synth, `functions_${name}`)).includes('audit-digest-signing'),
      );
      // notify ends workflows (Escalate, NotifyResolved); triage ends loop_detected incidents.
      expect(signers.sort()).toEqual(['notify', 'triage']);
      for (const signer of signers) {
        expect(grantsOf(synth, `functions_${signer}`)['audit-digest-signing']).toEqual([
          {
            sid: 'SignAuditDigests',
            effect: 'Allow',
            actions: ['kms:Sign'],
            resources: [expect.stringMatching(/^\$\{aws_kms_key\.suture_audit-digest_key_.+\.arn\}$/)],
          },
        ]);
      }
    });

    it('lets notify write digests under digests/ only, with their Object Lock retention', () => {
      expect(grantsOf(synth, 'functions_notify')['audit-digests']).toEqual([
        {
          sid: 'WriteAuditDigests',
          effect: 'Allow',
          actions: ['s3:PutObject', 's3:PutObjectRetention'],
          resources: [expect.stringMatching(/^\$\{aws_s3_bucket\..+\.arn\}\/digests\/\*$/)],
        },
      ]);
      const env = (
        resourceNamed(synth, 'aws_lambda_function', 'functions_notify_function').environment as {
          variables: Record<string, string>;
        }
      ).variables;
      expect(env).toMatchObject({
        SUTURE_DIGEST_KEY_ARN: expect.stringContaining('aws_kms_key'),
        SUTURE_EVIDENCE_BUCKET: expect.stringContaining('aws_s3_bucket'),
        SUTURE_DIGEST_RETENTION_DAYS: '365',
      });
    });

    it('enables Object Lock on the evidence bucket and denies deleting digests to everyone', () => {
      expect(resourceNamed(synth, 'aws_s3_bucket_object_lock_configuration', 'object-lock')).toMatchObject({
        object_lock_enabled: 'Enabled',
      });
      const policy = Object.entries(synth.json.data.aws_iam_policy_document ?? {}).find(([name]) =>
        name.includes('tls-only'),
      )?.[1] as { statement: Record<string, unknown>[] };
      expect(policy.statement).toContainEqual({
        sid: 'DenyDigestDeletion',
        effect: 'Deny',
        principals: [{ type: '*', identifiers: ['*'] }],
        actions: ['s3:BypassGovernanceRetention', 's3:DeleteObject', 's3:DeleteObjectVersion'],
        resources: [expect.stringMatching(/\/digests\/\*$/)],
      });
    });

    it('refuses a retention below one day and a signing key that is no KMS key', () => {
      expect(() => synthLoop({ ...baseProps, auditDigestRetentionDays: 0 })).toThrow(
        /auditDigestRetentionDays must be a positive integer/,
      );
      expect(() => synthLoop({ ...baseProps, auditDigestSigningKeyArn: 'alias/mine' })).toThrow(
        /is not a KMS key ARN/,
      );
    });
  });

  describe('approval and monitoring', () => {
    it('exposes the approval function through an AWS_IAM function URL', () => {
      expect(synth.raw).toHaveResourceWithProperties(LambdaFunctionUrl, { authorization_type: 'AWS_IAM' });
    });

    it('alarms on dead letters, failed and timed-out executions, escalation and denial spikes', () => {
      const alarms = [
        ['suture-dead-lettered-events', 'AWS/SQS', 'ApproximateNumberOfMessagesVisible'],
        ['suture-executions-failed', 'AWS/States', 'ExecutionsFailed'],
        ['suture-executions-timed-out', 'AWS/States', 'ExecutionsTimedOut'],
        ['suture-escalation-spike', 'Suture', 'Escalations'],
        ['suture-denial-spike', 'Suture', 'PolicyDecisions'],
      ];
      for (const [alarmName, namespace, metricName] of alarms) {
        expect(synth.raw).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
          alarm_name: alarmName,
          namespace,
          metric_name: metricName,
          alarm_actions: [expect.stringContaining('aws_sns_topic')],
        });
      }
      const dashboard = JSON.parse(
        String(resourceNamed(synth, 'aws_cloudwatch_dashboard', 'dashboard').dashboard_body),
      ) as {
        widgets: { properties: { title: string } }[];
      };
      expect(dashboard.widgets.map((widget) => widget.properties.title)).toEqual(
        expect.arrayContaining([
          'Detection latency (ms)',
          'Time to decision (ms)',
          'Time to recovery (ms)',
          'Auto-remediation and escalation rate (%)',
          'Rollbacks',
        ]),
      );
    });
  });

  it('tags every taggable resource', () => {
    for (const [type, named] of Object.entries(synth.json.resource)) {
      for (const [name, resource] of Object.entries(named)) {
        if (!('tags' in resource)) continue;
        expect({ type, name, tags: resource.tags }).toEqual({
          type,
          name,
          tags: { team: 'platform', 'suture:loop': 'suture' },
        });
      }
    }
    expect(resourceNamed(synth, 'aws_lambda_function', 'functions_triage_function').tags).toBeDefined();
  });

  it('matches the snapshot (content hashes masked)', () => {
    expect(maskHashes(synth.raw)).toMatchSnapshot();
  });
});

describe('SelfHealingLoop props', () => {
  it('throws on props that cannot work', () => {
    expect(() => synthLoop({ ...baseProps, pipelines: [] })).toThrow(/at least one pipeline/);
    expect(() => synthLoop({ ...baseProps, namePrefix: 'Bad_Prefix' })).toThrow(/namePrefix/);
    expect(() => synthLoop({ ...baseProps, logRetentionDays: 42 })).toThrow(/logRetentionDays 42/);
    expect(() => synthLoop({ ...baseProps, notificationEmails: ['not-an-email'] })).toThrow(/email/);
    expect(() => synthLoop({ ...baseProps, kmsKeyArn: 'arn:aws:s3:::bucket' })).toThrow(/kmsKeyArn/);
    expect(() => synthLoop({ ...baseProps, pipelines: [{ name: 'a', region: 'mars' }] })).toThrow(
      /not a region/,
    );
    expect(() => synthLoop({ ...baseProps, bakeSeconds: -5 })).toThrow(/bakeSeconds/);
  });

  it('sets a permissions boundary on every role, the smoke project’s and the agent’s included', () => {
    // Prepare
    const boundary = 'arn:aws:iam::123456789012:policy/ci-boundary';

    // Act
    const synth = synthLoop({
      ...baseProps,
      permissionsBoundary: boundary,
      smokeChecks: {},
      bedrock: { foundationModel: 'anthropic.claude-3-5-sonnet-20240620-v1:0' },
    });

    // Assess
    const roles = Object.values(resourcesOf(synth, 'aws_iam_role'));
    expect(roles.length).toBe(12);
    for (const role of roles) expect(role.permissions_boundary).toBe(boundary);
    expect(() =>
      synthLoop({ ...baseProps, permissionsBoundary: 'arn:aws:iam::123456789012:role/x' }),
    ).toThrow(/permissionsBoundary/);
  });

  it('uses an existing key, smoke checks and a signed bundle when asked', () => {
    const synth = synthLoop({
      ...baseProps,
      releaseHealthAlarms: [],
      kmsKeyArn: 'arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      smokeChecks: {},
      policyVerification: {
        publicKeyPem: '-----BEGIN PUBLIC KEY-----\nMFk=\n-----END PUBLIC KEY-----',
        keyId: 'release',
      },
    });
    // Only the digest signing key is created: nothing else brings its own.
    expect(Object.values(resourcesOf(synth, 'aws_kms_key'))).toEqual([
      expect.objectContaining({ key_usage: 'SIGN_VERIFY' }),
    ]);
    expect(Object.keys(resourcesOf(synth, 'aws_cloudwatch_event_rule'))).toHaveLength(1);
    const env = (
      resourceNamed(synth, 'aws_lambda_function', 'functions_policy-gate_function').environment as {
        variables: Record<string, string>;
      }
    ).variables;
    expect(env).toMatchObject({ SUTURE_POLICY_ALLOW_UNSIGNED: 'false', SUTURE_POLICY_KEY_ID: 'release' });
    const validateEnv = (
      resourceNamed(synth, 'aws_lambda_function', 'functions_validate_function').environment as {
        variables: Record<string, string>;
      }
    ).variables;
    expect(validateEnv.SUTURE_SMOKE_PROJECT).toMatch(/^\$\{aws_codebuild_project\..+\.name\}$/);
    const machine = resourceNamed(synth, 'aws_sfn_state_machine', 'state-machine');
    expect(JSON.parse(String(machine.definition)).States[StateName.startSmokeChecks]).toMatchObject({
      Resource: 'arn:aws:states:::codebuild:startBuild',
      Parameters: { ProjectName: 'suture-smoke' },
    });
    expect(actionsOf(synth, 'workflow')).toContain('codebuild:StartBuild');
    expect(actionsOf(synth, 'functions_validate')).toEqual(
      expect.arrayContaining(['codebuild:BatchGetBuilds', 'codebuild:ListBuildsForProject']),
    );
    expect(actionsOf(synth, 'functions_validate')).not.toContain('codebuild:StartBuild');
  });
});
