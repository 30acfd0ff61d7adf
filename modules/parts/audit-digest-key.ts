import type { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { Construct } from 'constructs';
import { DIGEST_KEY_SPEC } from '../../functions/commons/audit/digest';
import type { LoopRole } from '../iam';
import { optionalKmsKey, type NullableKeyArn } from './kms-key';
import type { LoopScope } from './scope';

/** Props of {@link AuditDigestKey}. */
export interface AuditDigestKeyProps {
  readonly namePrefix: string;
  readonly scope: LoopScope;
  /**
   * An asymmetric KMS key (key usage SIGN_VERIFY, key spec RSA_2048) to sign digests with
   * instead of creating one (module mode: a reference that may be null).
   * @default a new key
   */
  readonly existingKeyArn?: string | NullableKeyArn;
}

/**
 * The asymmetric KMS key that signs the audit trail's digests (docs/audit.md): RSA_2048,
 * SIGN_VERIFY, used with RSASSA_PKCS1_V1_5_SHA_256. Its private half never leaves KMS; the
 * account administers it through IAM, the loop's sealing function may only `kms:Sign` with
 * it, and anyone the account lets may verify. Asymmetric keys have no automatic rotation.
 */
export class AuditDigestKey extends Construct {
  /** ARN of the signing key. */
  readonly keyArn: string;
  /** The key this part created; undefined when an existing key was given. */
  readonly key?: KmsKey;

  constructor(scope: Construct, id: string, props: AuditDigestKeyProps) {
    super(scope, id);
    const created = optionalKmsKey(this, {
      scope: props.scope,
      existingKeyArn: props.existingKeyArn,
      // Administration and use are delegated to IAM policies in the account (the loop's roles
      // get kms:Sign on this key only); no service principal signs with it.
      accountActions: [...SIGNING_KEY_ADMIN_ACTIONS, 'kms:GetPublicKey', 'kms:Sign', 'kms:Verify'].sort(),
      key: {
        description: `${props.namePrefix}: signs the audit trail's digests (tail truncation evidence)`,
        keyUsage: 'SIGN_VERIFY',
        customerMasterKeySpec: DIGEST_KEY_SPEC,
        deletionWindowInDays: 30,
      },
      aliasName: `alias/${props.namePrefix}-audit-digest`,
    });
    this.keyArn = created.keyArn;
    if (created.key) this.key = created.key;
  }

  /** Lets `role` sign with the key (and nothing else with it). */
  grantSign(role: LoopRole): void {
    role.addPolicy('audit-digest-signing', [
      { sid: 'SignAuditDigests', actions: ['kms:Sign'], resources: [this.keyArn] },
    ]);
  }
}

/** Administration of the signing key, spelled out instead of kms:* (no rotation: asymmetric). */
const SIGNING_KEY_ADMIN_ACTIONS = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:EnableKey',
  'kms:GetKeyPolicy',
  'kms:ListAliases',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:RevokeGrant',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
];
