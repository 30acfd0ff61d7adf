import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { parseArgs } from 'node:util';
import { AuditTrail, verifyChain, type AuditRecord } from '../../functions/commons/audit';
import { DigestFormatError, parseDigest, type AuditDigest } from '../../functions/commons/audit/digest';
import { checkAgainstDigest, incidentDigests } from '../../functions/commons/audit/digest-store';
import { UsageError } from '../errors';
import { parseJsonArgument, readInputArgument } from '../io';

async function recordsFromFile(path: string): Promise<AuditRecord[]> {
  const text = (await readInputArgument(path, 'audit export')).trim();
  if (text.startsWith('[')) return parseJsonArgument(text, path) as AuditRecord[];
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => parseJsonArgument(line, `${path} line ${index + 1}`) as AuditRecord);
}

async function digestFromFile(path: string): Promise<AuditDigest> {
  const text = await readInputArgument(path, 'audit digest');
  try {
    return parseDigest(parseJsonArgument(text, path));
  } catch (error) {
    if (error instanceof DigestFormatError)
      throw new UsageError(`${path} is not an audit digest: ${error.message}`);
    throw error;
  }
}

/**
 * `suture audit verify --file FILE|-` (records as JSON Lines or a JSON array) or
 * `--table NAME --incident ID [--region R] [--endpoint-url URL]` (read with the caller's own AWS
 * credentials). Exit 0 when the chain is intact, 1 when it is broken, 2 on unusable input.
 *
 * With `--digest FILE` (a digest from `digests/<incident>/` in the evidence bucket) or
 * `--digest-bucket BUCKET` (every digest of the incident there), the records are also checked
 * against the signed digest(s): truncated, records_missing, reordered, edited,
 * incident_mismatch and signature_invalid (KMS Verify, with `--key-id ARN` the key the digest
 * must be signed by) each fail with exit 1.
 */
export async function auditVerifyCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      file: { type: 'string' },
      table: { type: 'string' },
      incident: { type: 'string' },
      region: { type: 'string' },
      'endpoint-url': { type: 'string' },
      digest: { type: 'string' },
      'digest-bucket': { type: 'string' },
      'key-id': { type: 'string' },
    },
    strict: true,
  });
  const aws = {
    ...(values.region ? { region: values.region } : {}),
    ...(values['endpoint-url'] ? { endpoint: values['endpoint-url'] } : {}),
  };
  if (values.digest && values['digest-bucket'])
    throw new UsageError('audit verify takes --digest FILE or --digest-bucket BUCKET, not both');
  if (values['key-id'] && !values.digest && !values['digest-bucket'])
    throw new UsageError('--key-id needs --digest or --digest-bucket');
  let records: AuditRecord[];
  if (values.file) {
    records = await recordsFromFile(values.file);
  } else if (values.table && values.incident) {
    const client = new DynamoDBClient(aws);
    try {
      records = await new AuditTrail(client, values.table).records(values.incident);
    } finally {
      client.destroy();
    }
  } else {
    throw new UsageError('audit verify needs --file FILE, or --table NAME and --incident ID');
  }
  if (records.length === 0 && !values.digest && !values['digest-bucket'])
    throw new UsageError('no audit records to verify');
  if (!values.digest && !values['digest-bucket']) {
    const verification = verifyChain(records);
    process.stdout.write(`${JSON.stringify(verification, null, 2)}\n`);
    return verification.ok ? 0 : 1;
  }

  let digests: AuditDigest[];
  if (values.digest) {
    digests = [await digestFromFile(values.digest)];
  } else {
    const incidentId = values.incident ?? records[0]?.incident_id;
    if (!incidentId) throw new UsageError('--digest-bucket needs --incident ID or records to take it from');
    const s3 = new S3Client({ ...aws, forcePathStyle: Boolean(values['endpoint-url']) });
    try {
      digests = await incidentDigests(s3, values['digest-bucket']!, incidentId);
    } finally {
      s3.destroy();
    }
    if (digests.length === 0)
      throw new UsageError(`no digest of incident ${incidentId} in s3://${values['digest-bucket']}`);
  }
  const kms = new KMSClient(aws);
  try {
    // Every digest must hold: an older digest (kept by Object Lock) catches a newer one written
    // for a truncated and re-extended chain. The newest (highest record count) is reported first.
    const checks = [];
    for (const digest of [...digests].sort((a, b) => b.record_count - a.record_count))
      checks.push(await checkAgainstDigest(records, digest, kms, values['key-id']));
    const ok = checks.every((check) => check.ok);
    const result = checks.length === 1 ? checks[0] : { ok, digests: checks };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return ok ? 0 : 1;
  } finally {
    kms.destroy();
  }
}
