import { z } from 'zod';
import { DigestEnvironmentFields, hasDigestBucket, MISSING_DIGEST_BUCKET } from '../commons/audit/seal';
import { integerVariable, requiredVariable } from '../commons/config';
import { ReasonSchema } from '../commons/policy-gate/schema';

/** What a notification is about: the three workflow states that call notify. */
export const NOTIFICATION_KINDS = ['escalation', 'resolved', 'approval'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** Default lifetime of an approval request: one day. */
export const DEFAULT_APPROVAL_TTL_SECONDS = 86_400;

export { DEFAULT_DIGEST_RETENTION_DAYS } from '../commons/audit/seal';

/** The notify function's environment. */
export const NotifyEnvironmentSchema = z
  .object({
    SUTURE_TOPIC_ARN: requiredVariable('SUTURE_TOPIC_ARN').regex(
      /^arn:[\w-]+:sns:[\w-]+:\d{12}:[\w.-]+$/,
      'SUTURE_TOPIC_ARN must be an SNS topic ARN',
    ),
    SUTURE_APPROVAL_TABLE: requiredVariable('SUTURE_APPROVAL_TABLE'),
    SUTURE_AUDIT_TABLE: requiredVariable('SUTURE_AUDIT_TABLE'),
    SUTURE_APPROVAL_TTL_SECONDS: integerVariable(
      'SUTURE_APPROVAL_TTL_SECONDS',
      60,
      31_536_000,
      DEFAULT_APPROVAL_TTL_SECONDS,
    ),
    /** Optional: the approval function URL, quoted in the `suture approve` command of the message. */
    SUTURE_APPROVAL_URL: z.url({ error: 'SUTURE_APPROVAL_URL must be a URL' }).optional(),
    ...DigestEnvironmentFields,
  })
  .refine(hasDigestBucket, MISSING_DIGEST_BUCKET);
export type NotifyEnvironment = z.infer<typeof NotifyEnvironmentSchema>;

/**
 * The notify payload (docs/workflow.md): Escalate and NotifyResolved send
 * `{ state, kind }`; RequestApproval sends `{ state, task_token, kind: "approval" }`.
 * Sections of `state` are validated one by one in the handler, so one drifted section does not
 * stop an escalation from reaching a human.
 */
export const NotifyEventSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('approval'),
    state: z.record(z.string(), z.unknown()),
    task_token: z.string().min(1, 'task_token must not be empty'),
  }),
  z.object({
    kind: z.enum(['escalation', 'resolved']),
    state: z.record(z.string(), z.unknown()),
  }),
]);
export type NotifyEvent = z.infer<typeof NotifyEventSchema>;

/** `$.decision` as the policy gate writes it (GateDecision). */
export const DecisionSchema = z.looseObject({
  allow: z.boolean(),
  require_approval: z.boolean(),
  mode: z.string(),
  reasons: z.array(ReasonSchema),
  bundle_revision: z.string(),
  bundle_sha256: z.string().optional(),
});

/** What notify returns: `$.escalation` for Escalate; the approval id for RequestApproval. */
export interface NotifyResult {
  readonly message_id: string;
  readonly approval_id?: string;
}
