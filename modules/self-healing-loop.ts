import { Aspects, Fn, Token, conditional } from 'cdktf';
import { Construct } from 'constructs';
import { LOOP_FUNCTION_NAMES, type LoopFunctionName } from './functions/catalog';
import type { LoopRole } from './iam';
import { PolicyBundle } from './policy-bundle';
import { ApprovalEndpoint } from './parts/approval-endpoint';
import { AuditDigestKey } from './parts/audit-digest-key';
import { BedrockAgent, type BedrockSettings } from './parts/bedrock-agent';
import { EncryptionKey, type NullableKeyArn } from './parts/encryption-key';
import { FailureEvents } from './parts/failure-events';
import { GITHUB_API_URL, GitHubAccess } from './parts/github';
import { LoopFunctions, type LoopFunction } from './parts/loop-functions';
import { Monitoring } from './parts/monitoring';
import { Notifications } from './parts/notifications';
import { PolicyStore } from './parts/policy-store';
import {
  LoopScope,
  type AlarmScopeExpression,
  type PipelineInScope,
  type PipelineScopeExpression,
  type ReleaseHealthAlarm,
} from './parts/scope';
import { SmokeProject, type SmokeChecksSettings } from './parts/smoke-project';
import { EvidenceBucket, LoopTables } from './parts/stores';
import { Workflow } from './parts/workflow';
import { LoopChecks, PermissionsBoundary, TagResources } from './aspects';
import { WORKFLOW_FUNCTIONS } from './workflow/definition';

/** How the gate verifies a signed policy bundle (README, "Policy gate configuration"). */
export interface PolicyVerification {
  /** PEM public key (RS*, PS*, ES*) the bundle signature must verify with. */
  readonly publicKeyPem: string;
  /** Required `kid` of the signature. @default any */
  readonly keyId?: string;
  /** Required signature scope. @default none */
  readonly scope?: string;
}

/**
 * Module mode: a policy bundle the consumer gives at apply time (`var.policy_bundle`). Terraform
 * uploads it to a bucket of the loop ({@link PolicyStore}); the functions that evaluate policy
 * read it from there once per cold start and pin it by SHA-256. Every value is a Terraform
 * reference (a local or variable), each optional setting with the count (0 or 1) it exists by.
 */
export interface RuntimePolicyBundle {
  /** 1 when a bundle was given, 0 to keep the bundle shipped in the function packages. */
  readonly count: number;
  /** Local path of the archive, as Terraform reads it. */
  readonly path: string;
  /** Lower-case hex SHA-256 of the given archive. */
  readonly sha256: string;
  /** `"true"` or `"false"`: whether an unsigned bundle may load (no verification key given). */
  readonly allowUnsigned: string;
  /** `SUTURE_POLICY_VERIFICATION_KEY`, `SUTURE_POLICY_KEY_ID`, `SUTURE_POLICY_SCOPE`, each when its count is 1. */
  readonly verification: Readonly<
    Partial<
      Record<
        'SUTURE_POLICY_VERIFICATION_KEY' | 'SUTURE_POLICY_KEY_ID' | 'SUTURE_POLICY_SCOPE',
        { readonly count: number; readonly value: string }
      >
    >
  >;
}

