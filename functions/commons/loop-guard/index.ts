import { createHash } from 'node:crypto';
import {
  BatchGetItemCommand,
  GetItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

/** What identifies one failure across deliveries and retries. */
export interface FailureIdentity {
  readonly pipeline: string;
  readonly stage: string;
  readonly action: string;
  readonly failureClass: string;
  /** The line or error code that characterises the failure (e.g. the classifier's matched line). */
  readonly signature: string;
}

/**
 * Removes what changes between two occurrences of the same failure (ids, hashes, times,
 * numbers, temp paths), so a retry of the same broken build gets the same fingerprint.
 */
export function normaliseSignature(signature: string): string {
  return signature
    .toLowerCase()
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
    .replace(/\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}:\d{2}(\.\d+)?(z|[+-]\d{2}:?\d{2})?/g, '<time>')
    .replace(/\b[0-9a-f]{8,}\b/g, '<hex>')
    .replace(/\/tmp\/[^\s'"]+/g, '<tmp>')
    .replace(/\d+(\.\d+)?/g, '<n>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
}

/** Stable fingerprint of a failure: SHA-256 over its identity with a normalised signature. */
export function fingerprint(identity: FailureIdentity): string {
  const parts = [
    identity.pipeline,
    identity.stage,
    identity.action,
    identity.failureClass,
    normaliseSignature(identity.signature),
  ];
  return `fp-${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32)}`;
}

/** Hard ceilings that stop a remediation loop even when the policy's budgets are misconfigured. */
export interface LoopGuardLimits {
  /** Attempts per fingerprint per 24 h window. @default 10 */
  readonly fingerprintPerDay?: number;
  /** Attempts per pipeline per 1 h window. @default 20 */
  readonly pipelinePerHour?: number;
  /** How long a delivery key is remembered for deduplication, in seconds. @default 172800 (48 h) */
  readonly dedupeSeconds?: number;
}

/** One delivery of a failure that wants to start a workflow. */
export interface AttemptRequest {
  /** Identifies the delivery: the same failure delivered twice has the same key. */
  readonly deliveryKey: string;
  readonly fingerprint: string;
  /** `account/region/pipeline`. */
  readonly pipelineKey: string;
  readonly now: Date;
}

/** Attempts already counted before this one, in the windows the policy reads. */
export interface AttemptCounts {
  readonly fingerprint_24h: number;
  readonly pipeline_1h: number;
}

/** What the guard decided for a delivery. */
export type AttemptOutcome =
  | { readonly outcome: 'recorded'; readonly before: AttemptCounts }
  | {
      readonly outcome: 'duplicate';
      /** When the first delivery was counted (epoch seconds), if the marker could be read. */
      readonly firstRecordedAt?: number;
    }
  | { readonly outcome: 'loop_detected'; readonly scope: 'fingerprint' | 'pipeline' };

/** The guard's store could not be used; the caller must not start a workflow. */
export class LoopGuardUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LoopGuardUnavailableError';
  }
}

const DAY = 86_400;
const HOUR = 3_600;

/**
 * Deduplicates deliveries and counts attempts in DynamoDB. One transaction writes the
 * delivery marker and increments both counters under their ceilings, so concurrent
 * deliveries of one failure produce exactly one recorded attempt. Windows are fixed
 * (aligned to UTC day and hour); expired items are removed by the table's TTL on `expires_at`.
 */
export class LoopGuard {
  private readonly limits: Required<LoopGuardLimits>;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    limits: LoopGuardLimits = {},
  ) {
    this.limits = {
      fingerprintPerDay: limits.fingerprintPerDay ?? 10,
      pipelinePerHour: limits.pipelinePerHour ?? 20,
      dedupeSeconds: limits.dedupeSeconds ?? 2 * DAY,
    };
  }

  /** Records one attempt unless the delivery is a duplicate or a ceiling is reached. */
  async recordAttempt(request: AttemptRequest): Promise<AttemptOutcome> {
    const epoch = Math.floor(request.now.getTime() / 1000);
    const fingerprintKey = counterKey('fingerprint', request.fingerprint, epoch, DAY);
    const pipelineKey = counterKey('pipeline', request.pipelineKey, epoch, HOUR);
    const command = new TransactWriteItemsCommand({
      TransactItems: [
        {
          Put: {
            TableName: this.tableName,
            Item: {
              pk: { S: `delivery#${request.deliveryKey}` },
              fingerprint: { S: request.fingerprint },
              recorded_at: { N: String(epoch) },
              expires_at: { N: String(epoch + this.limits.dedupeSeconds) },
            },
            ConditionExpression: 'attribute_not_exists(pk)',
            // A duplicate learns when the first delivery was counted from the refusal itself.
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        this.increment(fingerprintKey.pk, fingerprintKey.expiresAt, this.limits.fingerprintPerDay),
        this.increment(pipelineKey.pk, pipelineKey.expiresAt, this.limits.pipelinePerHour),
      ],
    });
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.client.send(command);
        break;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) {
          throw this.tableFailed(error);
        }
        const reasons = error.CancellationReasons ?? [];
        const codes = reasons.map((reason) => reason.Code ?? 'None');
        if (codes[0] === 'ConditionalCheckFailed') {
          // A store that does not return the refused item costs one read more.
          const marker = reasons[0]?.Item ?? (await this.readItem(`delivery#${request.deliveryKey}`));
          const recordedAt = Number(marker?.recorded_at?.N ?? Number.NaN);
          return Number.isFinite(recordedAt)
            ? { outcome: 'duplicate', firstRecordedAt: recordedAt }
            : { outcome: 'duplicate' };
        }
        if (codes[1] === 'ConditionalCheckFailed') return { outcome: 'loop_detected', scope: 'fingerprint' };
        if (codes[2] === 'ConditionalCheckFailed') return { outcome: 'loop_detected', scope: 'pipeline' };
        // A concurrent transaction on the same items: retry; the delivery marker decides the winner.
        if (codes.includes('TransactionConflict') && attempt < 8) {
          await new Promise((resolve) => setTimeout(resolve, 10 * attempt + Math.random() * 20));
          continue;
        }
        throw new LoopGuardUnavailableError(`loop guard transaction cancelled: ${codes.join(', ')}`, {
          cause: error,
        });
      }
    }
    const [fingerprintCount, pipelineCount] = await this.readCounters(fingerprintKey.pk, pipelineKey.pk);
    return {
      outcome: 'recorded',
      before: {
        fingerprint_24h: Math.max(0, fingerprintCount - 1),
        pipeline_1h: Math.max(0, pipelineCount - 1),
      },
    };
  }

  private increment(pk: string, expiresAt: number, ceiling: number) {
    return {
      Update: {
        TableName: this.tableName,
        Key: { pk: { S: pk } },
        UpdateExpression: 'ADD attempts :one SET expires_at = :expires',
        ConditionExpression: 'attribute_not_exists(attempts) OR attempts < :ceiling',
        ExpressionAttributeValues: {
          ':one': { N: '1' },
          ':expires': { N: String(expiresAt) },
          ':ceiling': { N: String(ceiling) },
        },
      },
    };
  }

  /**
   * Counts an attempt that was recorded under one fingerprint under `request.fingerprint` as
   * well, once per delivery key and fingerprint (a retried call counts nothing more), and
   * returns the attempts before it. CollectEvidence calls it when completing an incident from
   * its execution changed the fingerprint triage computed from a stage- or pipeline-level
   * event, so the budget is the same whichever event of the failure arrived first. No ceiling
   * applies: the attempt was admitted already, and the policy's budgets judge the counts.
   */
  async recordUnder(request: AttemptRequest): Promise<AttemptCounts> {
    const epoch = Math.floor(request.now.getTime() / 1000);
    const fingerprintKey = counterKey('fingerprint', request.fingerprint, epoch, DAY);
    const command = new TransactWriteItemsCommand({
      TransactItems: [
        {
          Put: {
            TableName: this.tableName,
            Item: {
              pk: { S: `recount#${request.deliveryKey}#${request.fingerprint}` },
              recorded_at: { N: String(epoch) },
              expires_at: { N: String(epoch + this.limits.dedupeSeconds) },
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Update: {
            TableName: this.tableName,
            Key: { pk: { S: fingerprintKey.pk } },
            UpdateExpression: 'ADD attempts :one SET expires_at = :expires',
            ExpressionAttributeValues: {
              ':one': { N: '1' },
              ':expires': { N: String(fingerprintKey.expiresAt) },
            },
          },
        },
      ],
    });
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.client.send(command);
        break;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw this.tableFailed(error);
        const codes = (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
        if (codes[0] === 'ConditionalCheckFailed') break;
        if (codes.includes('TransactionConflict') && attempt < 8) {
          await new Promise((resolve) => setTimeout(resolve, 10 * attempt + Math.random() * 20));
          continue;
        }
        throw new LoopGuardUnavailableError(`loop guard transaction cancelled: ${codes.join(', ')}`, {
          cause: error,
        });
      }
    }
    return this.countsBefore(request.fingerprint, request.pipelineKey, request.now);
  }

  /**
   * Attempts counted so far in the current windows, minus the one being made: what the
   * policy should see for a delivery whose counting already happened.
   */
  async countsBefore(fingerprintValue: string, pipelineKey: string, now: Date): Promise<AttemptCounts> {
    const epoch = Math.floor(now.getTime() / 1000);
    const [fingerprintCount, pipelineCount] = await this.readCounters(
      counterKey('fingerprint', fingerprintValue, epoch, DAY).pk,
      counterKey('pipeline', pipelineKey, epoch, HOUR).pk,
    );
    return {
      fingerprint_24h: Math.max(0, fingerprintCount - 1),
      pipeline_1h: Math.max(0, pipelineCount - 1),
    };
  }

  /**
   * The `attempts` of two counters in one strongly consistent BatchGetItem (a missing item
   * counts 0). Keys the service leaves unprocessed are asked for again a few times.
   */
  private async readCounters(first: string, second: string): Promise<[number, number]> {
    const found = new Map<string, number>();
    let keys: Record<string, AttributeValue>[] = [{ pk: { S: first } }, { pk: { S: second } }];
    for (let attempt = 1; keys.length > 0; attempt += 1) {
      if (attempt > 5) {
        throw new LoopGuardUnavailableError(
          `loop guard table ${this.tableName} left counters unread after ${attempt - 1} tries`,
        );
      }
      if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
      let output;
      try {
        output = await this.client.send(
          new BatchGetItemCommand({
            RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } },
          }),
        );
      } catch (error) {
        throw this.tableFailed(error);
      }
      for (const item of output.Responses?.[this.tableName] ?? []) {
        if (item.pk?.S) found.set(item.pk.S, Number(item.attempts?.N ?? '0'));
      }
      keys = output.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    return [found.get(first) ?? 0, found.get(second) ?? 0];
  }

  private tableFailed(error: unknown): LoopGuardUnavailableError {
    return new LoopGuardUnavailableError(
      `loop guard table ${this.tableName} failed: ${(error as Error).message}`,
      { cause: error },
    );
  }

  private async readItem(pk: string) {
    try {
      const result = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: pk } }, ConsistentRead: true }),
      );
      return result.Item;
    } catch (error) {
      throw this.tableFailed(error);
    }
  }
}

function counterKey(
  scope: string,
  key: string,
  epoch: number,
  window: number,
): { pk: string; expiresAt: number } {
  const bucket = Math.floor(epoch / window) * window;
  return { pk: `attempts#${scope}#${key}#${bucket}`, expiresAt: bucket + 2 * window };
}
