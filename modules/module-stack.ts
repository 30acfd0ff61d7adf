import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformLocal, TerraformOutput, TerraformStack, TerraformVariable, Token } from 'cdktf';
import type { Construct } from 'constructs';
import { LOOP_FUNCTION_NAMES } from './functions/catalog';
import { splat } from './iam';
import { DEFAULT_SMOKE_BUILDSPEC } from './parts/smoke-project';
import { LOG_RETENTION_DAYS, LOOP_DEFAULTS, SelfHealingLoop } from './self-healing-loop';

/** The Terraform AWS provider versions the synthesised module works with. */
export const AWS_PROVIDER_CONSTRAINT = '>= 6.25.0, < 7.0.0';
/** The Terraform versions the synthesised module works with (optional object attributes need 1.3). */
export const TERRAFORM_CONSTRAINT = '>= 1.5.0';

/**
 * The loop as a plain Terraform module: typed, described, validated variables in, outputs named
 * after their resource out. `scripts/synth-module.ts` synthesises it and strips what a child
 * module must not carry (the provider configuration). What cdktf apps decide at synth (an
 * existing KMS key, smoke checks, a permissions boundary, their own signed policy bundle) is
 * decided here at plan time: optional parts are count-conditional resources, and the workflow
 * definition and the functions' environment are Terraform expressions that follow them.
 */
export class SutureModuleStack extends TerraformStack {
  readonly loop: SelfHealingLoop;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // Required by cdktf's synth checks; removed from the module by scripts/synth-module.ts.
    new AwsProvider(this, 'aws', {});