/** Props of {@link SelfHealingLoop}. */
export interface SelfHealingLoopProps {
  /**
   * The pipelines the loop watches and may repair (at least one; the loop never acts on "every
   * pipeline"). Module mode passes a Terraform expression instead (see {@link PipelineScopeExpression}).
   */
  readonly pipelines: readonly PipelineInScope[] | PipelineScopeExpression;
  /** Prefix of every resource name (lowercase letters, digits, dashes). @default `suture` */
  readonly namePrefix?: string;
  /**
   * A policy bundle archive built (and signed) elsewhere.
   * @default the bundle is compiled from `policies/` at synth
   */
  readonly prebuiltPolicyBundle?: string;
  /**
   * Verification of a signed bundle.
   * @default unsigned bundles load (`SUTURE_POLICY_ALLOW_UNSIGNED=true`); the archive's SHA-256 is pinned either way
   */
  readonly policyVerification?: PolicyVerification;
  /**
   * Module mode: a bundle given at apply time instead of the one compiled at synth (which stays
   * in the packages and is used when the count is 0). Excludes `policyVerification`.
   * @default the packaged bundle
   */
  readonly runtimePolicyBundle?: RuntimePolicyBundle;
  /** Addresses that receive escalations, approval requests and the loop's alarms. @default none */
  readonly notificationEmails?: readonly string[];
  /** The Bedrock planner agent. @default none: plans come from playbooks only */
  readonly bedrock?: BedrockSettings;
  /**
   * Bedrock model classify asks about logs no signature reads (`SUTURE_CLASSIFY_MODEL_ID`): a
   * foundation model id, or a model or inference-profile ARN. Only this function may invoke it,
   * and only this model. A class it assigns always needs approval (policy `classification_by_model`).
   * @default none: a log no signature reads stays `unknown`
   */
  readonly classifyModelId?: string;
  /**
   * Module mode: a Terraform number (0 or 1) deciding whether {@link classifyModelId} is set
   * (the variable may be null). @default set whenever classifyModelId is given
   */
  readonly classifyModelCount?: number;
  /**
   * A customer managed KMS key for every store and log group (module mode: a reference that
   * may be null, see {@link NullableKeyArn}). @default a new key with yearly rotation
   */
  readonly kmsKeyArn?: string | NullableKeyArn;
  /**
   * ARN of an IAM policy set as the permissions boundary of every role the loop creates
   * (module mode: a reference that may be null, meaning none). @default none
   */
  readonly permissionsBoundary?: string;
  /** Retention of every log group, in days (a CloudWatch Logs retention value). @default 30 */
  readonly logRetentionDays?: number;
  /** Tags on every taggable resource (plus `suture:loop` = the name prefix). @default none */
  readonly tags?: Readonly<Record<string, string>>;
  /** Release-health alarms whose ALARM state also wakes the loop. @default none */
  readonly releaseHealthAlarms?: readonly ReleaseHealthAlarm[] | AlarmScopeExpression;
  /** Seconds a repaired pipeline bakes before validation. @default 300 */
  readonly bakeSeconds?: number;
  /** Seconds an approval request waits for a human before the loop escalates. @default 86400 */
  readonly approvalTimeoutSeconds?: number;
  /** Days the evidence bucket keeps an incident's full evidence. @default 90 */
  readonly evidenceRetentionDays?: number;
  /**
   * Days each signed audit digest (`digests/` in the evidence bucket) is locked by S3 Object
   * Lock in governance mode, and kept. @default 365
   */
  readonly auditDigestRetentionDays?: number;
  /**
   * An asymmetric KMS key (SIGN_VERIFY, RSA_2048) that signs the audit digests instead of one
   * the loop creates (module mode: a reference that may be null, see {@link NullableKeyArn}).
   * @default a new signing key
   */
  readonly auditDigestSigningKeyArn?: string | NullableKeyArn;
  /**
   * Smoke checks: a CodeBuild project the workflow starts after each repair and validate reads.
   * @default none: validate judges the pipeline and the release-health alarms only
   */
  readonly smokeChecks?: SmokeChecksSettings;
  /**
   * GitHub's REST API root for pull requests (GitHub Enterprise Server: `https://HOST/api/v3`).
   * The credentials go in the secret the loop creates ({@link SelfHealingLoop.github}).
   * @default https://api.github.com
   */
  readonly githubApiUrl?: string;
  /** Principals in other accounts allowed to call the approval URL. @default none */
  readonly approverPrincipals?: readonly string[];
  /** Escalations per hour that raise the escalation-spike alarm. @default 10 */
  readonly escalationsPerHourThreshold?: number;
  /** Policy denials per hour that raise the denial-spike alarm. @default 20 */
  readonly denialsPerHourThreshold?: number;
  /**
   * Deployment packages built elsewhere, by function name.
   * @default every function is bundled with esbuild from `functions/<name>/index.ts` at synth
   */
  readonly prebuiltFunctionPackages?: Partial<Readonly<Record<LoopFunctionName, string>>>;
}

