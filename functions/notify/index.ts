import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { PublishCommand, type MessageAttributeValue, SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import { approvalIdFor, ApprovalStore, type ApprovalItem } from '../commons/approval/store';
import { AuditTrail } from '../commons/audit';
import { sealChain } from '../commons/audit/seal';
import { awsClient } from '../commons/aws/clients';
import { readEnvironment } from '../commons/config';
import { rethrowAws, TransientAwsError } from '../commons/errors';
import { logger, metrics, tracer } from '../commons/observability';
import { describeIssues } from '../commons/policy-gate/schema';
import { redactText } from '../commons/redact';
import { planDigest, planSummary } from '../commons/workflow/plan';
import type { Plan } from '../commons/workflow/schema';
import { NotifyInputError } from './errors';
import {
  composeMessage,
  notificationDetails,
  readState,
  type ComposedMessage,
  type StateSections,
} from './message';
import {
  NotifyEnvironmentSchema,
  NotifyEventSchema,
  type NotificationKind,
  type NotifyEnvironment,
  type NotifyResult,
} from './schema';

/**
 * How long a notify invocation may hold the claim to publish an approval request before a
 * redelivery may take over (longer than the function's timeout).
 */
export const CLAIM_LEASE_SECONDS = 60;

/** What replaces the task token should it ever appear in a message. */
const TOKEN_PLACEHOLDER = '[task-token]';

let environment: NotifyEnvironment | undefined;

/** Test hook: read the environment again on the next call. */
export function resetNotifyForTests(): void {
  environment = undefined;
}

function attribute(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value };
}

/** Publishes one message; the attributes let subscriptions filter by kind, incident or pipeline. */
async function publish(
  env: NotifyEnvironment,
  kind: NotificationKind,
  state: StateSections,
  message: ComposedMessage,
  approvalId?: string,
): Promise<string> {
  try {
    const { MessageId } = await awsClient(SNSClient).send(
      new PublishCommand({
        TopicArn: env.SUTURE_TOPIC_ARN,
        Subject: message.subject,
        Message: message.body,
        MessageAttributes: {
          'suture.kind': attribute(kind),
          'suture.incident_id': attribute(state.incident.id),
          'suture.pipeline': attribute(redactText(state.incident.pipeline).text),
          ...(approvalId ? { 'suture.approval_id': attribute(approvalId) } : {}),
        },
      }),
    );
    return MessageId!;
  } catch (error) {
    return rethrowAws(error, `Publish ${env.SUTURE_TOPIC_ARN}`);
  }
}

/** The audit facts every notification shares (the audit trail redacts them again). */
function auditFacts(
  env: NotifyEnvironment,
  state: StateSections,
  message: ComposedMessage,
  messageId: string,
) {
  const decision = message.details.decision as { outcome?: unknown; reasons?: unknown } | undefined;
  return {
    message_id: messageId,
    topic_arn: env.SUTURE_TOPIC_ARN,
    subject: message.subject,
    truncated: message.truncated,
    ...(decision ? { decision: { outcome: decision.outcome, reasons: decision.reasons } } : {}),
    ...(state.sections.error ? { error: state.sections.error } : {}),
    ...(state.sections.validation ? { validation: state.sections.validation } : {}),
    ...(state.unreadable.length > 0 ? { unreadable_sections: state.unreadable } : {}),
  };
}

/** Escalate and NotifyResolved: one message and the `escalation` or `resolved` audit step. */
async function announce(
  env: NotifyEnvironment,
  kind: 'escalation' | 'resolved',
  state: StateSections,
  now: Date,
): Promise<NotifyResult> {
  const message = composeMessage(kind, notificationDetails(kind, state));
  const messageId = await publish(env, kind, state, message);
  const trail = new AuditTrail(awsClient(DynamoDBClient), env.SUTURE_AUDIT_TABLE);
  await trail.append(state.incident.id, kind, auditFacts(env, state, message, messageId), now);
  // The workflow ends after Escalate and NotifyResolved: their record is the incident's last.
  await sealChain(env, trail, state.incident.id, now);
  logger.info('notification published', {
    kind,
    message_id: messageId,
    redactions: message.redactions,
    truncated: message.truncated,
  });
  metrics.addMetric(kind === 'escalation' ? 'Escalations' : 'Resolutions', MetricUnit.Count, 1);
  return { message_id: messageId };
}

/** Replaces the token in every string of a JSON value: the state never holds it, unless a definition is wrong. */
function withoutToken<T>(value: T, taskToken: string): T {
  const escaped = JSON.stringify(taskToken).slice(1, -1);
  return JSON.parse(JSON.stringify(value).split(escaped).join(TOKEN_PLACEHOLDER)) as T;
}

/**
 * A redelivered request whose message is already out: returns it without publishing again,
 * writing the audit step if the first invocation stopped before it.
 */
async function alreadyRequested(
  store: ApprovalStore,
  audit: AuditTrail,
  approval: ApprovalItem,
  now: Date,
): Promise<NotifyResult> {
  if (!approval.audited_at) {
    await audit.append(
      approval.incident_id,
      'approval_requested',
      {
        approval_id: approval.approval_id,
        message_id: approval.message_id,
        action: approval.action,
        ...(approval.steps ? { steps: approval.steps.map((step) => step.action) } : {}),
        ...(approval.plan_sha256 ? { plan_sha256: approval.plan_sha256 } : {}),
        expires_at: new Date(approval.expires_at * 1000).toISOString(),
        redelivery: true,
      },
      now,
    );
    await store.markAudited(approval.approval_id, now);
  }
  logger.info('approval request already published', {
    approval_id: approval.approval_id,
    message_id: approval.message_id,
  });
  metrics.addMetric('ApprovalRequestsRedelivered', MetricUnit.Count, 1);
  return { message_id: approval.message_id!, approval_id: approval.approval_id };
}