    // Construct ids `var.<name>`: an output may have a variable's name (kms_key_arn).
    // In Terraform JSON a condition is a template: a bare `var.x > 0` would be a constant string
    // (terraform validate: "must refer to at least one object"), so each one is wrapped in ${…}.
    const variable = (name: string, config: ConstructorParameters<typeof TerraformVariable>[2]) => {
      const validation = config.validation?.map((rule) => ({
        ...rule,
        condition: rule.condition.startsWith('${') ? rule.condition : `\${${rule.condition}}`,
      }));
      const created = new TerraformVariable(this, `var.${name}`, {
        ...config,
        ...(validation ? { validation } : {}),
      });
      created.overrideLogicalId(name);
      return created;
    };
    const namePrefix = variable('name_prefix', {
      type: 'string',
      default: LOOP_DEFAULTS.namePrefix,
      description: 'Prefix of every resource name (2-24 lowercase letters, digits or dashes).',
      validation: [
        {
          condition: 'can(regex("^[a-z][a-z0-9-]{1,23}$", var.name_prefix))',
          errorMessage:
            'name_prefix must be 2-24 lowercase letters, digits or dashes, starting with a letter.',
        },
      ],
    });
    const pipelines = variable('pipelines', {
      type: 'list(object({ name = string, account = optional(string), region = optional(string), protected_stages = optional(list(string), []), revertible_parameter_prefixes = optional(list(string)), redrivable_state_machines = optional(list(string), []) }))',
      description:
        'Pipelines the loop watches and may repair (at least one). account/region default to the deploying ones; protected_stages never change without a human; revertible_parameter_prefixes (default ["/<name>/"]) are the SSM paths the loop may revert; redrivable_state_machines names the Step Functions state machines the pipeline runs whose failed executions the loop may redrive.',
      validation: [
        { condition: 'length(var.pipelines) > 0', errorMessage: 'At least one pipeline must be in scope.' },
        {
          condition: 'alltrue([for p in var.pipelines : can(regex("^[A-Za-z0-9.@_-]{1,100}$", p.name))])',
          errorMessage: 'Every pipeline name must be a CodePipeline name.',
        },
      ],
    });
    const alarms = variable('release_health_alarms', {
      type: 'list(object({ alarm_name = string, pipeline = string, stage = string }))',
      default: [],
      description:
        'CloudWatch alarms whose ALARM state also wakes the loop, each with the pipeline and stage it speaks for.',
    });
    const emails = variable('notification_emails', {
      type: 'list(string)',
      default: [],
      description:
        'Email addresses subscribed to escalations, approval requests and the loop’s alarms (each must confirm).',
    });
    const retention = variable('log_retention_days', {
      type: 'number',
      default: LOOP_DEFAULTS.logRetentionDays,
      description: 'Retention of every log group, in days.',
      validation: [
        {
          condition: `contains([${LOG_RETENTION_DAYS.join(', ')}], var.log_retention_days)`,
          errorMessage: 'log_retention_days must be a CloudWatch Logs retention value.',
        },
      ],
    });
    const tags = variable('tags', {
      type: 'map(string)',
      default: {},
      description: 'Tags on every taggable resource (suture:loop = name_prefix is added).',
    });
    const bake = variable('bake_seconds', {
      type: 'number',
      default: LOOP_DEFAULTS.bakeSeconds,
      description: 'Seconds a repaired pipeline bakes before validation.',
      validation: [
        {
          condition:
            'var.bake_seconds >= 0 && var.bake_seconds <= 86400 && floor(var.bake_seconds) == var.bake_seconds',
          errorMessage: 'bake_seconds must be a whole number from 0 to 86400.',
        },
      ],
    });
    const approvalTimeout = variable('approval_timeout_seconds', {
      type: 'number',
      default: LOOP_DEFAULTS.approvalTimeoutSeconds,
      description: 'Seconds an approval request waits for a human before the loop escalates.',
      validation: [
        {
          condition:
            'var.approval_timeout_seconds >= 60 && var.approval_timeout_seconds <= 604800 && floor(var.approval_timeout_seconds) == var.approval_timeout_seconds',
          errorMessage: 'approval_timeout_seconds must be a whole number from 60 to 604800 (7 days).',
        },
      ],
    });
    const evidenceRetention = variable('evidence_retention_days', {
      type: 'number',
      default: LOOP_DEFAULTS.evidenceRetentionDays,
      description: 'Days the evidence bucket keeps an incident’s full evidence.',
      validation: [
        {
          condition: 'var.evidence_retention_days >= 1',
          errorMessage: 'evidence_retention_days must be ≥ 1.',
        },
      ],
    });
    const digestRetention = variable('audit_digest_retention_days', {
      type: 'number',
      default: LOOP_DEFAULTS.auditDigestRetentionDays,
      description:
        'Days each signed audit digest (digests/ in the evidence bucket, one per sealed incident chain head) is locked by S3 Object Lock in governance mode, and kept.',
      validation: [
        {
          condition:
            'var.audit_digest_retention_days >= 1 && var.audit_digest_retention_days <= 36500 && floor(var.audit_digest_retention_days) == var.audit_digest_retention_days',
          errorMessage: 'audit_digest_retention_days must be a whole number of days from 1 to 36500.',
        },
      ],
    });
    const digestKey = variable('audit_digest_signing_key_arn', {
      type: 'string',
      nullable: true,
      description:
        'ARN of an existing asymmetric KMS key (key usage SIGN_VERIFY, key spec RSA_2048) that signs the audit digests; the notify and triage functions (which end incidents) are granted kms:Sign on it. null: the module creates one.',
      validation: [
        {
          condition:
            'var.audit_digest_signing_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.audit_digest_signing_key_arn))',
          errorMessage:
            'audit_digest_signing_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>).',
        },
      ],
    });
    digestKey.addOverride('default', null);
    const approvers = variable('approver_principals', {
      type: 'list(string)',
      default: [],
      description:
        'Principals in other accounts allowed to call the approval URL (same-account approvers need lambda:InvokeFunctionUrl in their own policy).',
    });
    const bedrock = variable('bedrock', {
      type: 'object({ foundation_model = string, alias_name = optional(string, "live"), timeout_ms = optional(number, 20000) })',
      nullable: true,
      description:
        'The Bedrock planner agent (action group with RETURN_CONTROL over the allowed actions, guardrail). null: plans come from playbooks only.',
    });
    // cdktf cannot render a null default from the config; an override can.
    bedrock.addOverride('default', null);
    variable('smoke_checks', {
      type: 'object({ enabled = optional(bool, true), buildspec = optional(string) })',
      nullable: true,
      default: {},
      description:
        'Smoke checks: a CodeBuild project the workflow starts after every repair; validate declares the repair healthy only when the newest build succeeded. On by default with a buildspec that fails when a stage of the repaired pipeline ($SUTURE_PIPELINE) is Failed. enabled = false or null: no project.',
      validation: [
        {
          condition:
            'var.smoke_checks == null ? true : (var.smoke_checks.buildspec == null ? true : can(yamldecode(var.smoke_checks.buildspec).version))',
          errorMessage: 'smoke_checks.buildspec must be a YAML CodeBuild buildspec with a version key.',
        },
      ],
    });
    const kmsKey = variable('kms_key_arn', {
      type: 'string',
      nullable: true,
      description:
        'ARN of an existing customer managed KMS key for every store and log group; its key policy must let CloudWatch Logs, EventBridge and CloudWatch alarms use it. null: the module creates a key (yearly rotation).',
      validation: [
        {
          condition:
            'var.kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))',
          errorMessage: 'kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>).',
        },
      ],
    });
    kmsKey.addOverride('default', null);
    const boundary = variable('permissions_boundary_arn', {
      type: 'string',
      nullable: true,
      description:
        'ARN of an IAM policy set as the permissions boundary of every role the module creates (functions, state machine, smoke project, Bedrock agent). null: no boundary.',
      validation: [
        {
          condition:
            'var.permissions_boundary_arn == null ? true : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.permissions_boundary_arn))',
          errorMessage:
            'permissions_boundary_arn must be an IAM policy ARN (arn:aws:iam::<account>:policy/<name>).',
        },
      ],
    });
    boundary.addOverride('default', null);
    const policyBundle = variable('policy_bundle', {
      type: 'object({ path = string, sha256 = string, verification_key = optional(string), key_id = optional(string), scope = optional(string) })',
      nullable: true,
      description:
        'Your own policy bundle (built with `suture policy build`, optionally signed) instead of the one shipped with the module: path of the archive (e.g. "${path.module}/policy/bundle.tar.gz"), its SHA-256 (the gate refuses any other bytes), and, for a signed bundle, the PEM public key, the required kid and scope. null: the shipped bundle, unsigned, pinned by SHA-256.',
      validation: [
        {
          condition:
            'var.policy_bundle == null ? true : can(regex("^[0-9a-fA-F]{64}$", var.policy_bundle.sha256))',
          errorMessage: 'policy_bundle.sha256 must be 64 hex digits (sha256sum of the archive).',
        },
        {
          condition: 'var.policy_bundle == null ? true : fileexists(var.policy_bundle.path)',
          errorMessage:
            'policy_bundle.path must name an existing file (a relative path is read from the directory terraform runs in: start it with path.module).',
        },
        {
          condition:
            'var.policy_bundle == null ? true : try(filesha256(var.policy_bundle.path) == lower(var.policy_bundle.sha256), true)',
          errorMessage:
            'The SHA-256 of the file at policy_bundle.path is not policy_bundle.sha256: the archive is not the bundle that was pinned.',
        },
        {
          condition:
            'var.policy_bundle == null ? true : (var.policy_bundle.verification_key == null ? true : can(regex("(?s)^-----BEGIN PUBLIC KEY-----.+-----END PUBLIC KEY-----$", trimspace(var.policy_bundle.verification_key))))',
          errorMessage:
            'policy_bundle.verification_key must be a PEM public key (-----BEGIN PUBLIC KEY-----).',
        },
        {
          condition:
            'var.policy_bundle == null ? true : (var.policy_bundle.verification_key != null || (var.policy_bundle.key_id == null && var.policy_bundle.scope == null))',
          errorMessage: 'policy_bundle.key_id and policy_bundle.scope need a verification_key.',
        },
      ],
    });
    policyBundle.addOverride('default', null);