/** CloudWatch Logs' accepted retention values, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

type Defaults = Required<
  Pick<
    SelfHealingLoopProps,
    | 'namePrefix'
    | 'notificationEmails'
    | 'logRetentionDays'
    | 'tags'
    | 'releaseHealthAlarms'
    | 'bakeSeconds'
    | 'approvalTimeoutSeconds'
    | 'evidenceRetentionDays'
    | 'auditDigestRetentionDays'
    | 'escalationsPerHourThreshold'
    | 'denialsPerHourThreshold'
  >
>;

/** The defaults of {@link SelfHealingLoopProps}, applied in one place. */
export const LOOP_DEFAULTS: Readonly<Defaults> = {
  namePrefix: 'suture',
  notificationEmails: [],
  logRetentionDays: 30,
  tags: {},
  releaseHealthAlarms: [],
  bakeSeconds: 300,
  approvalTimeoutSeconds: 86_400,
  evidenceRetentionDays: 90,
  auditDigestRetentionDays: 365,
  escalationsPerHourThreshold: 10,
  denialsPerHourThreshold: 20,
};

type ResolvedProps = SelfHealingLoopProps & Defaults;

/** A number as an environment value: its digits, or the Terraform reference rendered as a string. */
function numberText(value: number): string {
  return Token.isUnresolved(value) ? Token.asString(value) : String(value);
}

function withDefaults(props: SelfHealingLoopProps): ResolvedProps {
  const defined = Object.fromEntries(Object.entries(props).filter(([, value]) => value !== undefined));
  return { ...LOOP_DEFAULTS, ...defined } as ResolvedProps;
}

/** Throws on props that cannot work; unresolved tokens are left for Terraform to check. */
function checkProps(props: ResolvedProps): void {
  const known = (value: unknown) => !Token.isUnresolved(value);
  if (known(props.namePrefix) && !/^[a-z][a-z0-9-]{1,23}$/.test(props.namePrefix)) {
    throw new Error(`namePrefix "${props.namePrefix}" must be 2-24 lowercase letters, digits or dashes`);
  }
  if (
    known(props.logRetentionDays) &&
    !(LOG_RETENTION_DAYS as readonly number[]).includes(props.logRetentionDays)
  ) {
    throw new Error(
      `logRetentionDays ${props.logRetentionDays} is not a CloudWatch Logs retention (${LOG_RETENTION_DAYS.join(', ')})`,
    );
  }
  if (
    known(props.evidenceRetentionDays) &&
    (!Number.isInteger(props.evidenceRetentionDays) || props.evidenceRetentionDays < 1)
  ) {
    throw new Error(`evidenceRetentionDays must be a positive integer, got ${props.evidenceRetentionDays}`);
  }
  if (
    known(props.auditDigestRetentionDays) &&
    (!Number.isInteger(props.auditDigestRetentionDays) || props.auditDigestRetentionDays < 1)
  ) {
    throw new Error(
      `auditDigestRetentionDays must be a positive integer, got ${props.auditDigestRetentionDays}`,
    );
  }
  if (
    typeof props.auditDigestSigningKeyArn === 'string' &&
    props.auditDigestSigningKeyArn &&
    known(props.auditDigestSigningKeyArn) &&
    !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/.+$/.test(props.auditDigestSigningKeyArn)
  ) {
    throw new Error(`auditDigestSigningKeyArn "${props.auditDigestSigningKeyArn}" is not a KMS key ARN`);
  }
  if (known(props.notificationEmails)) {
    for (const email of props.notificationEmails) {
      if (known(email) && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email))
        throw new Error(`"${email}" is not an email address`);
    }
  }
  if (
    props.classifyModelId !== undefined &&
    known(props.classifyModelId) &&
    !/^(?:arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{0,12}:(?:foundation-model|inference-profile|application-inference-profile|provisioned-model|custom-model)\/\S+|(?!arn:)[a-zA-Z0-9][\w.:-]{0,200})$/.test(
      props.classifyModelId,
    )
  ) {
    throw new Error(
      `classifyModelId "${props.classifyModelId}" is neither a Bedrock model id nor a Bedrock model/inference-profile ARN`,
    );
  }
  if (
    typeof props.kmsKeyArn === 'string' &&
    props.kmsKeyArn &&
    known(props.kmsKeyArn) &&
    !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/.+$/.test(props.kmsKeyArn)
  ) {
    throw new Error(`kmsKeyArn "${props.kmsKeyArn}" is not a KMS key ARN`);
  }
  if (
    props.permissionsBoundary &&
    known(props.permissionsBoundary) &&
    !/^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/.+$/.test(props.permissionsBoundary)
  ) {
    throw new Error(`permissionsBoundary "${props.permissionsBoundary}" is not an IAM policy ARN`);
  }
  if (props.runtimePolicyBundle && (props.policyVerification || props.prebuiltPolicyBundle)) {
    throw new Error('runtimePolicyBundle excludes prebuiltPolicyBundle and policyVerification');
  }
}

