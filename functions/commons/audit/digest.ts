/**
 * Signed digests of an incident's audit chain head (the pure part: body, bytes, object key and
 * verification of records against a digest). A hash chain proves the order and content of the
 * records it holds, not that none were cut from its end; a digest signed with a KMS key and
 * stored write-once records how long the chain was and what its last hash was, so cutting the
 * tail shows. Signing and storing: ./digest-store.ts.
 */
import { canonicalJson, recordHash, type AuditRecord } from './index';

/** The `format` of every digest this module writes. */
export const DIGEST_FORMAT = 'suture-audit-digest/1';

/**
 * KMS signing algorithm of digests. PKCS #1 v1.5 signatures are deterministic: sealing the same
 * chain head twice (a Step Functions retry) signs the same bytes into the same signature.
 */
export const DIGEST_SIGNING_ALGORITHM = 'RSASSA_PKCS1_V1_5_SHA_256';

/** KMS key spec of the signing key (the module's `aws_kms_key` with key usage SIGN_VERIFY). */
export const DIGEST_KEY_SPEC = 'RSA_2048';

/** S3 prefix of digest objects in the evidence bucket. */
export const DIGEST_PREFIX = 'digests/';

/** What a digest states about one incident's chain; these bytes (canonical JSON) are signed. */
export interface DigestBody {
  readonly format: typeof DIGEST_FORMAT;
  readonly incident_id: string;
  /** Records in the chain when it was sealed (seq 0 … record_count - 1). */
  readonly record_count: number;
  /** `hash` of record `record_count - 1`. */
  readonly head_hash: string;
  /**
   * Time of the head record: the digest's time. Taken from the chain rather than the clock, so
   * sealing one head twice writes byte-identical digests.
   */
  readonly head_at: string;
  /** `bundle_revision` of the incident's last `policy_decision` record, or null without one. */
  readonly policy_bundle_revision: string | null;
  /** ARN of the KMS key that signed the digest. */
  readonly signing_key_arn: string;
  readonly signing_algorithm: typeof DIGEST_SIGNING_ALGORITHM;
}

/** A digest as stored: the body and the base64 signature over {@link digestBytes} of it. */
export interface AuditDigest extends DigestBody {
  readonly signature: string;
}

/** The bundle revision the incident's policy was decided with (the last decision's). */
export function policyBundleRevision(records: readonly AuditRecord[]): string | null {
  let revision: string | null = null;
  for (const record of [...records].sort((a, b) => a.seq - b.seq)) {
    if (record.step !== 'policy_decision') continue;
    const data = record.data as {
      decision?: { bundle_revision?: unknown };
      bundle_revision?: unknown;
    } | null;
    const value = data?.decision?.bundle_revision ?? data?.bundle_revision;
    revision = typeof value === 'string' && value !== '' ? value : null;
  }
  return revision;
}

/** The body of the digest of `records` (one incident's whole chain, as stored). */
export function digestBody(
  records: readonly AuditRecord[],
  signing: { readonly keyArn: string },
): DigestBody {
  if (records.length === 0) throw new Error('an empty chain has no digest');
  const ordered = [...records].sort((a, b) => a.seq - b.seq);
  const head = ordered[ordered.length - 1]!;
  return {
    format: DIGEST_FORMAT,
    incident_id: head.incident_id,
    record_count: ordered.length,
    head_hash: head.hash,
    head_at: head.at,
    policy_bundle_revision: policyBundleRevision(ordered),
    signing_key_arn: signing.keyArn,
    signing_algorithm: DIGEST_SIGNING_ALGORITHM,
  };
}

/** The bytes KMS signs (MessageType RAW): canonical JSON of the body, without the signature. */
export function digestBytes(digest: DigestBody): Uint8Array {
  const { format, incident_id, record_count, head_hash, head_at, policy_bundle_revision } = digest;
  const { signing_key_arn, signing_algorithm } = digest;
  return new TextEncoder().encode(
    canonicalJson({
      format,
      incident_id,
      record_count,
      head_hash,
      head_at,
      policy_bundle_revision,
      signing_key_arn,
      signing_algorithm,
    }),
  );
}