    const githubApiUrl = variable('github_api_url', {
      type: 'string',
      nullable: false,
      default: 'https://api.github.com',
      description:
        'GitHub REST API root the execute function opens pull requests with: https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server. The credentials go in the secret named by the github_secret_arn output.',
      validation: [
        {
          condition:
            '${can(regex("^(https://[A-Za-z0-9.-]+(:[0-9]+)?|http://(127[.]0[.]0[.]1|localhost)(:[0-9]+)?)(/[A-Za-z0-9._~/-]*)?$", var.github_api_url))}',
          errorMessage:
            'github_api_url must be an https:// URL (plain http only on 127.0.0.1 or localhost, for local fakes), e.g. https://github.example.com/api/v3.',
        },
      ],
    });
    // Locals rather than raw expressions: references nest inside other expressions, raw strings do not.
    const local = (name: string, expression: string) => {
      const created = new TerraformLocal(this, `local.${name}`, expression);
      created.overrideLogicalId(name);
      return created;
    };
    const bedrockCount = local('bedrock_count', '${var.bedrock == null ? 0 : 1}');
    const classifyModel = variable('classify_model_id', {
      type: 'string',
      nullable: true,
      description:
        'Bedrock model (foundation model id, or model / inference-profile ARN) the classify function asks about logs no signature reads; a class it assigns always needs approval. null: such logs stay unknown.',
      validation: [
        {
          condition:
            '${var.classify_model_id == null ? true : can(regex("^(arn:aws[a-z-]*:bedrock:[a-z0-9-]+:[0-9]{0,12}:(foundation-model|inference-profile|application-inference-profile|provisioned-model|custom-model)/[^ ]+|[a-zA-Z0-9][a-zA-Z0-9_.:-]{0,200})$", var.classify_model_id))}',
          errorMessage:
            'classify_model_id must be a Bedrock foundation model id or a Bedrock model or inference-profile ARN.',
        },
      ],
    });
    classifyModel.addOverride('default', null);
    const classifyModelCount = local('classify_model_count', '${var.classify_model_id == null ? 0 : 1}');
    // Never null, so expressions over it evaluate whether or not the model is set.
    const classifyModelValue = local('classify_model_id', '${coalesce(var.classify_model_id, "none")}');
    const smokeCount = local(
      'smoke_checks_count',
      '${var.smoke_checks == null ? 0 : (var.smoke_checks.enabled ? 1 : 0)}',
    );
    local('smoke_checks_default_buildspec', DEFAULT_SMOKE_BUILDSPEC);
    const smokeBuildspec = local(
      'smoke_checks_buildspec',
      '${var.smoke_checks == null ? local.smoke_checks_default_buildspec : coalesce(var.smoke_checks.buildspec, local.smoke_checks_default_buildspec)}',
    );
    const bundleCount = local('policy_bundle_count', '${var.policy_bundle == null ? 0 : 1}');
    const bundlePath = local('policy_bundle_path', '${try(var.policy_bundle.path, null)}');
    const bundleSha256 = local('policy_bundle_sha256', '${try(lower(var.policy_bundle.sha256), null)}');
    const verification = (name: string, attribute: string) => ({
      count: local(
        `policy_${attribute}_count`,
        `\${try(var.policy_bundle.${attribute}, null) == null ? 0 : 1}`,
      ).asNumber,
      value: Token.asString(`\${try(var.policy_bundle.${attribute}, "")}`),
      name,
    });
    const verificationSettings = [
      verification('SUTURE_POLICY_VERIFICATION_KEY', 'verification_key'),
      verification('SUTURE_POLICY_KEY_ID', 'key_id'),
      verification('SUTURE_POLICY_SCOPE', 'scope'),
    ];