/**
 * Suture's self-healing CI/CD loop as least-privilege AWS resources: EventBridge rules wake a
 * triage function on pipeline failures (and release-health alarms); a Standard state machine
 * runs evidence → classification → plan → policy gate → (approval) → repair → bake → validation,
 * escalating to a human whenever anything is uncertain. Every part owns its resources; access
 * crosses parts only through grant methods that name exact actions on exact ARNs.
 */
export class SelfHealingLoop extends Construct {
  readonly namePrefix: string;
  readonly scope: LoopScope;
  readonly encryption: EncryptionKey;
  /** The key that signs the audit trail's digests. */
  readonly auditDigestKey: AuditDigestKey;
  readonly tables: LoopTables;
  readonly evidence: EvidenceBucket;
  readonly notifications: Notifications;
  /** The secret with the GitHub credentials pull requests are opened with (empty until an operator fills it). */
  readonly github: GitHubAccess;
  readonly policyBundle: PolicyBundle;
  readonly functions: LoopFunctions;
  readonly workflow: Workflow;
  readonly events: FailureEvents;
  /** Present when smoke checks were configured. */
  readonly smoke?: SmokeProject;
  /** Present when a runtime policy bundle was configured (module mode). */
  readonly policyStore?: PolicyStore;
  readonly approvalEndpoint: ApprovalEndpoint;
  readonly monitoring: Monitoring;
  /** Present when Bedrock settings were given. */
  readonly bedrock?: BedrockAgent;

