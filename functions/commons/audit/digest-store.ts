/**
 * Sealing an incident's audit chain: the digest of its head (./digest.ts) signed with the
 * loop's KMS signing key and written once to the evidence bucket under `digests/`, with an
 * Object Lock retention in governance mode. Also reading digests back and checking their
 * signatures with KMS Verify.
 */
import type { KMSClient } from '@aws-sdk/client-kms';
import { KMSInvalidSignatureException, SignCommand, VerifyCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isTransientAwsError, TransientAwsError } from '../errors';
import { AuditUnavailableError, canonicalJson, type AuditRecord, type AuditTrail } from './index';
import {
  DigestReasonCode,
  verifyAgainstDigest,
  type DigestReason,
  type DigestVerification,
  digestBody,
  digestBytes,
  digestKey,
  digestPrefix,
  DIGEST_SIGNING_ALGORITHM,
  parseDigest,
  type AuditDigest,
} from './digest';

/** Where and how digests are written. */
export interface DigestSealing {
  readonly kms: KMSClient;
  readonly s3: S3Client;
  readonly bucket: string;
  /** ARN of the SIGN_VERIFY key. */
  readonly keyArn: string;
  /** Days each digest object is locked (governance mode). */
  readonly retentionDays: number;
}

/** What {@link sealIncident} wrote, or found already written. */
export interface SealedDigest {
  readonly key: string;
  readonly digest: AuditDigest;
  /** False when an earlier invocation had written this head's digest already. */
  readonly written: boolean;
}

function failure(what: string, error: unknown): Error {
  const message = `${what} failed: ${(error as Error).message}`;
  return isTransientAwsError(error)
    ? new TransientAwsError(message, { cause: error })
    : new AuditUnavailableError(message, { cause: error });
}

/** Signs the digest body of `records` with KMS (RAW message, {@link DIGEST_SIGNING_ALGORITHM}). */
export async function signDigest(
  kms: KMSClient,
  keyArn: string,
  records: Parameters<typeof digestBody>[0],
): Promise<AuditDigest> {
  const body = digestBody(records, { keyArn });
  let signature: Uint8Array | undefined;
  try {
    ({ Signature: signature } = await kms.send(
      new SignCommand({
        KeyId: keyArn,
        Message: digestBytes(body),
        MessageType: 'RAW',
        SigningAlgorithm: DIGEST_SIGNING_ALGORITHM,
      }),
    ));
  } catch (error) {
    throw failure(`KMS Sign with ${keyArn}`, error);
  }
  if (!signature) throw new AuditUnavailableError(`KMS Sign with ${keyArn} returned no signature`);
  return { ...body, signature: Buffer.from(signature).toString('base64') };
}

/**
 * Seals the incident's chain as it stands: reads every record, signs the digest of the head
 * and puts it at its key with `If-None-Match: *`, so the object is written once. A retry of
 * the same head finds the object (412) and changes nothing: the body is taken from the chain
 * and PKCS #1 v1.5 signatures are deterministic, so it would have been the same digest anyway.
 * A head reached later (a record appended after sealing) gets a new key: digests are never
 * overwritten. Call it after the incident's last audit record.
 */
export async function sealIncident(
  trail: AuditTrail,
  incidentId: string,
  sealing: DigestSealing,
  now: Date = new Date(),
): Promise<SealedDigest> {
  const records = await trail.records(incidentId);
  const digest = await signDigest(sealing.kms, sealing.keyArn, records);
  const key = digestKey(digest);
  const retainUntil = new Date(now.getTime() + sealing.retentionDays * 86_400_000);
  try {
    await sealing.s3.send(
      new PutObjectCommand({
        Bucket: sealing.bucket,
        Key: key,
        Body: `${canonicalJson(digest)}\n`,
        ContentType: 'application/json',
        IfNoneMatch: '*',
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: retainUntil,
      }),
    );
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if ((error as Error).name === 'PreconditionFailed' || status === 412)
      return { key, digest, written: false };
    throw failure(`PutObject s3://${sealing.bucket}/${key}`, error);
  }
  return { key, digest, written: true };
}

/**
 * Checks a digest's signature with KMS Verify on the key the digest names. With `expectedKeyArn`
 * a digest signed by any other key is refused before KMS is asked: a signature only proves
 * that whoever holds the named key signed it. Returns false on a signature KMS rejects.
 */
export async function verifyDigestSignature(
  kms: KMSClient,
  digest: AuditDigest,
  expectedKeyArn?: string,
): Promise<{ readonly valid: boolean; readonly message: string }> {
  if (expectedKeyArn && expectedKeyArn !== digest.signing_key_arn)
    return {
      valid: false,
      message: `signed by ${digest.signing_key_arn}, not by the expected key ${expectedKeyArn}`,
    };
  try {
    const { SignatureValid } = await kms.send(
      new VerifyCommand({
        KeyId: digest.signing_key_arn,
        Message: digestBytes(digest),
        MessageType: 'RAW',
        Signature: Buffer.from(digest.signature, 'base64'),
        SigningAlgorithm: digest.signing_algorithm,
      }),
    );
    return SignatureValid
      ? { valid: true, message: `signature verified by KMS with ${digest.signing_key_arn}` }
      : { valid: false, message: 'KMS reports the signature invalid' };
  } catch (error) {
    if (
      error instanceof KMSInvalidSignatureException ||
      (error as Error).name === 'KMSInvalidSignatureException'
    )
      return { valid: false, message: 'KMS reports the signature invalid' };
    throw error;
  }
}

/**
 * One digest's verdict on a trail: the records against it (truncated, records_missing,
 * reordered, edited, incident_mismatch) and its signature (KMS Verify; signature_invalid).
 */
export async function checkAgainstDigest(
  records: readonly AuditRecord[],
  digest: AuditDigest,
  kms: KMSClient,
  expectedKeyArn?: string,
): Promise<
  DigestVerification & {
    readonly signing_key_arn: string;
    readonly signature: 'valid' | 'invalid';
  }
> {
  const verification = verifyAgainstDigest(records, digest);
  const signature = await verifyDigestSignature(kms, digest, expectedKeyArn);
  const reasons: DigestReason[] = [...verification.reasons];
  if (!signature.valid) reasons.push({ code: DigestReasonCode.signatureInvalid, message: signature.message });
  return {
    ...verification,
    ok: reasons.length === 0,
    signing_key_arn: digest.signing_key_arn,
    signature: signature.valid ? 'valid' : 'invalid',
    reasons,
  };
}

/**
 * Every digest of an incident in the bucket, lowest record count first (keys sort by the
 * zero-padded count). The last is the newest; verification holds the trail to all of them.
 */
export async function incidentDigests(
  s3: S3Client,
  bucket: string,
  incidentId: string,
): Promise<AuditDigest[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: digestPrefix(incidentId),
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    keys.push(...(page.Contents ?? []).map((object) => object.Key!).filter(Boolean));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const digests: AuditDigest[] = [];
  for (const key of keys.sort()) {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    digests.push(parseDigest(JSON.parse(await object.Body!.transformToString()) as unknown));
  }
  return digests;
}
