import { z } from 'zod';
import {
  ApprovalResultSchema,
  EvidenceSchema,
  PlanSchema,
  WorkflowIncidentSchema,
} from '../commons/workflow/schema';

/** What ExecuteRepair reads from the workflow state. */
export const ExecuteInputSchema = z.looseObject({
  incident: WorkflowIncidentSchema,
  plan: PlanSchema,
  /** The PolicyGate state's decision: what the workflow believes was allowed. */
  decision: z.looseObject({
    allow: z.boolean(),
    require_approval: z.boolean(),
    bundle_revision: z.string().min(1),
    reasons: z.array(z.object({ code: z.string(), msg: z.string() })),
  }),
  approval: ApprovalResultSchema.optional(),
  /** `$.evidence` (CollectEvidence): where the code came from, for pull requests. */
  evidence: EvidenceSchema.optional(),
});
export type ExecuteInput = z.infer<typeof ExecuteInputSchema>;

const name = (what: string) =>
  z.string({ error: `${what} must be a string` }).min(1, `${what} must not be empty`);

/** The branch a pull request comes from: always under `suture/` (the policy checks it too). */
const suturebranch = z
  .string()
  .regex(/^suture\/[A-Za-z0-9._/-]+$/, 'branch must be under suture/ (letters, digits, . _ / -)')
  .refine((branch) => !branch.includes('..') && !branch.endsWith('/') && !branch.endsWith('.lock'), {
    message: 'branch is not a valid git branch name',
  });

/** Parameters of each action, as the executor needs them (the policy checked them too). */
export const ActionParameterSchemas = {
  retry_stage: z.object({
    pipeline: name('pipeline'),
    stage: name('stage'),
    execution_id: name('execution_id'),
    retry_mode: z.enum(['FAILED_ACTIONS', 'ALL_ACTIONS']).default('FAILED_ACTIONS'),
    delay_seconds: z.number().int().min(0).optional(),
  }),
  start_pipeline_execution: z.object({ pipeline: name('pipeline') }),
  rollback_stage: z.object({
    pipeline: name('pipeline'),
    stage: name('stage'),
    target_execution_id: name('target_execution_id'),
  }),
  stop_pipeline_execution: z.object({
    pipeline: name('pipeline'),
    execution_id: name('execution_id'),
    abandon: z.boolean().default(false),
    reason: z.string().max(200).optional(),
  }),
  revert_parameter: z.object({
    parameter_name: name('parameter_name'),
    to_version: z.number().int().min(1),
  }),
  open_patch_proposal: z.object({
    title: name('title'),
    summary: z.string().optional(),
    patch: name('patch'),
    branch: suturebranch.optional(),
  }),
  redrive_execution: z.object({ execution_arn: name('execution_arn') }),
  /** A pull request reverting the commit the failed execution ran (the policy checks it is that one). */
  revert_commit: z.object({
    commit: z.string().regex(/^[0-9a-f]{40}$/, 'commit must be a full 40-hex commit id'),
    reason: z.string().max(500).optional(),
    branch: suturebranch.optional(),
  }),
  escalate: z.object({ reason: z.string().optional() }),
} as const;

/** Every action the executor knows. */
export type ActionName = keyof typeof ActionParameterSchemas;

/** One mutation request: the unit the idempotency store remembers. */
export interface MutationRequest {
  readonly incident_id: string;
  readonly action: ActionName;
  readonly parameters: Record<string, unknown>;
}
