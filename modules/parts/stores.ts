import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketObjectLockConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-object-lock-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { Construct } from 'constructs';
import type { LoopRole } from '../iam';

/** What a table is for; each has its own key schema and TTL attribute. */
export type LoopTableKind = 'guard' | 'audit' | 'idempotency' | 'approvals';

interface TableSchema {
  readonly hashKey: string;
  readonly rangeKey?: { readonly name: string; readonly type: 'N' | 'S' };
  readonly ttlAttribute?: string;
  readonly purpose: string;
}

/** Key schemas the functions rely on (functions/commons/loop-guard, audit; Powertools idempotency). */
const TABLES: Readonly<Record<LoopTableKind, TableSchema>> = {
  guard: { hashKey: 'pk', ttlAttribute: 'expires_at', purpose: 'dedupe and attempt budgets (loop guard)' },
  audit: {
    hashKey: 'incident_id',
    rangeKey: { name: 'seq', type: 'N' },
    purpose: 'hash-chained audit trail',
  },
  idempotency: { hashKey: 'id', ttlAttribute: 'expiration', purpose: 'Powertools idempotency of execute' },
  approvals: {
    hashKey: 'approval_id',
    ttlAttribute: 'expires_at',
    purpose: 'pending approvals and task tokens',
  },
};

/**
 * Access levels a function can be granted on a table. `append` is the audit trail's: put new
 * records (the trail's conditional put refuses to overwrite) and read them back, never update
 * or delete one.
 */
export type TableAccess = 'read' | 'write' | 'read-write' | 'append' | 'idempotency';

const APPEND_ACTIONS = ['dynamodb:PutItem', 'dynamodb:Query'];
/** Powertools idempotency's persistence layer: get, put, update, and delete a record on failure. */
const IDEMPOTENCY_ACTIONS = [
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
];

// Only what the handlers call (IAM replay in `suture simulate` lists grants no call used): items
// are read by key, written by conditional put or update (alone or in a transaction), and
// never deleted; the loop's records expire by TTL.
const READ_ACTIONS = ['dynamodb:BatchGetItem', 'dynamodb:GetItem'];
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem'];

/** Props of {@link LoopTables}. */
export interface LoopTablesProps {
  readonly namePrefix: string;
  readonly kmsKeyArn: string;
}

/**
 * The loop's DynamoDB tables: on-demand, encrypted with the loop's key, point-in-time
 * recovery on, deletion protection on, TTL where items expire.
 */
export class LoopTables extends Construct {
  readonly tables: Readonly<Record<LoopTableKind, DynamodbTable>>;

  constructor(scope: Construct, id: string, props: LoopTablesProps) {
    super(scope, id);
    const entries = (Object.keys(TABLES) as LoopTableKind[]).map((kind) => {
      const schema = TABLES[kind];
      const table = new DynamodbTable(this, kind, {
        name: `${props.namePrefix}-${kind}`,
        billingMode: 'PAY_PER_REQUEST',
        hashKey: schema.hashKey,
        ...(schema.rangeKey ? { rangeKey: schema.rangeKey.name } : {}),
        attribute: [
          { name: schema.hashKey, type: 'S' },
          ...(schema.rangeKey ? [{ name: schema.rangeKey.name, type: schema.rangeKey.type }] : []),
        ],
        ...(schema.ttlAttribute ? { ttl: { attributeName: schema.ttlAttribute, enabled: true } } : {}),
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true, kmsKeyArn: props.kmsKeyArn },
        deletionProtectionEnabled: true,
      });
      return [kind, table] as const;
    });
    this.tables = Object.fromEntries(entries) as Record<LoopTableKind, DynamodbTable>;
  }

  /** Grants exact item actions on one table. */
  grant(role: LoopRole, kind: LoopTableKind, access: TableAccess): void {
    const actions = new Set<string>();
    if (access === 'append') APPEND_ACTIONS.forEach((action) => actions.add(action));
    else if (access === 'idempotency') IDEMPOTENCY_ACTIONS.forEach((action) => actions.add(action));
    else {
      if (access !== 'write') READ_ACTIONS.forEach((action) => actions.add(action));
      if (access !== 'read') WRITE_ACTIONS.forEach((action) => actions.add(action));
    }
    role.addPolicy(`${kind}-table`, [
      {
        sid: `${pascal(kind)}Table${pascal(access)}`,
        actions: [...actions].sort(),
        resources: [this.tables[kind].arn],
      },
    ]);
  }
}

