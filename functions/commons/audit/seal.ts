/**
 * Sealing from a handler: the environment that names the signing key, the bucket and the
 * retention, and the one call that seals an incident's chain with the process's clients.
 * Every function that writes an incident's last audit record seals it (notify at Escalate and
 * NotifyResolved, triage at loop_detected), so each terminal trail has a digest (docs/audit.md).
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { awsClient, s3ClientConfig } from '../aws/clients';
import { integerVariable } from '../config';
import { logger, metrics } from '../observability';
import { sealIncident, type SealedDigest } from './digest-store';
import type { AuditTrail } from './index';

/** Default lock of an audit digest: one year (the module's `audit_digest_retention_days`). */
export const DEFAULT_DIGEST_RETENTION_DAYS = 365;

/** The variables of a function that seals chains; merge them into its environment schema. */
export const DigestEnvironmentFields = {
  /**
   * The audit digest signing key (KMS, SIGN_VERIFY): with it, the function seals the chains
   * it ends (docs/audit.md). Without it nothing is sealed.
   */
  SUTURE_DIGEST_KEY_ARN: z
    .string()
    .regex(/^arn:[\w-]+:kms:[\w-]+:\d{12}:key\/[\w-]+$/, 'SUTURE_DIGEST_KEY_ARN must be a KMS key ARN')
    .optional(),
  /** The evidence bucket the digests go to (`digests/`); required with SUTURE_DIGEST_KEY_ARN. */
  SUTURE_EVIDENCE_BUCKET: z.string().min(1).optional(),
  /** Days each digest is locked (S3 Object Lock, governance mode). */
  SUTURE_DIGEST_RETENTION_DAYS: integerVariable(
    'SUTURE_DIGEST_RETENTION_DAYS',
    1,
    36_500,
    DEFAULT_DIGEST_RETENTION_DAYS,
  ),
};

/** The digest settings as a parsed environment carries them. */
export interface DigestEnvironment {
  readonly SUTURE_DIGEST_KEY_ARN?: string | undefined;
  readonly SUTURE_EVIDENCE_BUCKET?: string | undefined;
  readonly SUTURE_DIGEST_RETENTION_DAYS: number;
}

/** The refinement every schema with {@link DigestEnvironmentFields} applies: a key needs a bucket. */
export function hasDigestBucket(env: {
  SUTURE_DIGEST_KEY_ARN?: string | undefined;
  SUTURE_EVIDENCE_BUCKET?: string | undefined;
}): boolean {
  return !env.SUTURE_DIGEST_KEY_ARN || Boolean(env.SUTURE_EVIDENCE_BUCKET);
}

/** The issue {@link hasDigestBucket} raises. */
export const MISSING_DIGEST_BUCKET: { message: string; path: string[] } = {
  message: 'SUTURE_EVIDENCE_BUCKET is required with SUTURE_DIGEST_KEY_ARN (digests are stored there)',
  path: ['SUTURE_EVIDENCE_BUCKET'],
};

/**
 * Seals `incidentId`'s chain as it stands: its head's digest, signed and written once
 * (functions/commons/audit/digest-store.ts). Call it after the incident's last record.
 * Idempotent: a retry of the same head finds its digest written and writes nothing. Without a
 * configured key it logs a warning and returns undefined.
 */
export async function sealChain(
  env: DigestEnvironment,
  trail: AuditTrail,
  incidentId: string,
  now: Date,
): Promise<SealedDigest | undefined> {
  if (!env.SUTURE_DIGEST_KEY_ARN || !env.SUTURE_EVIDENCE_BUCKET) {
    logger.warn('audit chain not sealed: no digest signing key configured');
    return undefined;
  }
  const sealed = await sealIncident(
    trail,
    incidentId,
    {
      kms: awsClient(KMSClient),
      s3: awsClient(S3Client, s3ClientConfig()),
      bucket: env.SUTURE_EVIDENCE_BUCKET,
      keyArn: env.SUTURE_DIGEST_KEY_ARN,
      retentionDays: env.SUTURE_DIGEST_RETENTION_DAYS,
    },
    now,
  );
  logger.info('audit chain sealed', {
    digest_key: sealed.key,
    records: sealed.digest.record_count,
    written: sealed.written,
  });
  metrics.addMetric('AuditDigestsWritten', MetricUnit.Count, sealed.written ? 1 : 0);
  return sealed;
}
