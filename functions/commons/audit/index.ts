import { createHash } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  PutItemCommand,
  QueryCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { isTransientAwsError, TransientAwsError } from '../errors';
import { redactValue, type RedactionReport } from '../redact';

/** SHA-256 (hex) that the first record of every incident points back to. */
export const GENESIS_HASH = '0'.repeat(64);

/** One step of an incident, as stored: redacted, numbered and chained to the step before. */
export interface AuditRecord {
  readonly incident_id: string;
  /** 0, 1, 2, … with no gaps. */
  readonly seq: number;
  /** What happened: `triage`, `policy_decision`, `execute`, … */
  readonly step: string;
  /** RFC 3339 time of the step. */
  readonly at: string;
  /** The step's facts (inputs, decision with reasons and bundle revision, action and result), redacted. */
  readonly data: unknown;
  /** What redaction removed from `data` (counts and salted hashes, never the values). */
  readonly redaction: RedactionReport;
  /** `hash` of the record before, or {@link GENESIS_HASH}. */
  readonly prev_hash: string;
  /** SHA-256 over every other field in canonical JSON. */
  readonly hash: string;
}

/** JSON with object keys sorted at every level, so equal content always hashes equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/** The hash a record must carry: SHA-256 of its canonical JSON without the `hash` field. */
export function recordHash(record: Omit<AuditRecord, 'hash'>): string {
  const { incident_id, seq, step, at, data, redaction, prev_hash } = record;
  return createHash('sha256')
    .update(canonicalJson({ incident_id, seq, step, at, data, redaction, prev_hash }))
    .digest('hex');
}

/** Where a chain stops being trustworthy. */
export interface ChainBreak {
  readonly seq: number;
  readonly reason: string;
}

/** Result of {@link verifyChain}. */
export interface ChainVerification {
  readonly ok: boolean;
  readonly records: number;
  /** Hash of the last record: publish it elsewhere to detect truncation of the tail. */
  readonly head: string;
  readonly breaks: readonly ChainBreak[];
}

/**
 * Checks one incident's records: numbering from 0 without gaps, each `prev_hash` equal to the
 * previous `hash`, and each `hash` equal to the recomputed one. Any edit, insertion, removal or
 * reordering inside the chain shows up as a break at the first record it affects.
 */
export function verifyChain(records: readonly AuditRecord[]): ChainVerification {
  const ordered = [...records].sort((a, b) => a.seq - b.seq);
  const breaks: ChainBreak[] = [];
  let previous = GENESIS_HASH;
  ordered.forEach((record, index) => {
    if (record.seq !== index)
      breaks.push({ seq: record.seq, reason: `expected seq ${index}: a record is missing` });
    if (record.incident_id !== ordered[0]!.incident_id) {
      breaks.push({ seq: record.seq, reason: `belongs to incident ${record.incident_id}` });
    }
    if (record.prev_hash !== previous)
      breaks.push({ seq: record.seq, reason: 'prev_hash does not match the record before' });
    if (recordHash(record) !== record.hash)
      breaks.push({ seq: record.seq, reason: 'content does not match its hash' });
    previous = record.hash;
  });
  return { ok: breaks.length === 0, records: ordered.length, head: previous, breaks };
}

/** The audit store could not be written or read. */
export class AuditUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuditUnavailableError';
  }
}

/**
 * The error for a failed call to the audit table: TransientAwsError when retrying may help
 * (throttling, 5xx, network), so every workflow state retries it the same way; otherwise
 * AuditUnavailableError.
 */
function storeError(tableName: string, error: unknown): Error {
  const message = `audit table ${tableName} failed: ${(error as Error).message}`;
  return isTransientAwsError(error)
    ? new TransientAwsError(message, { cause: error })
    : new AuditUnavailableError(message, { cause: error });
}

/**
 * Append-only, hash-chained audit trail per incident in DynamoDB (`incident_id` partition key,
 * `seq` sort key). A record is written with `attribute_not_exists`, so two writers can never
 * take the same place in the chain; the loser re-reads the head and tries again.
 */
export class AuditTrail {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /**
   * Redacts `data`, chains it after the incident's last record and stores it. With `expectNew`
   * (the caller has reason to believe the incident has no record yet, e.g. triage admitting a
   * first delivery) the first try writes record 0 without reading the chain's head; if a record
   * is there after all, the write is refused and the append goes on as usual.
   */
  async append(
    incidentId: string,
    step: string,
    data: unknown,
    at: Date = new Date(),
    options: { readonly expectNew?: boolean } = {},
  ): Promise<AuditRecord> {
    const { value, report } = redactValue(data);
    let tried: AuditRecord | undefined;
    for (let attempt = 1; attempt <= 10; attempt += 1) {
      const head = attempt === 1 && options.expectNew ? undefined : await this.head(incidentId);
      // The place was taken by this very record: an earlier try was written and its answer
      // lost (the SDK's own retry then meets the condition). It is in the chain once; done.
      if (tried && head?.seq === tried.seq && head.hash === tried.hash) return tried;
      const unsigned = {
        incident_id: incidentId,
        seq: head ? head.seq + 1 : 0,
        step,
        at: at.toISOString(),
        data: value,
        redaction: report,
        prev_hash: head ? head.hash : GENESIS_HASH,
      };
      const record: AuditRecord = { ...unsigned, hash: recordHash(unsigned) };
      tried = record;
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: {
              incident_id: { S: record.incident_id },
              seq: { N: String(record.seq) },
              record: { S: canonicalJson(record) },
            },
            ConditionExpression: 'attribute_not_exists(incident_id)',
          }),
        );
        return record;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) continue;
        throw storeError(this.tableName, error);
      }
    }
    throw new AuditUnavailableError(
      `could not append to the audit trail of ${incidentId}: too much contention`,
    );
  }

  /** Every record of an incident, in order. */
  async records(incidentId: string): Promise<AuditRecord[]> {
    const records: AuditRecord[] = [];
    let startKey: Record<string, never> | undefined;
    do {
      const page = await this.query(incidentId, { ExclusiveStartKey: startKey });
      records.push(...(page.Items ?? []).map((item) => JSON.parse(item.record!.S!) as AuditRecord));
      startKey = page.LastEvaluatedKey as Record<string, never> | undefined;
    } while (startKey);
    return records;
  }

  private async head(incidentId: string): Promise<AuditRecord | undefined> {
    const page = await this.query(incidentId, { ScanIndexForward: false, Limit: 1 });
    const item = page.Items?.[0];
    return item ? (JSON.parse(item.record!.S!) as AuditRecord) : undefined;
  }

  private async query(incidentId: string, extra: Record<string, unknown>) {
    try {
      return await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'incident_id = :id',
          ExpressionAttributeValues: { ':id': { S: incidentId } },
          ConsistentRead: true,
          ...extra,
        }),
      );
    } catch (error) {
      throw storeError(this.tableName, error);
    }
  }
}