  constructor(scope: Construct, id: string, input: SelfHealingLoopProps) {
    super(scope, id);
    const props = withDefaults(input);
    checkProps(props);
    const prefix = props.namePrefix;
    this.namePrefix = prefix;
    const retention = props.logRetentionDays;

    this.scope = new LoopScope(this, 'scope', {
      pipelines: props.pipelines,
      releaseHealthAlarms: props.releaseHealthAlarms,
    });
    this.encryption = new EncryptionKey(this, 'encryption', {
      namePrefix: prefix,
      scope: this.scope,
      ...(props.kmsKeyArn ? { existingKeyArn: props.kmsKeyArn } : {}),
    });
    const kmsKeyArn = this.encryption.keyArn;
    this.tables = new LoopTables(this, 'tables', { namePrefix: prefix, kmsKeyArn });
    this.evidence = new EvidenceBucket(this, 'evidence', {
      namePrefix: prefix,
      kmsKeyArn,
      retentionDays: props.evidenceRetentionDays,
      digestRetentionDays: props.auditDigestRetentionDays,
    });
    this.auditDigestKey = new AuditDigestKey(this, 'audit-digest', {
      namePrefix: prefix,
      scope: this.scope,
      ...(props.auditDigestSigningKeyArn ? { existingKeyArn: props.auditDigestSigningKeyArn } : {}),
    });
    this.notifications = new Notifications(this, 'notifications', {
      namePrefix: prefix,
      kmsKeyArn,
      emails: props.notificationEmails,
    });
    this.github = new GitHubAccess(this, 'github', { namePrefix: prefix, kmsKeyArn });
    this.policyBundle = new PolicyBundle(this, 'policy', {
      ...(props.prebuiltPolicyBundle ? { prebuiltBundle: props.prebuiltPolicyBundle } : {}),
    });
    this.functions = new LoopFunctions(this, 'functions', {
      namePrefix: prefix,
      functions: LOOP_FUNCTION_NAMES,
      policyBundleFile: this.policyBundle.file,
      kmsKeyArn,
      logRetentionDays: retention,
      environment: { SUTURE_AUDIT_TABLE: this.tables.tables.audit.name },
      ...(props.prebuiltFunctionPackages ? { prebuiltPackages: props.prebuiltFunctionPackages } : {}),
    });
    if (props.smokeChecks) {
      this.smoke = new SmokeProject(this, 'smoke', {
        namePrefix: prefix,
        scope: this.scope,
        kmsKeyArn,
        logRetentionDays: retention,
        ...(props.smokeChecks.buildspec ? { buildspec: props.smokeChecks.buildspec } : {}),
        ...(props.smokeChecks.count === undefined ? {} : { count: props.smokeChecks.count }),
      });
    }
    if (props.runtimePolicyBundle) {
      this.policyStore = new PolicyStore(this, 'policy-store', {
        namePrefix: prefix,
        kmsKeyArn,
        count: props.runtimePolicyBundle.count,
        path: props.runtimePolicyBundle.path,
        sha256: props.runtimePolicyBundle.sha256,
      });
    }
    this.workflow = new Workflow(this, 'workflow', {
      namePrefix: prefix,
      scope: this.scope,
      functions: this.functions,
      kmsKeyArn,
      logRetentionDays: retention,
      bakeSeconds: props.bakeSeconds,
      approvalTimeoutSeconds: props.approvalTimeoutSeconds,
      ...(this.smoke ? { smokeProject: this.smoke } : {}),
    });
    this.events = new FailureEvents(this, 'events', {
      namePrefix: prefix,
      scope: this.scope,
      kmsKeyArn,
      triage: this.functions.get('triage'),
    });
    this.approvalEndpoint = new ApprovalEndpoint(this, 'approval', {
      approval: this.functions.get('approval'),
      ...(props.approverPrincipals ? { approverPrincipals: props.approverPrincipals } : {}),
    });
    if (props.bedrock) {
      this.bedrock = new BedrockAgent(this, 'bedrock', {
        ...props.bedrock,
        namePrefix: prefix,
        scope: this.scope,
        kmsKeyArn,
      });
    }
    this.monitoring = new Monitoring(this, 'monitoring', {
      namePrefix: prefix,
      region: this.scope.region,
      stateMachine: this.workflow.stateMachine,
      deadLetterQueue: this.events.deadLetterQueue,
      alarmTopicArn: this.notifications.topic.arn,
      escalationsPerHourThreshold: props.escalationsPerHourThreshold,
      denialsPerHourThreshold: props.denialsPerHourThreshold,
    });

    this.wireFunctions(props);
    const loopTag = { 'suture:loop': prefix };
    const tags = Token.isUnresolved(props.tags)
      ? Fn.merge([props.tags, loopTag])
      : { ...props.tags, ...loopTag };
    Aspects.of(this).add(new TagResources(tags));
    if (props.permissionsBoundary) Aspects.of(this).add(new PermissionsBoundary(props.permissionsBoundary));
    Aspects.of(this).add(new LoopChecks());
    this.node.addValidation({ validate: () => this.validateWiring() });
  }

