import { z } from 'zod';
import { requiredVariable } from '../commons/config';
import { ReasonSchema } from '../commons/policy-gate/schema';

/** What a notification is about: the three workflow states that call notify. */
export const NOTIFICATION_KINDS = ['escalation', 'resolved', 'approval'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** Default lifetime of an approval request: one day. */
export const DEFAULT_APPROVAL_TTL_SECONDS = 86_400;

/** Default lock of an audit digest: one year (the module's `audit_digest_retention_days`). */
export const DEFAULT_DIGEST_RETENTION_DAYS = 365;

/** The notify function's environment. */
export const NotifyEnvironmentSchema = z
  .object({
    SUTURE_TOPIC_ARN: requiredVariable('SUTURE_TOPIC_ARN').regex(
      /^arn:[\w-]+:sns:[\w-]+:\d{12}:[\w.-]+$/,
      'SUTURE_TOPIC_ARN must be an SNS topic ARN',
    ),
    SUTURE_APPROVAL_TABLE: requiredVariable('SUTURE_APPROVAL_TABLE'),
    SUTURE_AUDIT_TABLE: requiredVariable('SUTURE_AUDIT_TABLE'),
    SUTURE_APPROVAL_TTL_SECONDS: z
      .string()
      .optional()
      .transform((raw, ctx) => {
        if (raw === undefined || raw.trim() === '') return DEFAULT_APPROVAL_TTL_SECONDS;
        const seconds = Number(raw);
        if (!Number.isInteger(seconds) || seconds < 60 || seconds > 31_536_000) {
          ctx.addIssue({
            code: 'custom',
            message: 'SUTURE_APPROVAL_TTL_SECONDS must be a whole number of seconds from 60 to 31536000',
          });
          return z.NEVER;
        }
        return seconds;
      }),
    /** Optional: the approval function URL, quoted in the `suture approve` command of the message. */
    SUTURE_APPROVAL_URL: z.url({ error: 'SUTURE_APPROVAL_URL must be a URL' }).optional(),
    /**
     * The audit digest signing key (KMS, SIGN_VERIFY): with it, Escalate and NotifyResolved seal
     * the incident's chain (docs/audit.md). Without it nothing is sealed.
     */
    SUTURE_DIGEST_KEY_ARN: z
      .string()
      .regex(/^arn:[\w-]+:kms:[\w-]+:\d{12}:key\/[\w-]+$/, 'SUTURE_DIGEST_KEY_ARN must be a KMS key ARN')
      .optional(),
    /** The evidence bucket the digests go to (`digests/`); required with SUTURE_DIGEST_KEY_ARN. */
    SUTURE_EVIDENCE_BUCKET: z.string().min(1).optional(),
    /** Days each digest is locked (S3 Object Lock, governance mode). */
    SUTURE_DIGEST_RETENTION_DAYS: z
      .string()
      .optional()
      .transform((raw, ctx) => {
        if (raw === undefined || raw.trim() === '') return DEFAULT_DIGEST_RETENTION_DAYS;
        const days = Number(raw);
        if (!Number.isInteger(days) || days < 1 || days > 36_500) {
          ctx.addIssue({
            code: 'custom',
            message: 'SUTURE_DIGEST_RETENTION_DAYS must be a whole number of days from 1 to 36500',
          });
          return z.NEVER;
        }
        return days;
      }),
  })
  .refine((env) => !env.SUTURE_DIGEST_KEY_ARN || env.SUTURE_EVIDENCE_BUCKET, {
    message: 'SUTURE_EVIDENCE_BUCKET is required with SUTURE_DIGEST_KEY_ARN (digests are stored there)',
    path: ['SUTURE_EVIDENCE_BUCKET'],
  });
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