    this.loop = new SelfHealingLoop(this, 'suture', {
      namePrefix: namePrefix.stringValue,
      pipelines: { expression: pipelines.value },
      releaseHealthAlarms: { expression: alarms.value },
      notificationEmails: emails.listValue,
      logRetentionDays: retention.numberValue,
      tags: tags.value as Record<string, string>,
      bakeSeconds: bake.numberValue,
      approvalTimeoutSeconds: approvalTimeout.numberValue,
      evidenceRetentionDays: evidenceRetention.numberValue,
      auditDigestRetentionDays: digestRetention.numberValue,
      auditDigestSigningKeyArn: { nullable: digestKey.stringValue },
      approverPrincipals: approvers.listValue,
      githubApiUrl: githubApiUrl.stringValue,
      bedrock: {
        foundationModel: Token.asString('${try(var.bedrock.foundation_model, "")}'),
        aliasName: Token.asString('${try(var.bedrock.alias_name, "live")}'),
        timeoutMs: Token.asNumber('${try(var.bedrock.timeout_ms, 20000)}'),
        count: bedrockCount.asNumber,
      },
      smokeChecks: { count: smokeCount.asNumber, buildspec: smokeBuildspec.asString },
      classifyModelId: classifyModelValue.asString,
      classifyModelCount: classifyModelCount.asNumber,
      kmsKeyArn: { nullable: kmsKey.stringValue },
      permissionsBoundary: boundary.stringValue,
      runtimePolicyBundle: {
        count: bundleCount.asNumber,
        path: bundlePath.asString,
        sha256: bundleSha256.asString,
        allowUnsigned: Token.asString(
          '${try(var.policy_bundle.verification_key, null) == null ? "true" : "false"}',
        ),
        verification: Object.fromEntries(
          verificationSettings.map(({ name, count, value }) => [name, { count, value }]),
        ),
      },
    });