function pascal(value: string): string {
  return value
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** Props of {@link EvidenceBucket}. */
export interface EvidenceBucketProps {
  readonly namePrefix: string;
  readonly kmsKeyArn: string;
  /** Days before evidence (current versions) expires. */
  readonly retentionDays: number;
  /** Days each audit digest under `digests/` is locked (and then kept until it expires). */
  readonly digestRetentionDays: number;
}

/** Where the audit digests lie in the bucket (functions/commons/audit/digest.ts, DIGEST_PREFIX). */
export const DIGESTS_PREFIX = 'digests/';

/** What no principal may do to a digest object, whatever its own policies allow. */
export const DIGEST_PROTECTED_ACTIONS = [
  's3:BypassGovernanceRetention',
  's3:DeleteObject',
  's3:DeleteObjectVersion',
];

/**
 * The S3 bucket holding full evidence records, patch proposals and the audit trail's signed
 * digests: SSE-KMS with a bucket key, every public access blocked, TLS-only, versioned, objects
 * owned by the bucket owner, and a lifecycle that expires evidence and old versions.
 *
 * Object Lock is enabled through `aws_s3_bucket_object_lock_configuration` without a default
 * retention: the resource enables it on new and existing buckets alike (the bucket's own
 * `object_lock_enabled` would replace a deployed bucket), and only digests are locked, each by
 * the retention its writer sets on PutObject (governance mode), so evidence keeps expiring on
 * its own schedule. A bucket policy statement denies deleting digest versions and bypassing
 * governance retention to every principal.
 */
export class EvidenceBucket extends Construct {
  readonly bucket: S3Bucket;

  constructor(scope: Construct, id: string, props: EvidenceBucketProps) {
    super(scope, id);
    this.bucket = new S3Bucket(this, 'bucket', {
      bucketPrefix: `${props.namePrefix}-evidence-`,
      forceDestroy: false,
    });
    const bucket = this.bucket.id;
    new S3BucketPublicAccessBlock(this, 'public-access', {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, 'ownership', {
      bucket,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    });
    const versioning = new S3BucketVersioningA(this, 'versioning', {
      bucket,
      versioningConfiguration: { status: 'Enabled' },
    });
    // Object Lock needs versioning; enabling it on an existing bucket is refused until then.
    new S3BucketObjectLockConfigurationA(this, 'object-lock', {
      bucket,
      objectLockEnabled: 'Enabled',
      dependsOn: [versioning],
    });
    new S3BucketServerSideEncryptionConfigurationA(this, 'encryption', {
      bucket,
      rule: [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: props.kmsKeyArn },
          bucketKeyEnabled: true,
        },
      ],
    });
    new S3BucketLifecycleConfiguration(this, 'lifecycle', {
      bucket,
      rule: [
        // One rule per prefix: digests must outlive the evidence they vouch for.
        ...['evidence/', 'patches/'].map((prefix) => ({
          id: `expire-${prefix.slice(0, -1)}`,
          status: 'Enabled',
          filter: [{ prefix }],
          expiration: [{ days: props.retentionDays }],
          noncurrentVersionExpiration: [{ noncurrentDays: 30 }],
        })),
        {
          // A locked version cannot be removed before its retention ends; S3 retries later.
          id: 'expire-digests',
          status: 'Enabled',
          filter: [{ prefix: DIGESTS_PREFIX }],
          expiration: [{ days: props.digestRetentionDays }],
          noncurrentVersionExpiration: [{ noncurrentDays: 30 }],
        },
        {
          id: 'abort-incomplete-uploads',
          status: 'Enabled',
          filter: [{ prefix: '' }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
    });
    const tlsOnly = new DataAwsIamPolicyDocument(this, 'tls-only', {
      statement: [
        {
          sid: 'DenyInsecureTransport',
          effect: 'Deny',
          principals: [{ type: '*', identifiers: ['*'] }],
          actions: ['s3:*'],
          resources: [this.bucket.arn, `${this.bucket.arn}/*`],
          condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
        },
        {
          // Write-once digests: Object Lock keeps each version for its retention; this keeps
          // every role (the loop's, and any other in the account) from deleting a digest or
          // shortening its lock, whatever its own policies say.
          sid: 'DenyDigestDeletion',
          effect: 'Deny',
          principals: [{ type: '*', identifiers: ['*'] }],
          actions: DIGEST_PROTECTED_ACTIONS,
          resources: [`${this.bucket.arn}/${DIGESTS_PREFIX}*`],
        },
      ],
    });
    new S3BucketPolicy(this, 'policy', { bucket, policy: tlsOnly.json });
  }

  /**
   * Lets `role` write objects under `prefix` (`evidence/`, `patches/`) and read them back. Never
   * the whole bucket: only the sealing function may put anything under `digests/`.
   */
  grantReadWrite(role: LoopRole, prefix: 'evidence/' | 'patches/'): void {
    role.addPolicy('evidence-bucket', [
      {
        sid: 'EvidenceObjectsReadWrite',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [`${this.bucket.arn}/${prefix}*`],
      },
    ]);
  }

  /**
   * Lets `role` write audit digests: PutObject (a conditional put that never overwrites) with
   * an Object Lock retention (which needs s3:PutObjectRetention), under `digests/` only.
   */
  grantWriteDigests(role: LoopRole): void {
    role.addPolicy('audit-digests', [
      {
        sid: 'WriteAuditDigests',
        actions: ['s3:PutObject', 's3:PutObjectRetention'],
        resources: [`${this.bucket.arn}/${DIGESTS_PREFIX}*`],
      },
    ]);
  }
}
