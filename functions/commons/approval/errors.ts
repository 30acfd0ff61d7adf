/**
 * Why an approval decision was refused. Each error carries the HTTP status the function URL
 * answers with, so the approval function maps errors to responses in one place and
 * `suture approve` can tell "refused" (exit 1) from "bad request" (exit 2).
 */

/** Base of every refusal; `statusCode` is the function URL's answer. */
export abstract class ApprovalRefusedError extends Error {
  abstract readonly statusCode: number;
}

/** The request is not a usable decision (bad JSON, unknown decision, malformed approval id). */
export class ApprovalRequestError extends ApprovalRefusedError {
  readonly statusCode = 400;
  constructor(message: string) {
    super(message);
    this.name = 'ApprovalRequestError';
  }
}

/** The request did not come through the function URL with AWS_IAM auth, so it names no approver. */
export class ApprovalForbiddenError extends ApprovalRefusedError {
  readonly statusCode = 403;
  constructor(message: string) {
    super(message);
    this.name = 'ApprovalForbiddenError';
  }
}

/** The function URL was called with a method other than POST. */
export class ApprovalMethodError extends ApprovalRefusedError {
  readonly statusCode = 405;
  constructor(method: string) {
    super(`method ${method} is not allowed: POST the decision as JSON`);
    this.name = 'ApprovalMethodError';
  }
}

/** No approval with this id (never issued, or removed by TTL after it expired). */
export class ApprovalNotFoundError extends ApprovalRefusedError {
  readonly statusCode = 404;
  constructor(approvalId: string) {
    super(`unknown approval id ${approvalId}`);
    this.name = 'ApprovalNotFoundError';
  }
}

/** Someone already decided this approval; a decision is taken once. */
export class ApprovalAlreadyDecidedError extends ApprovalRefusedError {
  readonly statusCode = 409;
  constructor(approvalId: string, status: string, decidedBy?: string, decidedAt?: string) {
    super(
      `approval ${approvalId} is already decided: ${status}` +
        (decidedBy ? ` by ${decidedBy}` : '') +
        (decidedAt ? ` at ${decidedAt}` : ''),
    );
    this.name = 'ApprovalAlreadyDecidedError';
  }
}

/** The approval expired, or the workflow stopped waiting for it (task timed out or gone). */
export class ApprovalExpiredError extends ApprovalRefusedError {
  readonly statusCode = 410;
  constructor(message: string) {
    super(message);
    this.name = 'ApprovalExpiredError';
  }
}

/**
 * Step Functions refused the decision for a reason other than a gone task (access denied, a
 * malformed output). The approval is pending again; the message never contains the token.
 */
export class ApprovalCallbackError extends Error {
  readonly statusCode = 502;
  constructor(message: string) {
    super(message);
    this.name = 'ApprovalCallbackError';
  }
}