  /** The environment and the grants of each function, per docs/workflow.md. */
  private wireFunctions(props: ResolvedProps): void {
    const fn = (name: LoopFunctionName): LoopFunction => this.functions.get(name);
    const { tables, scope: where } = this;
    for (const each of this.functions.all()) {
      this.encryption.grantEncryptDecrypt(each.role);
      // The audit trail is append-only: no function may update or delete a record.
      tables.grant(each.role, 'audit', 'append');
    }

    const triage = fn('triage');
    triage.addEnvironment('SUTURE_STATE_MACHINE_ARN', this.workflow.stateMachine.arn);
    triage.addEnvironment('SUTURE_GUARD_TABLE', tables.tables.guard.name);
    triage.addEnvironment('SUTURE_SCOPE', where.scopeJson);
    triage.addEnvironment('SUTURE_ALARM_TARGETS', where.alarmTargetsJson);
    this.workflow.grantStartExecution(triage.role);
    tables.grant(triage.role, 'guard', 'read-write');
    this.grantReadPipelines(triage.role, ['codepipeline:GetPipelineState']);
    // loop_detected ends an incident in triage (no workflow follows): triage seals its chain.
    this.wireSealing(triage, props);

    const collect = fn('collect-evidence');
    collect.addEnvironment('SUTURE_EVIDENCE_BUCKET', this.evidence.bucket.bucket);
    collect.addEnvironment('SUTURE_GUARD_TABLE', tables.tables.guard.name);
    collect.addEnvironment('SUTURE_ALARM_NAMES', where.alarmNamesJson);
    collect.addEnvironment('SUTURE_PROTECTED_STAGES', where.protectedStagesJson);
    collect.addEnvironment('SUTURE_EVIDENCE_KMS_KEY_ID', this.encryption.keyArn);
    this.evidence.grantReadWrite(collect.role, 'evidence/');
    // Read-write: completing an incident may count its attempt under the completed fingerprint.
    tables.grant(collect.role, 'guard', 'read-write');
    this.grantReadPipelines(collect.role, [
      'codepipeline:GetPipeline',
      'codepipeline:GetPipelineExecution',
      'codepipeline:GetPipelineState',
      'codepipeline:ListActionExecutions',
      'codepipeline:ListPipelineExecutions',
      'codepipeline:ListTagsForResource',
    ]);
    this.grantReadAlarms(collect.role);
    const { partition, region, accountId } = where;
    collect.role.addPolicy('build-logs', [
      {
        sid: 'ReadBuilds',
        actions: ['codebuild:BatchGetBuilds'],
        resources: [`arn:${partition}:codebuild:${region}:${accountId}:project/*`],
      },
      {
        sid: 'ReadBuildLogs',
        actions: ['logs:FilterLogEvents', 'logs:GetLogEvents'],
        resources: [
          `arn:${partition}:logs:${region}:${accountId}:log-group:/aws/codebuild/*`,
          `arn:${partition}:logs:${region}:${accountId}:log-group:/aws/codebuild/*:log-stream:*`,
        ],
      },
    ]);

    if (props.classifyModelId !== undefined) {
      const modelId = props.classifyModelId;
      const count = props.classifyModelCount;
      const classify = fn('classify');
      if (count === undefined) classify.addEnvironment('SUTURE_CLASSIFY_MODEL_ID', modelId);
      else classify.addConditionalEnvironment(count, { SUTURE_CLASSIFY_MODEL_ID: modelId });
      const foundationModel = `arn:${partition}:bedrock:${region}::foundation-model/${modelId}`;
      const modelArn = !Token.isUnresolved(modelId)
        ? modelId.startsWith('arn:')
          ? modelId
          : foundationModel
        : Token.asString(conditional(Fn.startswith(modelId, 'arn:'), modelId, foundationModel));
      // Converse is authorised by bedrock:InvokeModel, on this model only.
      classify.role.addPolicy(
        'classify-model',
        [{ sid: 'InvokeClassifierModel', actions: ['bedrock:InvokeModel'], resources: [modelArn] }],
        count === undefined ? {} : { count },
      );
    }

    const plan = fn('plan');
    if (this.bedrock) {
      const variables = {
        SUTURE_BEDROCK_AGENT_ID: this.bedrock.agentId,
        SUTURE_BEDROCK_AGENT_ALIAS_ID: this.bedrock.aliasId,
        SUTURE_BEDROCK_TIMEOUT_MS: numberText(this.bedrock.timeoutMs),
      };
      if (this.bedrock.count === undefined) {
        Object.entries(variables).forEach(([name, value]) => plan.addEnvironment(name, value));
      } else {
        plan.addConditionalEnvironment(this.bedrock.count, variables);
      }
      this.bedrock.grantInvoke(plan.role);
    }

    const policyEnvironment = this.policyEnvironment(props);
    for (const name of ['policy-gate', 'execute'] as const) {
      Object.entries(policyEnvironment).forEach(([key, value]) => fn(name).addEnvironment(key, value));
      this.wireRuntimePolicyBundle(fn(name), props.runtimePolicyBundle);
    }

    const execute = fn('execute');
    execute.addEnvironment('SUTURE_IDEMPOTENCY_TABLE', tables.tables.idempotency.name);
    execute.addEnvironment('SUTURE_EVIDENCE_BUCKET', this.evidence.bucket.bucket);
    // open_patch_proposal announces the stored patch on the topic.
    execute.addEnvironment('SUTURE_TOPIC_ARN', this.notifications.topic.arn);
    // open_patch_proposal and revert_commit open pull requests with the credentials in this secret.
    execute.addEnvironment('SUTURE_GITHUB_SECRET_ARN', this.github.secret.arn);
    execute.addEnvironment('SUTURE_GITHUB_API_URL', props.githubApiUrl ?? GITHUB_API_URL);
    this.github.grantRead(execute.role);
    tables.grant(execute.role, 'idempotency', 'idempotency');
    this.evidence.grantReadWrite(execute.role, 'patches/');
    this.notifications.grantPublish(execute.role);
    execute.role.addPolicy('repair-pipelines', [
      {
        sid: 'RepairPipelinesInScope',
        actions: [
          'codepipeline:GetPipelineExecution',
          'codepipeline:GetPipelineState',
          'codepipeline:ListPipelineExecutions',
          'codepipeline:RetryStageExecution',
          'codepipeline:RollbackStage',
          'codepipeline:StartPipelineExecution',
          'codepipeline:StopPipelineExecution',
        ],
        resources: Token.asList(Fn.concat([where.pipelineArns, where.pipelineStageArns])),
      },
      {
        sid: 'RevertParametersInScope',
        actions: ['ssm:GetParameterHistory', 'ssm:PutParameter'],
        resources: where.revertibleParameterArns,
      },
    ]);

    // redrive_execution: only executions of the state machines the pipelines name.
    const redrive = [
      {
        sid: 'RedriveWorkflowsInScope',
        actions: ['states:DescribeExecution', 'states:RedriveExecution'],
        resources: where.redrivableExecutionArns,
      },
    ];
    if (where.hasRedrivable === undefined)
      execute.role.addPolicy('redrive-workflows', redrive, { count: where.redriveCountExpression });
    else if (where.hasRedrivable) execute.role.addPolicy('redrive-workflows', redrive);

    const validate = fn('validate');
    validate.addEnvironment('SUTURE_GUARD_TABLE', tables.tables.guard.name);
    validate.addEnvironment('SUTURE_ALARM_NAMES', where.alarmNamesJson);
    if (this.smoke) {
      if (this.smoke.count === undefined)
        validate.addEnvironment('SUTURE_SMOKE_PROJECT', this.smoke.project.name);
      else validate.addConditionalEnvironment(this.smoke.count, { SUTURE_SMOKE_PROJECT: this.smoke.name });
      this.smoke.grantReadBuilds(validate.role);
    }
    tables.grant(validate.role, 'guard', 'read-write');
    this.grantReadPipelines(validate.role, [
      'codepipeline:GetPipelineExecution',
      'codepipeline:GetPipelineState',
      'codepipeline:ListActionExecutions',
      'codepipeline:ListPipelineExecutions',
    ]);
    this.grantReadAlarms(validate.role);

    const notify = fn('notify');
    notify.addEnvironment('SUTURE_TOPIC_ARN', this.notifications.topic.arn);
    notify.addEnvironment('SUTURE_APPROVAL_TABLE', tables.tables.approvals.name);
    notify.addEnvironment('SUTURE_APPROVAL_TTL_SECONDS', numberText(props.approvalTimeoutSeconds));
    notify.addEnvironment('SUTURE_APPROVAL_URL', this.approvalEndpoint.url.functionUrl);
    this.notifications.grantPublish(notify.role);
    tables.grant(notify.role, 'approvals', 'read-write');
    // Escalate and NotifyResolved end the workflow: notify seals the incident's audit chain.
    this.wireSealing(notify, props);

    const approval = fn('approval');
    approval.addEnvironment('SUTURE_APPROVAL_TABLE', tables.tables.approvals.name);
    tables.grant(approval.role, 'approvals', 'read-write');
    this.workflow.grantSendTaskResult(approval.role);
  }

