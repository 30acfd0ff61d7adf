import {
  DataAwsIamPolicyDocument,
  type DataAwsIamPolicyDocumentStatement,
} from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey, type KmsKeyConfig } from '@cdktf/provider-aws/lib/kms-key';
import { TerraformLocal, Token } from 'cdktf';
import type { Construct } from 'constructs';
import { splat } from '../iam';
import type { LoopScope } from './scope';

/**
 * Module mode: a Terraform reference to a key ARN that may be null at apply time
 * (`var.kms_key_arn`). The key is created only when it is null.
 */
export interface NullableKeyArn {
  /** A reference (variable or local), e.g. `TerraformVariable.stringValue`. */
  readonly nullable: string;
}

/** What {@link optionalKmsKey} creates when no key was given. */
export interface OptionalKmsKeySpec {
  readonly scope: LoopScope;
  /** The key to use instead; a string is used as is, a {@link NullableKeyArn} decides at apply time. */
  readonly existingKeyArn: string | NullableKeyArn | undefined;
  /**
   * Key administration, delegated to IAM in the account (the root principal), spelled out
   * instead of kms:*; the key's own use actions are appended for the same principal.
   */
  readonly accountActions: readonly string[];
  /** Further statements of the key policy (services that use the key). */
  readonly serviceStatements?: (scope: LoopScope) => DataAwsIamPolicyDocumentStatement[];
  /** The key's settings besides its policy and count. */
  readonly key: Omit<KmsKeyConfig, 'policy' | 'count'>;
  readonly aliasName: string;
}

/**
 * A customer managed KMS key with its policy and alias, created in `construct` unless one was
 * given (module mode: `count` decides at apply time), with one ARN for every reference. The
 * ids (`create-count`, `policy`, `key`, `alias`, `arn`) are the construct's, so the Terraform
 * addresses stay those of the part that calls it.
 */
export function optionalKmsKey(
  construct: Construct,
  spec: OptionalKmsKeySpec,
): { readonly keyArn: string; readonly key?: KmsKey } {
  const existing = spec.existingKeyArn;
  if (typeof existing === 'string' && existing) return { keyArn: existing };
  const nullable = typeof existing === 'object' ? existing.nullable : undefined;
  // Module mode: 1 when no key ARN was given (create one), 0 otherwise.
  const count =
    nullable === undefined
      ? undefined
      : new TerraformLocal(construct, 'create-count', `\${${nullable} == null ? 1 : 0}`).asNumber;
  const counted = count === undefined ? {} : { count };
  const { accountId, partition } = spec.scope;
  const policy = new DataAwsIamPolicyDocument(construct, 'policy', {
    ...counted,
    statement: [
      {
        // Without this statement the key is unmanageable; it delegates to IAM policies in the
        // account rather than naming people here.
        sid: 'AccountAdministersKey',
        effect: 'Allow',
        principals: [{ type: 'AWS', identifiers: [`arn:${partition}:iam::${accountId}:root`] }],
        actions: [...spec.accountActions],
        resources: ['*'],
      },
      ...(spec.serviceStatements?.(spec.scope) ?? []),
    ],
  });
  const key = new KmsKey(construct, 'key', {
    ...counted,
    ...spec.key,
    policy: count === undefined ? policy.json : splat(policy, 'json'),
  });
  new KmsAlias(construct, 'alias', {
    ...counted,
    name: spec.aliasName,
    targetKeyId: count === undefined ? key.keyId : splat(key, 'key_id'),
  });
  // A local, so that every store and log group references one expression.
  const keyArn =
    nullable === undefined
      ? key.arn
      : new TerraformLocal(
          construct,
          'arn',
          Token.asString(`\${${nullable} == null ? one(${key.fqn}[*].arn) : ${nullable}}`),
        ).asString;
  return { keyArn, key };
}