/**
 * Object key of a digest: `digests/<incident>/<record count, 8 digits>-<first 16 hex of the
 * head>.json`. One chain head has one key (a retry finds its object there); a later head (a
 * record appended after sealing) gets a new key, and keys sort by record count.
 */
export function digestKey(digest: Pick<DigestBody, 'incident_id' | 'record_count' | 'head_hash'>): string {
  return `${digestPrefix(digest.incident_id)}${String(digest.record_count).padStart(8, '0')}-${digest.head_hash.slice(0, 16)}.json`;
}

/** The prefix under which an incident's digests lie. */
export function digestPrefix(incidentId: string): string {
  return `${DIGEST_PREFIX}${encodeURIComponent(incidentId)}/`;
}

/** The digest is not a digest: unusable input rather than a failed verification. */
export class DigestFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DigestFormatError';
  }
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Checks the shape of a parsed digest file; throws {@link DigestFormatError} naming what is wrong. */
export function parseDigest(value: unknown): AuditDigest {
  const d = value as Partial<Record<keyof AuditDigest, unknown>> | null;
  const problems: string[] = [];
  if (d === null || typeof d !== 'object' || Array.isArray(d))
    throw new DigestFormatError('not a JSON object');
  if (d.format !== DIGEST_FORMAT) problems.push(`format must be "${DIGEST_FORMAT}"`);
  if (typeof d.incident_id !== 'string' || d.incident_id === '')
    problems.push('incident_id must be a string');
  if (typeof d.record_count !== 'number' || !Number.isInteger(d.record_count) || d.record_count < 1)
    problems.push('record_count must be a positive integer');
  if (typeof d.head_hash !== 'string' || !HEX64.test(d.head_hash))
    problems.push('head_hash must be 64 hex digits');
  if (typeof d.head_at !== 'string') problems.push('head_at must be a string');
  if (d.policy_bundle_revision !== null && typeof d.policy_bundle_revision !== 'string')
    problems.push('policy_bundle_revision must be a string or null');
  if (typeof d.signing_key_arn !== 'string' || !d.signing_key_arn.startsWith('arn:'))
    problems.push('signing_key_arn must be a KMS key ARN');
  if (d.signing_algorithm !== DIGEST_SIGNING_ALGORITHM)
    problems.push(`signing_algorithm must be ${DIGEST_SIGNING_ALGORITHM}`);
  if (typeof d.signature !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(d.signature))
    problems.push('signature must be base64');
  if (problems.length > 0) throw new DigestFormatError(problems.join('; '));
  return d as AuditDigest;
}

/** Why records do not match their digest; each code is a distinct finding. */
export const DigestReasonCode = {
  /** Fewer records than the digest counts: records were cut from the end of the chain. */
  truncated: 'truncated',
  /** A record below the digest's count is absent from the middle of the chain. */
  missing: 'records_missing',
  /** Intact records appear out of their chain order. */
  reordered: 'reordered',
  /** A record's content, or the chain up to the signed head, is not what was sealed. */
  edited: 'edited',
  /** Records of another incident than the digest's. */
  incidentMismatch: 'incident_mismatch',
  /** The digest's signature does not verify (or was made by a key other than the expected one). */
  signatureInvalid: 'signature_invalid',
} as const;

/** One of {@link DigestReasonCode}. */
export type DigestReasonCodeValue = (typeof DigestReasonCode)[keyof typeof DigestReasonCode];

/** One finding of {@link verifyAgainstDigest}. */
export interface DigestReason {
  readonly code: DigestReasonCodeValue;
  /** The record it concerns, when it concerns one. */
  readonly seq?: number;
  readonly message: string;
}

