import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { AuditTrail, AuditUnavailableError } from '../commons/audit';
import { awsClient } from '../commons/aws/clients';
import { readEnvironment } from '../commons/config';
import { lambdaHandler } from '../commons/lambda-handler';
import { isTransientAwsError, TransientAwsError } from '../commons/errors';
import { logger, metrics } from '../commons/observability';
import { describeIssues } from '../commons/zod';
import { redactText } from '../commons/redact';
import { ApprovalResultSchema, type ApprovalResult } from '../commons/workflow/schema';
import {
  ApprovalCallbackError,
  ApprovalExpiredError,
  ApprovalForbiddenError,
  ApprovalMethodError,
  ApprovalRefusedError,
  ApprovalRequestError,
} from '../commons/approval/errors';
import {
  ApprovalEnvironmentSchema,
  ApprovalRequestSchema,
  FunctionUrlEventSchema,
  type ApprovalEnvironment,
  type ApprovalOutcome,
  type ApprovalRequest,
  type FunctionUrlResponse,
} from './schema';
import { ApprovalStore, type ApprovalItem } from '../commons/approval/store';
import { withoutTaskToken } from '../commons/approval/token';

/** The error name RequestApproval's Catch matches (docs/workflow.md). */
export const APPROVAL_REJECTED_ERROR = 'ApprovalRejectedError';

/** Step Functions errors meaning the task no longer waits for this token. */
const TASK_GONE = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);

let environment: ApprovalEnvironment | undefined;

/** Test hook: read the environment again on the next call. */
export function resetApprovalForTests(): void {
  environment = undefined;
}

/** Resumes the waiting RequestApproval task: success with {@link ApprovalResult}, or ApprovalRejectedError. */
async function sendCallback(approval: ApprovalItem, approver: string, at: string): Promise<void> {
  const sfn = awsClient(SFNClient);
  if (approval.status === 'approved') {
    const output: ApprovalResult = ApprovalResultSchema.parse({
      approved: true,
      approver,
      action: approval.action,
      ...(approval.steps ? { steps: approval.steps } : {}),
      ...(approval.plan_sha256 ? { plan_sha256: approval.plan_sha256 } : {}),
      at,
    });
    await sfn.send(
      new SendTaskSuccessCommand({ taskToken: approval.task_token, output: JSON.stringify(output) }),
    );
    return;
  }
  const reason = approval.decision_reason ?? 'no reason given';
  await sfn.send(
    new SendTaskFailureCommand({
      taskToken: approval.task_token,
      error: APPROVAL_REJECTED_ERROR,
      cause: `Rejected by ${approver}: ${reason}`,
    }),
  );
}

/**
 * Writes the `approval_not_delivered` audit step. Its own failure is logged and not thrown:
 * the caller is already failing with the error that matters to the approver (why the
 * decision was not delivered), and the approval item records the state.
 */
async function auditUndelivered(
  audit: AuditTrail,
  approval: ApprovalItem,
  facts: Record<string, unknown>,
  now: Date,
): Promise<void> {
  try {
    await audit.append(approval.incident_id, 'approval_not_delivered', facts, now);
  } catch (error) {
    logger.error('could not audit an undelivered approval', {
      approval_id: approval.approval_id,
      error: (error as Error).message,
    });
  }
}

/**
 * Decides one approval for `approver` (an IAM ARN the caller has already authenticated):
 * pending → approved | rejected with a conditional write (404 unknown, 409 already decided,
 * 410 expired), the `approval` audit step, then SendTaskSuccess or SendTaskFailure
 * (ApprovalRejectedError). When Step Functions no longer waits for the token the approval
 * becomes `expired` (410); when it fails otherwise the approval is pending again and the
 * error says to retry. The task token is never logged, audited or put in an error message.
 */
