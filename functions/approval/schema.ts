import { z } from 'zod';
import { requiredVariable } from '../commons/config';
import { APPROVAL_ID_PATTERN } from '../commons/approval/store';
import type { PlanStepSummary } from '../commons/workflow/schema';

/** Longest reason accepted; it travels as a SendTaskFailure cause and into the audit record. */
export const REASON_MAX_CHARS = 1000;

/** The approval function's environment. */
export const ApprovalEnvironmentSchema = z.object({
  SUTURE_APPROVAL_TABLE: requiredVariable('SUTURE_APPROVAL_TABLE'),
  SUTURE_AUDIT_TABLE: requiredVariable('SUTURE_AUDIT_TABLE'),
});
export type ApprovalEnvironment = z.infer<typeof ApprovalEnvironmentSchema>;

/** The JSON body `suture approve` POSTs to the function URL. */
export const ApprovalRequestSchema = z.strictObject({
  approval_id: z.string().regex(APPROVAL_ID_PATTERN, 'approval_id must look like apr-<32 hex digits>'),
  decision: z.enum(['approve', 'reject'], { error: 'decision must be "approve" or "reject"' }),
  reason: z
    .string()
    .max(REASON_MAX_CHARS, `reason must be at most ${REASON_MAX_CHARS} characters`)
    .optional(),
});
export type ApprovalRequest = z.infer<typeof ApprovalRequestSchema>;

/**
 * The parts of a Lambda function URL event (payload format 2.0) the function reads. With
 * AuthType AWS_IAM, Lambda verifies the SigV4 signature and the caller's permission, then sets
 * `requestContext.authorizer.iam`; the approver is that `userArn`, never a field of the body.
 */
export const FunctionUrlEventSchema = z.object({
  requestContext: z.object({
    http: z.object({ method: z.string() }),
    authorizer: z
      .object({
        iam: z.object({
          userArn: z.string().regex(/^arn:aws[\w-]*:(?:iam|sts)::\d{12}:\S+$/, 'userArn must be an IAM ARN'),
          accountId: z.string().optional(),
        }),
      })
      .optional(),
  }),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
});

/** What a successful decision returns (the function URL's 200 body). */
export interface ApprovalOutcome {
  readonly approval_id: string;
  readonly incident_id: string;
  readonly decision: 'approved' | 'rejected';
  /** The approver's IAM ARN. */
  readonly approver: string;
  readonly action: string;
  /** Every step of the plan the decision covers, when the request named them. */
  readonly steps?: readonly PlanStepSummary[];
  /** SHA-256 of the canonical JSON of `steps`. */
  readonly plan_sha256?: string;
  readonly at: string;
}

/** A function URL response (payload format 2.0). */
export interface FunctionUrlResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}