/** Result of checking records against a digest (signature aside: see digest-store.ts). */
export interface DigestVerification {
  readonly ok: boolean;
  readonly incident_id: string;
  /** Records given. */
  readonly records: number;
  /** Records the digest seals. */
  readonly digest_records: number;
  readonly digest_head: string;
  /** Records beyond the sealed head (appended after the digest was written): not a failure. */
  readonly records_after_digest: number;
  readonly reasons: readonly DigestReason[];
}

/**
 * Checks `records` (in the order given: a file's lines, or the table's seq order) against a
 * digest. Findings, each with its own code: every record's own hash (edited), records of
 * another incident, the order of intact records (reordered), the chain links (edited), gaps
 * below the sealed count (records_missing), fewer records than sealed (truncated), and the
 * hash of record `record_count - 1` against the signed head (edited: the chain was rewritten
 * and rehashed). Records after the head are counted, not failed: the trail is append-only and
 * a late step may follow a digest (its own digest then seals it).
 */
export function verifyAgainstDigest(records: readonly AuditRecord[], digest: DigestBody): DigestVerification {
  const reasons: DigestReason[] = [];
  const add = (code: DigestReasonCodeValue, message: string, seq?: number) =>
    reasons.push({ code, message, ...(seq === undefined ? {} : { seq }) });

  const selfConsistent = records.map((record) => recordHash(record) === record.hash);
  records.forEach((record, index) => {
    if (record.incident_id !== digest.incident_id)
      add(
        DigestReasonCode.incidentMismatch,
        `record belongs to incident ${record.incident_id}, the digest to ${digest.incident_id}`,
        record.seq,
      );
    if (!selfConsistent[index]) add(DigestReasonCode.edited, 'content does not match its hash', record.seq);
  });

  // Order: the records as given must ascend by seq (a file's lines, the table's sort key).
  for (let i = 1; i < records.length; i += 1) {
    if (records[i]!.seq <= records[i - 1]!.seq) {
      add(
        DigestReasonCode.reordered,
        `record ${records[i]!.seq} comes after record ${records[i - 1]!.seq}`,
        records[i]!.seq,
      );
    }
  }

  // Links, in chain order: each record's prev_hash is the hash of the record before it.
  const bySeq = new Map<number, AuditRecord>();
  for (const record of records) {
    if (bySeq.has(record.seq)) add(DigestReasonCode.edited, `seq ${record.seq} appears twice`, record.seq);
    else bySeq.set(record.seq, record);
  }
  const ordered = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  ordered.forEach((record, index) => {
    const before = ordered[index - 1];
    if (before && before.seq === record.seq - 1 && record.prev_hash !== before.hash)
      add(DigestReasonCode.edited, 'prev_hash does not match the record before', record.seq);
  });

  const count = digest.record_count;
  const gaps = [];
  for (let seq = 0; seq < count; seq += 1) if (!bySeq.has(seq)) gaps.push(seq);
  const present = ordered.filter((record) => record.seq < count).length;
  const lastPresent = ordered.length > 0 ? ordered[ordered.length - 1]!.seq : -1;
  const tail = gaps.filter((seq) => seq > lastPresent);
  const middle = gaps.filter((seq) => seq <= lastPresent);
  if (tail.length > 0)
    add(
      DigestReasonCode.truncated,
      `the digest seals ${count} records (head ${digest.head_hash.slice(0, 16)}…), the trail ends after ${present}: records ${tail[0]}–${count - 1} were cut`,
      tail[0],
    );
  for (const seq of middle) add(DigestReasonCode.missing, `record ${seq} is missing`, seq);

  const head = bySeq.get(count - 1);
  if (head && head.hash !== digest.head_hash)
    add(
      DigestReasonCode.edited,
      `record ${count - 1} has hash ${head.hash.slice(0, 16)}…, the digest signed ${digest.head_hash.slice(0, 16)}…: the chain was rewritten`,
      count - 1,
    );

  return {
    ok: reasons.length === 0,
    incident_id: digest.incident_id,
    records: records.length,
    digest_records: count,
    digest_head: digest.head_hash,
    records_after_digest: ordered.filter((record) => record.seq >= count).length,
    reasons,
  };
}
