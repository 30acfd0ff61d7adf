import { createHash } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { rethrowAws } from '../errors';
import { PlanStepSummarySchema, type PlanStepSummary } from '../workflow/schema';
import { ApprovalAlreadyDecidedError, ApprovalExpiredError, ApprovalNotFoundError } from './errors';

/**
 * The approval table (`SUTURE_APPROVAL_TABLE`, partition key `approval_id` S, TTL attribute
 * `expires_at`): one item per RequestApproval task. It is the only place the Step Functions
 * task token is kept; notifications, logs and audit records carry the approval id instead.
 * Written by the notify function (create, record the message) and the approval function
 * (decide); see docs/approvals.md.
 */

/** Lifecycle of an approval: `pending` until someone decides, or until the workflow stops waiting. */
export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';

/** One approval as stored. */
export interface ApprovalItem {
  readonly approval_id: string;
  /** The RequestApproval task token. Never log, publish or audit it. */
  readonly task_token: string;
  readonly incident_id: string;
  /** The proposal's action the approver is asked about (the plan's first step). */
  readonly action: string;
  /** Every step of the plan the approver is shown (action and parameters); one approval covers them all. */
  readonly steps?: readonly PlanStepSummary[];
  /** SHA-256 of the canonical JSON of `steps` (functions/commons/workflow/plan.ts). */
  readonly plan_sha256?: string;
  /** Epoch seconds; the table's TTL attribute, and the decision deadline. */
  readonly expires_at: number;
  readonly status: ApprovalStatus;
  readonly created_at: string;
  /** SNS message id of the approval request, once published. */
  readonly message_id?: string;
  /** Epoch seconds at which a notify invocation last claimed the right to publish. */
  readonly notify_claimed_at?: number;
  /** When the `approval_requested` audit step was written. */
  readonly audited_at?: string;
  readonly decided_by?: string;
  readonly decided_at?: string;
  /** The decision's reason, redacted. */
  readonly decision_reason?: string;
  /** Why the decision could not be delivered (Step Functions error name), for `expired`. */
  readonly callback_error?: string;
}

/** Approval ids: `apr-` and 32 hex digits (128 bits). */
export const APPROVAL_ID_PATTERN = /^apr-[0-9a-f]{32}$/;

/**
 * The approval id of a task token: deterministic, so a redelivered RequestApproval maps onto
 * the same approval, and one-way, so the id (which is published) reveals nothing of the token.
 * Guessing an id means guessing 128 bits of a hash of an unguessable token.
 */
export function approvalIdFor(taskToken: string): string {
  return `apr-${createHash('sha256').update(`suture-approval\u0000${taskToken}`).digest('hex').slice(0, 32)}`;
}

/** What {@link ApprovalStore.decide} writes. */
export interface Decision {
  readonly status: 'approved' | 'rejected';
  /** The approver's IAM ARN, from the function URL's IAM authorizer. */
  readonly approver: string;
  /** Redacted reason, if any. */
  readonly reason?: string;
  readonly at: Date;
}

/** An item unmarshalled: S attributes are strings, N attributes numbers. */
type StoredItem = Record<string, unknown>;

const str = (item: StoredItem, key: string): string | undefined =>
  typeof item[key] === 'string' ? item[key] : undefined;
const num = (item: StoredItem, key: string): number | undefined =>
  typeof item[key] === 'number' ? item[key] : undefined;

