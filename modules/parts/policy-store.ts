import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { S3Object } from '@cdktf/provider-aws/lib/s3-object';
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { splat, type LoopRole } from '../iam';

/** Props of {@link PolicyStore}. */
export interface PolicyStoreProps {
  readonly namePrefix: string;
  readonly kmsKeyArn: string;
  /** A Terraform number (0 or 1): whether a consumer bundle was given. */
  readonly count: number;
  /** Local path of the bundle archive as Terraform reads it (e.g. `var.policy_bundle.path`). */
  readonly path: string;
  /** Lower-case hex SHA-256 of the archive (names the object, so a new bundle is a new object). */
  readonly sha256: string;
}

/** Prefix of the bundle objects in the policy bucket. */
export const POLICY_OBJECT_PREFIX = 'bundles/';

/**
 * Module mode: the consumer's own policy bundle, uploaded by Terraform from a local file to a
 * bucket of its own, which the functions that evaluate policy read once per cold start
 * (`SUTURE_POLICY_BUNDLE=s3://…`) and pin by SHA-256. Only Terraform writes the bucket; the
 * functions may only read `bundles/*`. SSE-KMS with the loop's key, public access blocked,
 * TLS-only, versioned (old versions expire), no expiry of the current bundle. Every resource
 * exists only when a bundle was given (`count`).
 */
export class PolicyStore extends Construct {
  readonly bucket: S3Bucket;
  readonly object: S3Object;
  private readonly count: number;

  constructor(scope: Construct, id: string, props: PolicyStoreProps) {
    super(scope, id);
    this.count = props.count;
    const counted = { count: props.count };
    this.bucket = new S3Bucket(this, 'bucket', {
      ...counted,
      bucketPrefix: `${props.namePrefix}-policy-`,
      forceDestroy: false,
    });
    // Companions reference the bucket's one instance; they exist exactly when it does.
    const bucket = Token.asString(`\${${this.bucket.fqn}[0].id}`);
    new S3BucketPublicAccessBlock(this, 'public-access', {
      ...counted,
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, 'ownership', {
      ...counted,
      bucket,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    });
    new S3BucketVersioningA(this, 'versioning', {
      ...counted,
      bucket,
      versioningConfiguration: { status: 'Enabled' },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, 'encryption', {
      ...counted,
      bucket,
      rule: [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: props.kmsKeyArn },
          bucketKeyEnabled: true,
        },
      ],
    });
    new S3BucketLifecycleConfiguration(this, 'lifecycle', {
      ...counted,
      bucket,
      rule: [
        {
          // The current bundle never expires (the gate reads it at every cold start).
          id: 'expire-replaced-bundles',
          status: 'Enabled',
          filter: [{ prefix: '' }],
          noncurrentVersionExpiration: [{ noncurrentDays: 30 }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
    });
    const arn = Token.asString(`\${${this.bucket.fqn}[0].arn}`);
    const tlsOnly = new DataAwsIamPolicyDocument(this, 'tls-only', {
      ...counted,
      statement: [
        {
          sid: 'DenyInsecureTransport',
          effect: 'Deny',
          principals: [{ type: '*', identifiers: ['*'] }],
          actions: ['s3:*'],
          resources: [arn, `${arn}/*`],
          condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
        },
      ],
    });
    new S3BucketPolicy(this, 'policy', { ...counted, bucket, policy: splat(tlsOnly, 'json') });
    this.object = new S3Object(this, 'bundle', {
      ...counted,
      bucket,
      key: `${POLICY_OBJECT_PREFIX}${props.sha256}.tar.gz`,
      source: props.path,
      // The key changes with the content; the hash also catches a file edited under the same pin.
      sourceHash: Token.asString(`\${filesha256(${props.path})}`),
      contentType: 'application/gzip',
      serverSideEncryption: 'aws:kms',
      kmsKeyId: props.kmsKeyArn,
    });
  }

  /** `s3://bucket/key` of the bundle (null when no bundle was given). */
  get uri(): string {
    // A null inside a template is an error in Terraform ("Cannot include a null value in a
    // string template"), so the URI is built only when the bucket exists.
    const bucket = this.bucket.fqn;
    const object = this.object.fqn;
    return Token.asString(
      `\${length(${bucket}) == 0 ? null : "s3://\${${bucket}[0].id}/\${${object}[0].key}"}`,
    );
  }

  /** Lets `role` read the bundle objects (a policy that exists with the bucket). */
  grantRead(role: LoopRole): void {
    role.addPolicy(
      'policy-bundle',
      [
        {
          sid: 'ReadPolicyBundle',
          actions: ['s3:GetObject'],
          resources: [`${splat(this.bucket, 'arn')}/${POLICY_OBJECT_PREFIX}*`],
        },
      ],
      { count: this.count },
    );
  }
}
