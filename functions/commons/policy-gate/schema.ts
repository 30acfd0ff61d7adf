import { z } from 'zod';

/** RFC 3339 date-time with an explicit offset, as the policy's `input.context.now` requires. */
export const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|([+-])(\d{2}):(\d{2}))$/;

const text = (what: string) => z.string({ error: `${what} must be a string` });
const nonEmpty = (what: string) => text(what).min(1, `${what} must not be empty`);
const unit = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .min(0, `${what} must be ≥ 0`)
    .max(1, `${what} must be ≤ 1`);
const count = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .int()
    .min(0, `${what} must be ≥ 0`);

/** The failure being remediated. Extra fields pass through to the policy. */
export const IncidentSchema = z.looseObject({
  id: nonEmpty('incident.id'),
  pipeline: nonEmpty('incident.pipeline'),
  stage: text('incident.stage'),
  action: text('incident.action'),
  execution_id: nonEmpty('incident.execution_id'),
  account: nonEmpty('incident.account'),
  region: nonEmpty('incident.region'),
  class: nonEmpty('incident.class'),
  confidence: unit('incident.confidence'),
  fingerprint: nonEmpty('incident.fingerprint'),
});

/** What a playbook or a model proposes to do. */
export const ProposalSchema = z.looseObject({
  action: nonEmpty('proposal.action'),
  parameters: z.record(z.string(), z.unknown(), { error: 'proposal.parameters must be an object' }),
  source: z.enum(['playbook', 'model'], { error: 'proposal.source must be "playbook" or "model"' }),
  rationale: text('proposal.rationale'),
  confidence: unit('proposal.confidence'),
});

/** A human's answer to an approval request; `steps` binds it to every step of a plan. */
export const ApprovalSchema = z.looseObject({
  approved: z.boolean({ error: 'context.approval.approved must be a boolean' }),
  approver: nonEmpty('context.approval.approver'),
  action: nonEmpty('context.approval.action'),
  steps: z
    .array(
      z.object({
        action: nonEmpty('context.approval.steps[].action'),
        parameters: z.record(z.string(), z.unknown(), {
          error: 'context.approval.steps[].parameters must be an object',
        }),
      }),
      { error: 'context.approval.steps must be a list of {action, parameters}' },
    )
    .optional(),
});

/** Facts about the moment of the decision; the policy never reads a clock. */
export const ContextSchema = z.looseObject({
  now: text('context.now').regex(RFC3339, 'context.now must be an RFC 3339 date-time with offset'),
  attempts: z.looseObject({
    fingerprint_24h: count('context.attempts.fingerprint_24h'),
    pipeline_1h: count('context.attempts.pipeline_1h'),
  }),
  recent_failed_validations: count('context.recent_failed_validations'),
  stage_protected: z.boolean({ error: 'context.stage_protected must be a boolean' }),
  rollback_target_succeeded: z.boolean({ error: 'context.rollback_target_succeeded must be a boolean' }),
  pipeline_tags: z.record(z.string(), z.string(), {
    error: 'context.pipeline_tags must map strings to strings',
  }),
  approval: ApprovalSchema.optional(),
});

/** Most follow-up steps a plan may carry (the policy's `plan_max_steps` bounds it again). */
export const MAX_FOLLOW_UP_STEPS = 2;

/**
 * The whole policy input: the proposal is the plan's first step, `then` the steps that follow
 * it (the policy judges each and decides the plan as one).
 */
export const GateInputSchema = z.object({
  incident: IncidentSchema,
  proposal: ProposalSchema,
  then: z
    .array(ProposalSchema, { error: 'then must be a list of proposals' })
    .max(MAX_FOLLOW_UP_STEPS, `then holds at most ${MAX_FOLLOW_UP_STEPS} follow-up steps`)
    .optional(),
  context: ContextSchema,
});

/** Validated policy input. */
export type GateInput = z.infer<typeof GateInputSchema>;

/** One reason of a decision. */
export const ReasonSchema = z.object({ code: z.string().min(1), msg: z.string() });

/** A reason with a stable code and a message for humans. */
export type Reason = z.infer<typeof ReasonSchema>;

/** What the compiled policy returns; anything else is treated as a failure of the policy. */
export const PolicyDecisionSchema = z
  .object({
    allow: z.boolean(),
    require_approval: z.boolean(),
    mode: z.string(),
    reasons: z.array(ReasonSchema).min(1),
  })
  .refine((d) => !(d.allow && d.require_approval), 'allow and require_approval are both true');

/** The gate's answer: the policy's decision plus where it came from and what it cost. */
export interface GateDecision {
  readonly allow: boolean;
  readonly require_approval: boolean;
  readonly mode: string;
  readonly reasons: readonly Reason[];
  readonly bundle_revision: string;
  readonly bundle_sha256: string;
  /** Wall time of the evaluation in microseconds. */
  readonly evaluation_us: number;
}

/** Kept for the importers of this module; the formatter lives in functions/commons/zod.ts. */
export { describeIssues } from '../zod';