    const loop = this.loop;
    // A map is handed over as a token: cdktf's TerraformOutput inspects a plain object with
    // util.isArray, which Node 22+ reports as deprecated (DEP0044) on stderr; the token resolves
    // to the same map.
    const output = (name: string, value: unknown, description: string) =>
      new TerraformOutput(this, name, {
        value: value !== null && typeof value === 'object' ? Token.asAny(value) : value,
        description,
      }).overrideLogicalId(name);
    output('state_machine_arn', loop.workflow.stateMachine.arn, 'ARN of the workflow state machine.');
    output('state_machine_name', loop.workflow.stateMachine.name, 'Name of the workflow state machine.');
    output(
      'approval_function_url',
      loop.approvalEndpoint.url.functionUrl,
      'URL of the approval callback (AWS_IAM auth).',
    );
    output(
      'sns_topic_arn',
      loop.notifications.topic.arn,
      'ARN of the notification topic (escalations, approvals, alarms).',
    );
    output(
      'github_secret_arn',
      loop.github.secret.arn,
      'ARN of the Secrets Manager secret for GitHub pull requests (empty at first: put the GitHub App id, installation id and private key in it, see docs/module.md).',
    );
    output(
      'evidence_bucket_name',
      loop.evidence.bucket.bucket,
      'Name of the S3 bucket holding full evidence.',
    );
    output(
      'dead_letter_queue_url',
      loop.events.deadLetterQueue.url,
      'URL of the SQS queue of undelivered failure events.',
    );
    output('kms_key_arn', loop.encryption.keyArn, 'ARN of the KMS key encrypting the stores and logs.');
    output(
      'audit_digest_signing_key_arn',
      loop.auditDigestKey.keyArn,
      'ARN of the KMS key signing the audit digests (pass it to `suture audit verify --key-id`).',
    );
    output(
      'dashboard_name',
      loop.monitoring.dashboard.dashboardName,
      'Name of the CloudWatch dashboard with the loop’s KPIs.',
    );
    output(
      'dynamodb_table_names',
      Object.fromEntries(Object.entries(loop.tables.tables).map(([kind, table]) => [kind, table.name])),
      'Names of the DynamoDB tables, by purpose (guard, audit, idempotency, approvals).',
    );
    output(
      'lambda_function_arns',
      Object.fromEntries(LOOP_FUNCTION_NAMES.map((name) => [name, loop.functions.get(name).arn])),
      'ARNs of the loop’s Lambda functions, by function.',
    );
    output(
      'policy_bundle_revision',
      Token.asString(`\${${bundleCount.asString} > 0 ? null : "${loop.policyBundle.revision}"}`),
      'Revision (SHA-256 of the sources) of the shipped policy bundle the gate evaluates (null with var.policy_bundle: see that bundle’s .manifest).',
    );
    output(
      'policy_bundle_sha256',
      Token.asString(
        `\${${bundleCount.asString} > 0 ? ${bundleSha256.asString} : "${loop.policyBundle.sha256}"}`,
      ),
      'SHA-256 of the policy bundle archive the gate pins (var.policy_bundle’s when given).',
    );
    output(
      'policy_bundle_uri',
      loop.policyStore?.uri ?? null,
      'S3 URI the gate reads var.policy_bundle from (null when the shipped bundle is used).',
    );
    output(
      'smoke_project_name',
      loop.smoke ? splat(loop.smoke.project, 'name') : null,
      'Name of the smoke-check CodeBuild project (null when smoke_checks are off).',
    );
    output(
      'bedrock_agent_id',
      loop.bedrock?.agentId ?? null,
      'Id of the Bedrock planner agent (null without var.bedrock).',
    );
    output(
      'bedrock_agent_alias_id',
      loop.bedrock?.aliasId ?? null,
      'Alias id plan calls (null without var.bedrock).',
    );
  }
}
