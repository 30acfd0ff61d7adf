import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformLocal, TerraformOutput, TerraformStack, TerraformVariable, Token } from 'cdktf';
import type { Construct } from 'constructs';
import { LOOP_FUNCTION_NAMES } from './functions/catalog';
import { LOG_RETENTION_DAYS, LOOP_DEFAULTS, SelfHealingLoop } from './self-healing-loop';

/** The Terraform AWS provider versions the synthesised module works with. */
export const AWS_PROVIDER_CONSTRAINT = '>= 6.25.0, < 7.0.0';
/** The Terraform versions the synthesised module works with (optional object attributes need 1.3). */
export const TERRAFORM_CONSTRAINT = '>= 1.5.0';

/**
 * The loop as a plain Terraform module: typed, described variables in, outputs named after
 * their resource out. `scripts/synth-module.ts` synthesises it and strips what a child module
 * must not carry (the provider configuration). Features decided at synth in cdktf apps (an
 * existing KMS key, smoke checks, signed-bundle verification) are not variables here: the
 * module creates its own key, runs no smoke project, and pins the SHA-256 of the bundle it ships.
 */
export class SutureModuleStack extends TerraformStack {
  readonly loop: SelfHealingLoop;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // Required by cdktf's synth checks; removed from the module by scripts/synth-module.ts.
    new AwsProvider(this, 'aws', {});

    const variable = (name: string, config: ConstructorParameters<typeof TerraformVariable>[2]) => {
      const created = new TerraformVariable(this, name, config);
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
      type: 'list(object({ name = string, account = optional(string), region = optional(string), protected_stages = optional(list(string), []), revertible_parameter_prefixes = optional(list(string)) }))',
      description:
        'Pipelines the loop watches and may repair (at least one). account/region default to the deploying ones; protected_stages never change without a human; revertible_parameter_prefixes (default ["/<name>/"]) are the SSM paths the loop may revert.',
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

    // Locals rather than raw expressions: references nest inside other expressions, raw strings do not.
    const local = (name: string, expression: string) => {
      const created = new TerraformLocal(this, name, expression);
      created.overrideLogicalId(name);
      return created;
    };
    const bedrockCount = local('bedrock_count', '${var.bedrock == null ? 0 : 1}');

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
      approverPrincipals: approvers.listValue,
      bedrock: {
        foundationModel: Token.asString('${try(var.bedrock.foundation_model, "")}'),
        aliasName: Token.asString('${try(var.bedrock.alias_name, "live")}'),
        timeoutMs: Token.asNumber('${try(var.bedrock.timeout_ms, 20000)}'),
        count: bedrockCount.asNumber,
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
      loop.policyBundle.revision,
      'Revision (SHA-256 of the sources) of the policy bundle the gate evaluates.',
    );
    output(
      'policy_bundle_sha256',
      loop.policyBundle.sha256,
      'SHA-256 of the policy bundle archive the gate pins.',
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