  /**
   * A function that writes an incident's last audit record seals the chain: it signs with the
   * digest key and puts the digest under `digests/` (docs/audit.md).
   */
  private wireSealing(fn: LoopFunction, props: ResolvedProps): void {
    fn.addEnvironment('SUTURE_EVIDENCE_BUCKET', this.evidence.bucket.bucket);
    fn.addEnvironment('SUTURE_DIGEST_KEY_ARN', this.auditDigestKey.keyArn);
    fn.addEnvironment('SUTURE_DIGEST_RETENTION_DAYS', numberText(props.auditDigestRetentionDays));
    this.auditDigestKey.grantSign(fn.role);
    this.evidence.grantWriteDigests(fn.role);
  }

  /** `SUTURE_POLICY_*` for the functions that evaluate the bundle they ship. */
  private policyEnvironment(props: ResolvedProps): Record<string, string> {
    const runtime = props.runtimePolicyBundle;
    if (runtime) {
      // The given bundle's pin and signature rule, or the packaged bundle's when none was given.
      return {
        SUTURE_POLICY_BUNDLE_SHA256: Token.asString(
          `\${${Token.asString(runtime.count)} > 0 ? ${runtime.sha256} : "${this.policyBundle.sha256}"}`,
        ),
        SUTURE_POLICY_ALLOW_UNSIGNED: runtime.allowUnsigned,
      };
    }
    const environment: Record<string, string> = { SUTURE_POLICY_BUNDLE_SHA256: this.policyBundle.sha256 };
    const verification = props.policyVerification;
    if (!verification) return { ...environment, SUTURE_POLICY_ALLOW_UNSIGNED: 'true' };
    return {
      ...environment,
      SUTURE_POLICY_ALLOW_UNSIGNED: 'false',
      SUTURE_POLICY_VERIFICATION_KEY: verification.publicKeyPem,
      ...(verification.keyId ? { SUTURE_POLICY_KEY_ID: verification.keyId } : {}),
      ...(verification.scope !== undefined ? { SUTURE_POLICY_SCOPE: verification.scope } : {}),
    };
  }