/** The stored steps (JSON), or undefined when the item has none or they do not parse as steps. */
function stepsOf(item: StoredItem): PlanStepSummary[] | undefined {
  const text = str(item, 'steps');
  if (text === undefined) return undefined;
  try {
    const parsed = PlanStepSummarySchema.array().min(1).safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function fromItem(attributes: Record<string, AttributeValue>): ApprovalItem {
  const item: StoredItem = unmarshall(attributes);
  const optional = <T>(key: string, value: T | undefined) => (value === undefined ? {} : { [key]: value });
  return {
    approval_id: str(item, 'approval_id')!,
    task_token: str(item, 'task_token')!,
    incident_id: str(item, 'incident_id')!,
    action: str(item, 'action')!,
    ...optional('steps', stepsOf(item)),
    ...optional('plan_sha256', str(item, 'plan_sha256')),
    expires_at: num(item, 'expires_at')!,
    status: str(item, 'status') as ApprovalStatus,
    created_at: str(item, 'created_at')!,
    ...optional('message_id', str(item, 'message_id')),
    ...optional('notify_claimed_at', num(item, 'notify_claimed_at')),
    ...optional('audited_at', str(item, 'audited_at')),
    ...optional('decided_by', str(item, 'decided_by')),
    ...optional('decided_at', str(item, 'decided_at')),
    ...optional('decision_reason', str(item, 'decision_reason')),
    ...optional('callback_error', str(item, 'callback_error')),
  };
}

const epochSeconds = (at: Date): number => Math.floor(at.getTime() / 1000);

/**
 * Reads and transitions approvals with conditional writes, so two notify invocations never
 * create two approvals for one task and two approvers never both decide one approval.
 * AWS errors never carry the item (no `ReturnValuesOnConditionCheckFailure`), so no error
 * message can leak a token.
 */
export class ApprovalStore {
  // Plain values go through @aws-sdk/util-dynamodb (string → S, number → N). Not lib-dynamodb's
  // document client: it refuses clients with `cacheMiddleware`, which the shared clients use.
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /**
   * Creates a pending approval unless one exists for the id; the creator also holds the claim
   * to publish the request. Returns false when the approval already existed (a redelivery).
   */
  async createPending(approval: {
    readonly approvalId: string;
    readonly taskToken: string;
    readonly incidentId: string;
    readonly action: string;
    /** Every step of the plan, with the digest that binds them. */
    readonly plan?: { readonly steps: readonly PlanStepSummary[]; readonly sha256: string };
    readonly expiresAt: number;
    readonly now: Date;
  }): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall({
            approval_id: approval.approvalId,
            task_token: approval.taskToken,
            incident_id: approval.incidentId,
            action: approval.action,
            ...(approval.plan
              ? { steps: JSON.stringify(approval.plan.steps), plan_sha256: approval.plan.sha256 }
              : {}),
            expires_at: approval.expiresAt,
            status: 'pending',
            created_at: approval.now.toISOString(),
            notify_claimed_at: epochSeconds(approval.now),
          }),
          ConditionExpression: 'attribute_not_exists(approval_id)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      return rethrowAws(error, `PutItem ${this.tableName}`);
    }
  }

  /** The approval, read consistently, or undefined. */
  async get(approvalId: string): Promise<ApprovalItem | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: marshall({ approval_id: approvalId }),
          ConsistentRead: true,
        }),
      );
      return Item ? fromItem(Item) : undefined;
    } catch (error) {
      return rethrowAws(error, `GetItem ${this.tableName}`);
    }
  }

  /**
   * Takes over publishing an approval request whose message is not recorded yet, when the last
   * claim is older than `leaseSeconds` (its holder crashed or timed out). False when the
   * message is recorded or another invocation holds a fresh claim.
   */
  async claimNotification(approvalId: string, now: Date, leaseSeconds: number): Promise<boolean> {
    return this.conditionalUpdate(
      approvalId,
      'SET notify_claimed_at = :now',
      'attribute_exists(approval_id) AND attribute_not_exists(message_id) AND notify_claimed_at < :stale',
      { ':now': epochSeconds(now), ':stale': epochSeconds(now) - leaseSeconds },
    );
  }

  /** Records the published request's message id (first writer wins). */
  async recordMessage(approvalId: string, messageId: string): Promise<boolean> {
    return this.conditionalUpdate(
      approvalId,
      'SET message_id = :message',
      'attribute_exists(approval_id) AND attribute_not_exists(message_id)',
      { ':message': messageId },
    );
  }

  /** Marks the `approval_requested` audit step as written. */
  async markAudited(approvalId: string, at: Date): Promise<void> {
    await this.conditionalUpdate(approvalId, 'SET audited_at = :at', 'attribute_exists(approval_id)', {
      ':at': at.toISOString(),
    });
  }

  /**
   * pending → approved | rejected, only while pending and not expired. Throws
   * {@link ApprovalNotFoundError} (404), {@link ApprovalAlreadyDecidedError} (409) or
   * {@link ApprovalExpiredError} (410) otherwise. Returns the decided approval (with its token).
   */
  async decide(approvalId: string, decision: Decision): Promise<ApprovalItem> {
    const names = { '#status': 'status' };
    const values: Record<string, string | number> = {
      ':decided': decision.status,
      ':pending': 'pending',
      ':by': decision.approver,
      ':at': decision.at.toISOString(),
      ':now': epochSeconds(decision.at),
      ...(decision.reason !== undefined ? { ':reason': decision.reason } : {}),
    };
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ approval_id: approvalId }),
          UpdateExpression:
            'SET #status = :decided, decided_by = :by, decided_at = :at' +
            (decision.reason !== undefined ? ', decision_reason = :reason' : ''),
          ConditionExpression: 'attribute_exists(approval_id) AND #status = :pending AND expires_at > :now',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: marshall(values),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(Attributes!);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) {
        return rethrowAws(error, `UpdateItem ${this.tableName}`);
      }
    }
    const current = await this.get(approvalId);
    if (!current) throw new ApprovalNotFoundError(approvalId);
    if (current.status === 'expired') {
      throw new ApprovalExpiredError(
        `approval ${approvalId} expired: the workflow no longer waits for it` +
          (current.callback_error ? ` (${current.callback_error})` : ''),
      );
    }
    if (current.status !== 'pending') {
      throw new ApprovalAlreadyDecidedError(
        approvalId,
        current.status,
        current.decided_by,
        current.decided_at,
      );
    }
    throw new ApprovalExpiredError(
      `approval ${approvalId} expired at ${new Date(current.expires_at * 1000).toISOString()}`,
    );
  }

  /**
   * Undoes {@link decide} when the decision could not be delivered for a reason that may pass
   * (throttling, an outage), so the approver can decide again. Only the decision written at
   * `decidedAt` is undone.
   */
  async revertToPending(approvalId: string, decidedAt: Date): Promise<void> {
    await this.conditionalUpdate(
      approvalId,
      'SET #status = :pending REMOVE decided_by, decided_at, decision_reason',
      'decided_at = :at AND #status <> :pending',
      { ':pending': 'pending', ':at': decidedAt.toISOString() },
      { '#status': 'status' },
    );
  }

  /** Marks a decided approval `expired` because Step Functions no longer accepts its token. */
  async markExpired(approvalId: string, decidedAt: Date, callbackError: string): Promise<void> {
    await this.conditionalUpdate(
      approvalId,
      'SET #status = :expired, callback_error = :error',
      'decided_at = :at',
      { ':expired': 'expired', ':error': callbackError, ':at': decidedAt.toISOString() },
      { '#status': 'status' },
    );
  }

  private async conditionalUpdate(
    approvalId: string,
    update: string,
    condition: string,
    values: Record<string, string | number>,
    names?: Record<string, string>,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ approval_id: approvalId }),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeValues: marshall(values),
          ...(names ? { ExpressionAttributeNames: names } : {}),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      return rethrowAws(error, `UpdateItem ${this.tableName}`);
    }
  }
}
