import type { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { Construct } from 'constructs';
import type { LoopRole } from '../iam';
import { optionalKmsKey, type NullableKeyArn } from './kms-key';
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

export type { NullableKeyArn } from './kms-key';

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
    const created = optionalKmsKey(this, {
      scope: props.scope,
      existingKeyArn: props.existingKeyArn,
      accountActions: [...KEY_ADMIN_ACTIONS, ...KEY_USE_ACTIONS],
      serviceStatements: ({ accountId, region, partition }) => [
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
      key: {
        description: `${props.namePrefix}: encrypts the self-healing loop's stores and logs`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
      },
      aliasName: `alias/${props.namePrefix}`,
    });
    this.keyArn = created.keyArn;
    if (created.key) this.key = created.key;
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
