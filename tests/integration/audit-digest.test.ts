import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { AuditTrail, recordHash, type AuditRecord } from '../../functions/commons/audit';
import {
  DigestReasonCode,
  digestKey,
  verifyAgainstDigest,
  type AuditDigest,
} from '../../functions/commons/audit/digest';
import {
  incidentDigests,
  sealIncident,
  verifyDigestSignature,
  type DigestSealing,
} from '../../functions/commons/audit/digest-store';
import { createTable, emulatorClientConfig } from '../helpers/aws';
import { suture } from '../helpers/cli';

describe('audit digests: KMS-signed, write-once chain heads (moto on 127.0.0.1)', () => {
  const config = emulatorClientConfig();
  const dynamo = new DynamoDBClient(config);
  const kms = new KMSClient(config);
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const dir = mkdtempSync(join(tmpdir(), 'suture-digest-'));
  let trail: AuditTrail;
  let tableName: string;
  let sealing: DigestSealing;

  beforeAll(async () => {
    tableName = await createTable(dynamo, 'suture-audit', 'incident_id', 'seq');
    trail = new AuditTrail(dynamo, tableName);
    const { KeyMetadata } = await kms.send(
      new CreateKeyCommand({ KeyUsage: 'SIGN_VERIFY', KeySpec: 'RSA_2048', Description: 'digest test' }),
    );
    const bucket = `suture-digests-${randomUUID().slice(0, 8)}`;
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: 'us-west-2' },
        ObjectLockEnabledForBucket: true,
      }),
    );
    sealing = { kms, s3, bucket, keyArn: KeyMetadata!.Arn!, retentionDays: 365 };
  });

  afterAll(() => {
    for (const client of [dynamo, kms, s3]) client.destroy();
  });

  async function sealedIncident(steps = 4): Promise<{ records: AuditRecord[]; digest: AuditDigest }> {
    const incident = `inc-${randomUUID()}`;
    await trail.append(incident, 'triage', { pipeline: 'myPipeline' });
    await trail.append(incident, 'policy_decision', { decision: { allow: true, bundle_revision: 'rev-42' } });
    for (let i = 2; i < steps; i += 1) await trail.append(incident, 'execute', { attempt: i });
    const sealed = await sealIncident(trail, incident, sealing);
    return { records: await trail.records(incident), digest: sealed.digest };
  }

  const jsonl = (records: readonly AuditRecord[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
  function files(records: readonly AuditRecord[], digest: AuditDigest): { trail: string; digest: string } {
    const id = randomUUID();
    const paths = { trail: join(dir, `${id}.audit.jsonl`), digest: join(dir, `${id}.digest.json`) };
    writeFileSync(paths.trail, jsonl(records));
    writeFileSync(paths.digest, JSON.stringify(digest));
    return paths;
  }
  const verify = (paths: { trail: string; digest: string }, ...extra: string[]) =>
    suture(
      [
        'audit',
        'verify',
        '--file',
        paths.trail,
        '--digest',
        paths.digest,
        '--endpoint-url',
        config.endpoint,
        ...extra,
      ],
      undefined,
      {
        ...process.env,
        AWS_REGION: 'us-west-2',
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
      },
    );
  const codes = (stdout: string) =>
    (JSON.parse(stdout) as { reasons: { code: string }[] }).reasons.map((reason) => reason.code);

  it('seals the head once, locked in governance mode, signed by KMS', async () => {
    // Act
    const { records, digest } = await sealedIncident();
    const again = await sealIncident(trail, digest.incident_id, sealing);
    const key = digestKey(digest);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: sealing.bucket, Prefix: key }));
    // HeadObject rather than GetObjectRetention: moto's answer to the latter is not XML the SDK reads.
    const head = await s3.send(new HeadObjectCommand({ Bucket: sealing.bucket, Key: key }));

    // Assess
    expect(digest).toMatchObject({
      incident_id: records[0]!.incident_id,
      record_count: 4,
      head_hash: records[3]!.hash,
      head_at: records[3]!.at,
      policy_bundle_revision: 'rev-42',
      signing_key_arn: sealing.keyArn,
    });
    expect(key).toMatch(/^digests\/inc-[0-9a-f-]+\/00000004-[0-9a-f]{16}\.json$/);
    expect(again).toMatchObject({ key, written: false, digest });
    expect(versions.Versions).toHaveLength(1);
    expect(head.ObjectLockMode).toBe('GOVERNANCE');
    expect(head.ObjectLockRetainUntilDate!.getTime()).toBeGreaterThan(Date.now() + 364 * 86_400_000);
    expect(await verifyDigestSignature(kms, digest)).toMatchObject({ valid: true });
    expect(verifyAgainstDigest(records, digest)).toMatchObject({ ok: true, reasons: [] });
  });

  it('writes a new digest for a later head instead of overwriting the old one', async () => {
    // Prepare
    const { digest } = await sealedIncident(3);
    await trail.append(digest.incident_id, 'late_delivery', { duplicate: true });

    // Act
    const later = await sealIncident(trail, digest.incident_id, sealing);
    const stored = await incidentDigests(s3, sealing.bucket, digest.incident_id);

    // Assess
    expect(later.written).toBe(true);
    expect(stored.map((d) => d.record_count)).toEqual([3, 4]);
    const records = await trail.records(digest.incident_id);
    expect(verifyAgainstDigest(records, digest)).toMatchObject({ ok: true, records_after_digest: 1 });
  });

  it('exits 0 on an intact trail and 1 with reason truncated when the last record is cut', async () => {
    // Prepare
    const { records, digest } = await sealedIncident();

    // Act
    const intact = verify(files(records, digest));
    const cut = verify(files(records.slice(0, -1), digest));

    // Assess
    expect(intact.code).toBe(0);
    expect(JSON.parse(intact.stdout)).toMatchObject({ ok: true, signature: 'valid', reasons: [] });
    expect(cut.code).toBe(1);
    expect(codes(cut.stdout)).toEqual([DigestReasonCode.truncated]);
    // The chain alone still verifies: only the digest shows the cut.
    expect(suture(['audit', 'verify', '--file', '-'], jsonl(records.slice(0, -1))).code).toBe(0);
  });

  it('reports reordered, edited and rewritten trails each with its own reason', async () => {
    // Prepare
    const { records, digest } = await sealedIncident();
    const swapped = [records[0]!, records[2]!, records[1]!, records[3]!];
    const edited = records.map((r) => (r.seq === 2 ? { ...r, data: { attempt: 99 } } : r));
    // Cut the last record and rehash a forged replacement: a self-consistent chain.
    const forgedBody = { ...records[3]!, step: 'resolved', data: {} };
    const forged = { ...forgedBody, hash: recordHash(forgedBody) };
    const rewritten = [...records.slice(0, 3), forged];

    // Act
    const reordered = verify(files(swapped, digest));
    const changed = verify(files(edited, digest));
    const rehashed = verify(files(rewritten, digest));

    // Assess
    expect(reordered.code).toBe(1);
    expect(codes(reordered.stdout)).toEqual([DigestReasonCode.reordered]);
    expect(changed.code).toBe(1);
    expect(codes(changed.stdout)).toEqual([DigestReasonCode.edited]);
    expect(rehashed.code).toBe(1);
    expect(codes(rehashed.stdout)).toEqual([DigestReasonCode.edited]);
    expect(suture(['audit', 'verify', '--file', '-'], jsonl(rewritten)).code).toBe(0);
  });

  it('fails a digest whose signature does not verify, or that another key signed', async () => {
    // Prepare
    const { records, digest } = await sealedIncident();
    const inflated = { ...digest, record_count: 5 };
    const otherKey = sealing.keyArn.replace(/key\/.*/, 'key/00000000-0000-0000-0000-000000000000');

    // Act
    const badSignature = verify(files(records, inflated));
    const wrongKey = verify(files(records, digest), '--key-id', otherKey);
    const rightKey = verify(files(records, digest), '--key-id', sealing.keyArn);

    // Assess
    expect(badSignature.code).toBe(1);
    expect(codes(badSignature.stdout)).toEqual([
      DigestReasonCode.truncated,
      DigestReasonCode.signatureInvalid,
    ]);
    expect(wrongKey.code).toBe(1);
    expect(codes(wrongKey.stdout)).toEqual([DigestReasonCode.signatureInvalid]);
    expect(rightKey.code).toBe(0);
  });

  it('reads records from the table and digests from the bucket; exits 2 on an unusable digest', async () => {
    // Prepare
    const { records, digest } = await sealedIncident();
    const env = {
      ...process.env,
      AWS_REGION: 'us-west-2',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
    };
    const paths = files(records, digest);
    writeFileSync(paths.digest, JSON.stringify({ ...digest, head_hash: 'nope' }));

    // Act
    const fromStores = suture(
      [
        'audit',
        'verify',
        '--table',
        tableName,
        '--incident',
        digest.incident_id,
        '--digest-bucket',
        sealing.bucket,
        '--endpoint-url',
        config.endpoint,
      ],
      undefined,
      env,
    );
    const unusable = verify(paths);

    // Assess
    expect(fromStores.code).toBe(0);
    expect(JSON.parse(fromStores.stdout)).toMatchObject({ ok: true, digest_records: 4 });
    expect(unusable.code).toBe(2);
    expect(unusable.stderr).toContain('head_hash must be 64 hex digits');
  });
});