export async function decideApproval(
  request: ApprovalRequest,
  approver: string,
  now: Date = new Date(),
): Promise<ApprovalOutcome> {
  environment ??= readEnvironment('approval', ApprovalEnvironmentSchema);
  const dynamo = awsClient(DynamoDBClient);
  const store = new ApprovalStore(dynamo, environment.SUTURE_APPROVAL_TABLE);
  const audit = new AuditTrail(dynamo, environment.SUTURE_AUDIT_TABLE);
  const reason = request.reason === undefined ? undefined : redactText(request.reason).text;
  const status = request.decision === 'approve' ? 'approved' : 'rejected';
  const at = now.toISOString();

  const approval = await store.decide(request.approval_id, {
    status,
    approver,
    ...(reason !== undefined ? { reason } : {}),
    at: now,
  });
  const facts = {
    approval_id: approval.approval_id,
    decision: status,
    approver,
    action: approval.action,
    ...(approval.steps ? { steps: approval.steps.map((step) => step.action) } : {}),
    ...(approval.plan_sha256 ? { plan_sha256: approval.plan_sha256 } : {}),
    ...(reason !== undefined ? { reason } : {}),
    at,
  };
  try {
    // Audited before the workflow resumes: no repair runs on an approval the trail does not show.
    await audit.append(approval.incident_id, 'approval', facts, now);
  } catch (error) {
    await store.revertToPending(approval.approval_id, now);
    throw error;
  }

  try {
    await sendCallback(approval, approver, at);
  } catch (error) {
    const name = (error as Error).name;
    // AWS error messages might echo the token.
    const message = withoutTaskToken((error as Error).message ?? '', approval.task_token);
    if (TASK_GONE.has(name)) {
      await store.markExpired(approval.approval_id, now, name);
      await auditUndelivered(audit, approval, { ...facts, error: name, status: 'expired' }, now);
      metrics.addMetric('ApprovalsExpired', MetricUnit.Count, 1);
      throw new ApprovalExpiredError(
        `approval ${approval.approval_id}: the workflow no longer waits for it (${name})`,
      );
    }
    await store.revertToPending(approval.approval_id, now);
    await auditUndelivered(audit, approval, { ...facts, error: name, status: 'pending' }, now);
    // The SDK error is not kept as `cause`: its message or response may echo the token.
    const what = `${status === 'approved' ? 'SendTaskSuccess' : 'SendTaskFailure'} failed (${name}: ${message}); approval ${approval.approval_id} is pending again, retry`;
    if (isTransientAwsError(error)) throw new TransientAwsError(what);
    throw new ApprovalCallbackError(what);
  }

  logger.info('approval decided', {
    approval_id: approval.approval_id,
    incident_id: approval.incident_id,
    decision: status,
    approver,
    action: approval.action,
  });
  metrics.addMetric(status === 'approved' ? 'ApprovalsGranted' : 'ApprovalsRejected', MetricUnit.Count, 1);
  return {
    approval_id: approval.approval_id,
    incident_id: approval.incident_id,
    decision: status,
    approver,
    action: approval.action,
    ...(approval.steps ? { steps: approval.steps } : {}),
    ...(approval.plan_sha256 ? { plan_sha256: approval.plan_sha256 } : {}),
    at,
  };
}

/** The approver and the decision from a function URL event; refuses anything else. */
export function parseFunctionUrlEvent(event: unknown): { approver: string; request: ApprovalRequest } {
  const parsed = FunctionUrlEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new ApprovalForbiddenError(
      'not a function URL request: decisions are accepted only through the function URL with AuthType AWS_IAM',
    );
  }
  const { requestContext, body, isBase64Encoded } = parsed.data;
  const approver = requestContext.authorizer?.iam.userArn;
  if (!approver) {
    throw new ApprovalForbiddenError(
      'the request carries no IAM identity: the function URL must use AWS_IAM',
    );
  }
  if (requestContext.http.method.toUpperCase() !== 'POST')
    throw new ApprovalMethodError(requestContext.http.method);
  const text = isBase64Encoded ? Buffer.from(body ?? '', 'base64').toString('utf8') : (body ?? '');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ApprovalRequestError('the body is not JSON: send {"approval_id", "decision", "reason"?}');
  }
  const request = ApprovalRequestSchema.safeParse(json);
  if (!request.success) throw new ApprovalRequestError(describeIssues(request.error));
  return { approver, request: request.data };
}

function respond(statusCode: number, body: unknown): FunctionUrlResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/**
 * The function URL entry point: 200 with the decision, or the refusal as
 * `{ error, message }` with 400, 403, 404, 405, 409 or 410; 502/503 when the decision could not
 * be delivered and may be retried. Anything else is thrown (the URL answers 502).
 */
export async function handleApprovalUrl(
  event: unknown,
  now: Date = new Date(),
): Promise<FunctionUrlResponse> {
  try {
    const { approver, request } = parseFunctionUrlEvent(event);
    logger.appendKeys({ approval_id: request.approval_id });
    return respond(200, await decideApproval(request, approver, now));
  } catch (error) {
    if (error instanceof ApprovalRefusedError) {
      logger.warn('approval refused', { status: error.statusCode, reason: error.message });
      metrics.addMetric('ApprovalsRefused', MetricUnit.Count, 1);
      return respond(error.statusCode, { error: error.name, message: error.message });
    }
    if (error instanceof ApprovalCallbackError) {
      logger.error('approval not delivered', { reason: error.message });
      return respond(error.statusCode, { error: error.name, message: error.message });
    }
    if (error instanceof TransientAwsError || error instanceof AuditUnavailableError) {
      logger.error('approval not recorded', { reason: error.message });
      return respond(503, { error: error.name, message: `${error.message}: try again` });
    }
    throw error;
  } finally {
    logger.removeKeys(['approval_id']);
  }
}

/** The Lambda entry point: {@link handleApprovalUrl} with Powertools logging, metrics and tracing. */
export const handler = lambdaHandler((event: unknown) => handleApprovalUrl(event));