  /** Module mode: where `fn` reads the given bundle (and how it verifies it), when one was given. */
  private wireRuntimePolicyBundle(fn: LoopFunction, runtime: RuntimePolicyBundle | undefined): void {
    if (!runtime || !this.policyStore) return;
    fn.addConditionalEnvironment(runtime.count, { SUTURE_POLICY_BUNDLE: this.policyStore.uri });
    for (const [name, setting] of Object.entries(runtime.verification)) {
      fn.addConditionalEnvironment(setting.count, { [name]: setting.value });
    }
    this.policyStore.grantRead(fn.role);
  }

  /** Read-only CodePipeline actions on the pipelines in scope. */
  private grantReadPipelines(role: LoopRole, actions: readonly string[]): void {
    role.addPolicy('read-pipelines', [
      { sid: 'ReadPipelinesInScope', actions: [...actions].sort(), resources: this.scope.pipelineArns },
    ]);
  }

  /**
   * `cloudwatch:DescribeAlarms` on the release-health alarms. The loop's own alarms are listed
   * too, so the statement never names an empty resource list when no alarms are configured.
   */
  private grantReadAlarms(role: LoopRole): void {
    const { partition, region, accountId } = this.scope;
    const own = `arn:${partition}:cloudwatch:${region}:${accountId}:alarm:${this.namePrefix}-*`;
    role.addPolicy('read-alarms', [
      {
        sid: 'ReadReleaseHealthAlarms',
        actions: ['cloudwatch:DescribeAlarms'],
        resources: Token.asList(Fn.concat([this.scope.alarmArns, [own]])),
      },
    ]);
  }

  /** Cross-part rules checked at synth: every function the workflow invokes is part of the loop. */
  private validateWiring(): string[] {
    const errors: string[] = [];
    for (const name of WORKFLOW_FUNCTIONS) {
      try {
        this.functions.get(name);
      } catch {
        errors.push(`the workflow invokes ${name}, which is not part of the loop`);
      }
    }
    return errors;
  }
}