/**
 * RequestApproval: stores the task token under an approval id derived from it (conditional
 * put: a redelivery finds the same approval and publishes nothing new), publishes the request
 * with the approval id and the `suture approve` command, never the token, and writes the
 * `approval_requested` audit step.
 */
async function requestApproval(
  env: NotifyEnvironment,
  state: StateSections,
  taskToken: string,
  now: Date,
): Promise<NotifyResult> {
  const plan = state.sections.plan as Plan | undefined;
  if (!plan || !state.sections.decision) {
    const problems = state.unreadable.length > 0 ? `: ${state.unreadable.join('; ')}` : '';
    throw new NotifyInputError(
      `an approval request needs state.plan and state.decision, to show the approver what they approve${problems}`,
    );
  }
  const dynamo = awsClient(DynamoDBClient);
  const store = new ApprovalStore(dynamo, env.SUTURE_APPROVAL_TABLE);
  const audit = new AuditTrail(dynamo, env.SUTURE_AUDIT_TABLE);
  const approvalId = approvalIdFor(taskToken);
  logger.appendKeys({ approval_id: approvalId });

  // The approval binds to every step of the plan (actions and exact parameters) and their digest.
  const steps = planSummary(plan);
  const planSha256 = planDigest(steps);
  let expiresAt = Math.floor(now.getTime() / 1000) + env.SUTURE_APPROVAL_TTL_SECONDS;
  const created = await store.createPending({
    approvalId,
    taskToken,
    incidentId: state.incident.id,
    action: plan.proposal.action,
    plan: { steps, sha256: planSha256 },
    expiresAt,
    now,
  });
  if (!created) {
    const existing = await store.get(approvalId);
    if (existing?.message_id) return alreadyRequested(store, audit, existing, now);
    if (!existing || !(await store.claimNotification(approvalId, now, CLAIM_LEASE_SECONDS))) {
      const current = await store.get(approvalId);
      if (current?.message_id) return alreadyRequested(store, audit, current, now);
      throw new TransientAwsError(`approval ${approvalId} is being published by another invocation`);
    }
    expiresAt = existing.expires_at;
  }

  const details = withoutToken(
    notificationDetails('approval', state, {
      approval_id: approvalId,
      expires_at: new Date(expiresAt * 1000).toISOString(),
      ...(env.SUTURE_APPROVAL_URL ? { url: env.SUTURE_APPROVAL_URL } : {}),
      steps: steps.map((step) => step.action),
      plan_sha256: planSha256,
    }),
    taskToken,
  );
  const message = composeMessage('approval', details);
  if (message.body.includes(taskToken) || message.subject.includes(taskToken)) {
    // Unreachable after withoutToken, kept as the last line of defence for the one secret
    // this function holds.
    throw new NotifyInputError('the approval message would contain the task token: not published');
  }
  const messageId = await publish(env, 'approval', state, message, approvalId);
  if (!(await store.recordMessage(approvalId, messageId))) {
    logger.warn('another invocation published the same approval request', { message_id: messageId });
  }
  await audit.append(
    state.incident.id,
    'approval_requested',
    {
      approval_id: approvalId,
      action: plan.proposal.action,
      steps: steps.map((step) => step.action),
      plan_sha256: planSha256,
      expires_at: new Date(expiresAt * 1000).toISOString(),
      ...auditFacts(env, state, message, messageId),
    },
    now,
  );
  await store.markAudited(approvalId, now);
  logger.info('approval requested', {
    message_id: messageId,
    action: plan.proposal.action,
    expires_at: expiresAt,
    redactions: message.redactions,
    truncated: message.truncated,
  });
  metrics.addMetric('ApprovalRequests', MetricUnit.Count, 1);
  return { message_id: messageId, approval_id: approvalId };
}

/**
 * Publishes one SNS notification for Escalate (`escalation`), NotifyResolved (`resolved`) or
 * RequestApproval (`approval`, with the task token), redacted and bounded to SNS's 256 KiB,
 * and audits it. Returns the message id (and the approval id for approvals). The event is
 * never logged; the task token never leaves the approval table.
 */
export async function notify(event: unknown, now: Date = new Date()): Promise<NotifyResult> {
  environment ??= readEnvironment('notify', NotifyEnvironmentSchema);
  const env = environment;
  const parsed = NotifyEventSchema.safeParse(event);
  if (!parsed.success) throw new NotifyInputError(`not a notify payload: ${describeIssues(parsed.error)}`);
  const request = parsed.data;
  const state = readState(request.state);
  logger.appendKeys({ incident_id: state.incident.id });
  try {
    return request.kind === 'approval'
      ? await requestApproval(env, state, request.task_token, now)
      : await announce(env, request.kind, state, now);
  } finally {
    logger.removeKeys(['incident_id', 'approval_id']);
  }
}

/** The Lambda entry point: {@link notify} with Powertools logging, metrics and tracing. */
export const handler = middy((event: unknown) => notify(event))
  .use(injectLambdaContext(logger, { logEvent: false }))
  .use(logMetrics(metrics))
  .use(captureLambdaHandler(tracer));
