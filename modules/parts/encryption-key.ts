import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { TerraformLocal, Token } from 'cdktf';
import { Construct } from 'constructs';
import { splat, type LoopRole } from '../iam';
import type { LoopScope } from './scope';

/** Props of {@link EncryptionKey}. */
export interface EncryptionKeyProps {
  readonly namePrefix: string;
  readonly scope: LoopScope;
  /**
   * A customer managed key to use instead of creating one. Its key policy must let CloudWatch
   * Logs, EventBridge and CloudWatch alarms use it (the statements this part writes for its own key).
   * @default a new key, rotated yearly
   */
  readonly existingKeyArn?: string | NullableKeyArn;
}

/**
 * Module mode: a Terraform reference to a key ARN that may be null at apply time
 * (`var.kms_key_arn`). The key is created only when it is null.
 */
export interface NullableKeyArn {
  /** A reference (variable or local), e.g. `TerraformVariable.stringValue`. */
  readonly nullable: string;
}

/**
 * The customer managed KMS key every store and log group of the loop is encrypted with. Key
 * administration stays with the account (IAM decides who administers it); services get only
 * the data-key actions they use, conditioned on this account.
 */
export class EncryptionKey extends Construct {
  /** ARN of the key. */
  readonly keyArn: string;
  /** The key this part created; undefined when an existing key was given. */
  readonly key?: KmsKey;

  constructor(scope: Construct, id: string, props: EncryptionKeyProps) {
    super(scope, id);
    const existing = props.existingKeyArn;
    if (typeof existing === 'string' && existing) {
      this.keyArn = existing;
      return;
    }
    const nullable = typeof existing === 'object' ? existing.nullable : undefined;
    // Module mode: 1 when no key ARN was given (create one), 0 otherwise.
    const count =
      nullable === undefined
        ? undefined
        : new TerraformLocal(this, 'create-count', `\${${nullable} == null ? 1 : 0}`).asNumber;
    const counted = count === undefined ? {} : { count };
    const { accountId, region, partition } = props.scope;
    const root = `arn:${partition}:iam::${accountId}:root`;
    const policy = new DataAwsIamPolicyDocument(this, 'policy', {
      ...counted,
      statement: [
        {
          // Without this statement the key is unmanageable; it delegates to IAM policies in the
          // account rather than naming people here. Exact actions, no kms:*.
          sid: 'AccountAdministersKey',
          effect: 'Allow',
          principals: [{ type: 'AWS', identifiers: [root] }],
          actions: [...KEY_ADMIN_ACTIONS, ...KEY_USE_ACTIONS],
          resources: ['*'],
        },
        {
          sid: 'CloudWatchLogsEncryptsLoopLogs',
          effect: 'Allow',
          principals: [{ type: 'Service', identifiers: [`logs.${region}.amazonaws.com`] }],
          actions: KEY_USE_ACTIONS,
          resources: ['*'],
          condition: [
            {
              test: 'ArnLike',
              variable: 'kms:EncryptionContext:aws:logs:arn',
              values: [`arn:${partition}:logs:${region}:${accountId}:log-group:*`],
            },
          ],
        },
        {
          // EventBridge writes undeliverable events to the encrypted dead-letter queue;
          // CloudWatch alarms publish to the encrypted topic.
          sid: 'ServicesWriteEncryptedMessages',
          effect: 'Allow',
          principals: [
            { type: 'Service', identifiers: ['events.amazonaws.com', 'cloudwatch.amazonaws.com'] },
          ],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: ['*'],
          condition: [{ test: 'StringEquals', variable: 'aws:SourceAccount', values: [accountId] }],
        },
      ],
    });
    this.key = new KmsKey(this, 'key', {
      ...counted,
      description: `${props.namePrefix}: encrypts the self-healing loop's stores and logs`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: count === undefined ? policy.json : splat(policy, 'json'),
    });
    new KmsAlias(this, 'alias', {
      ...counted,
      name: `alias/${props.namePrefix}`,
      targetKeyId: count === undefined ? this.key.keyId : splat(this.key, 'key_id'),
    });
    if (nullable === undefined) {
      this.keyArn = this.key.arn;
    } else {
      // A local, so that every store and log group references one expression.
      this.keyArn = new TerraformLocal(
        this,
        'arn',
        Token.asString(`\${${nullable} == null ? one(${this.key.fqn}[*].arn) : ${nullable}}`),
      ).asString;
    }
  }

  /** Lets `role` encrypt and decrypt data under the key (S3, DynamoDB, SNS, SQS through their APIs). */
  grantEncryptDecrypt(role: LoopRole): void {
    role.addPolicy('kms', [
      {
        sid: 'UseLoopKey',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: [this.keyArn],
      },
    ]);
  }
}

/** Administration of the key (no data access), spelled out instead of kms:*. */
const KEY_ADMIN_ACTIONS = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:CreateGrant',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:DisableKeyRotation',
  'kms:EnableKey',
  'kms:EnableKeyRotation',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListAliases',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:RetireGrant',
  'kms:RevokeGrant',
  'kms:RotateKeyOnDemand',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
];

/** What a service needs to encrypt and decrypt under the key. */
const KEY_USE_ACTIONS = [
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
];
