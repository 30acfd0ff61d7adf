import { z } from 'zod';
import { ClassificationSchema } from '../classify/schema';

/**
 * The workflow's state document: what each Step Functions state reads and where it writes
 * its result (`ResultPath`). Handlers validate what they read with these schemas, so a
 * definition and a handler that drift apart fail with a named field, not a wrong action.
 * `docs/workflow.md` draws the same contract.
 */

/** Largest redacted text (excerpt) that travels through the state machine. */
export const EXCERPT_MAX_BYTES = 16 * 1024;
/** Largest redacted one-line summary kept on the incident. */
export const SUMMARY_MAX_CHARS = 1024;

/** The failure as triage saw it, redacted; `$.incident` for the whole execution. */
export const WorkflowIncidentSchema = z.looseObject({
  /** Deterministic: the same failure delivered twice gets the same id (and execution name). */
  id: z.string().min(1),
  source: z.enum(['codepipeline', 'cloudwatch_alarm']),
  detail_type: z.string(),
  /** FAILED for CodePipeline, ALARM for alarms. */
  state: z.string(),
  pipeline: z.string().min(1),
  /** Empty when the event names no stage (pipeline-level failure). */
  stage: z.string(),
  /** Empty when the event names no action. */
  action: z.string(),
  execution_id: z.string().min(1),
  account: z.string().min(1),
  region: z.string().min(1),
  event_id: z.string(),
  /** When the failure happened (the event's `time`). */
  event_time: z.string(),
  /** When triage saw it. */
  detected_at: z.string(),
  error_code: z.string().optional(),
  /** Redacted `external-execution-summary` or alarm reason, at most {@link SUMMARY_MAX_CHARS}. */
  summary: z.string().optional(),
  external_execution_id: z.string().optional(),
  provider: z.string().optional(),
  category: z.string().optional(),
  alarm_name: z.string().optional(),
  fingerprint: z.string().min(1),
});
export type WorkflowIncident = z.infer<typeof WorkflowIncidentSchema>;

/** Attempts counted by the loop guard before this one. */
export const AttemptsSchema = z.object({
  fingerprint_24h: z.number().int().min(0),
  pipeline_1h: z.number().int().min(0),
});

/** The execution input written by triage. */
export const WorkflowInputSchema = z.looseObject({
  incident: WorkflowIncidentSchema,
  attempts: AttemptsSchema,
});
export type WorkflowInput = z.infer<typeof WorkflowInputSchema>;

/** One action of the failed execution, as CodePipeline reported it. */
export const FailedActionSchema = z.object({
  stage: z.string(),
  action: z.string(),
  status: z.string(),
  provider: z.string().optional(),
  error_code: z.string().optional(),
  summary: z.string().optional(),
  external_execution_id: z.string().optional(),
});

/**
 * Where the failed execution's code came from (`$.evidence.source`): the pipeline's source
 * action and, for a CodeConnections source, its connection, repository (`owner/name`) and
 * branch; the commit the failed execution ran; the last successful execution and its commit.
 * `provider` is `connection` when the pipeline does not tell which host the connection reaches.
 */
export const SourceEvidenceSchema = z.object({
  action: z.string(),
  provider: z.enum(['github', 'gitlab', 'bitbucket', 'connection', 'codecommit', 's3', 'other']),
  connection_arn: z.string().optional(),
  repository: z.string().optional(),
  branch: z.string().optional(),
  revision: z.string().optional(),
  last_success: z.object({ execution_id: z.string(), revision: z.string() }).optional(),
});
export type SourceEvidence = z.infer<typeof SourceEvidenceSchema>;

/** Bounded, redacted evidence: `$.evidence`. The full evidence is in S3 under `object`. */
export const EvidenceSchema = z.looseObject({
  pipeline_execution: z.object({
    status: z.string(),
    execution_type: z.string().optional(),
    trigger: z.string().optional(),
  }),
  failed_actions: z.array(FailedActionSchema).max(20),
  build: z
    .object({
      id: z.string(),
      status: z.string(),
      log_group: z.string().optional(),
      log_stream: z.string().optional(),
    })
    .optional(),
  /** Redacted failing region(s) of the build log, at most {@link EXCERPT_MAX_BYTES}. */
  excerpt: z.string(),
  alarms: z.array(z.object({ name: z.string(), state: z.string(), reason: z.string().optional() })).max(20),
  /** The last execution that succeeded in the failed stage, if any: what a rollback returns to. */
  rollback_target: z.object({ execution_id: z.string() }).nullable(),
  recent_failed_validations: z.number().int().min(0),
  stage_protected: z.boolean(),
  pipeline_tags: z.record(z.string(), z.string()),
  object: z.object({ bucket: z.string(), key: z.string(), sha256: z.string(), bytes: z.number() }),
  /** Absent in evidence collected before sources were read; `null` when there is no source action. */
  source: SourceEvidenceSchema.nullable().optional(),
});
export type Evidence = z.infer<typeof EvidenceSchema>;

/** `$.classification`. */
export const WorkflowClassificationSchema = ClassificationSchema;

/** A remediation proposal (the policy's `input.proposal`). */
export const ProposalSchema = z.object({
  action: z.string().min(1),
  parameters: z.record(z.string(), z.unknown()),
  source: z.enum(['playbook', 'model']),
  rationale: z.string(),
  confidence: z.number().min(0).max(1),
});
export type Proposal = z.infer<typeof ProposalSchema>;

/** Most steps a plan may have: a repair and the resume that re-runs what failed, and one spare. */
export const PLAN_MAX_STEPS = 3;

/** Follow-up steps of a plan (`plan.then`): each typed like a proposal, at most {@link PLAN_MAX_STEPS} − 1. */
export const FollowUpStepsSchema = z
  .array(ProposalSchema)
  .max(PLAN_MAX_STEPS - 1, `a plan has at most ${PLAN_MAX_STEPS} steps`);

/**
 * `$.plan`: the proposal (the first step), the steps that follow it, and the complete policy
 * input built for the whole plan. `then` is written by the plan function only when the first
 * step is a repair that does not re-run anything itself (revert_parameter): it then holds the
 * resume (retry_stage of the failed stage, or start_pipeline_execution).
 */
export const PlanSchema = z.object({
  proposal: ProposalSchema,
  /** Steps run after the proposal, in order; absent for a one-step plan. */
  then: FollowUpStepsSchema.optional(),
  /** `{ incident, proposal, then?, context }` exactly as the policy gate evaluates it. */
  gate_input: z.object({
    incident: z.record(z.string(), z.unknown()),
    proposal: ProposalSchema,
    then: FollowUpStepsSchema.optional(),
    context: z.record(z.string(), z.unknown()),
  }),
  /** Why the model was not used or not trusted, when the plan fell back to a playbook or escalation. */
  fallback_reason: z.string().optional(),
});
export type Plan = z.infer<typeof PlanSchema>;

/** One step of a plan as an approval binds it: its action and exact parameters. */
export const PlanStepSummarySchema = z.object({
  action: z.string().min(1),
  parameters: z.record(z.string(), z.unknown()),
});
export type PlanStepSummary = z.infer<typeof PlanStepSummarySchema>;

/**
 * `$.approval`: what the approval callback returned through SendTaskSuccess. `action` is the
 * first step's; `steps` and `plan_sha256` bind the approval to every step of the plan the
 * approver was shown (absent in approvals of one-step plans made before plans existed).
 */
export const ApprovalResultSchema = z.object({
  approved: z.boolean(),
  approver: z.string().min(1),
  action: z.string().min(1),
  steps: z.array(PlanStepSummarySchema).min(1).max(PLAN_MAX_STEPS).optional(),
  plan_sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'plan_sha256 must be 64 hex digits')
    .optional(),
  at: z.string(),
});
export type ApprovalResult = z.infer<typeof ApprovalResultSchema>;

/** What the executor did for one step. */
export const StepResultSchema = z.object({
  action: z.string(),
  /** `executed`: this call mutated; `already_handled`: CodePipeline said it was done already; `no_op`: nothing to mutate (escalate). */
  outcome: z.enum(['executed', 'already_handled', 'no_op']),
  /** New or resumed pipeline execution, when the action has one. */
  pipeline_execution_id: z.string().optional(),
  detail: z.record(z.string(), z.unknown()),
  at: z.string(),
});
export type StepResult = z.infer<typeof StepResultSchema>;

/**
 * `$.execution`: what the executor did. The top-level fields are the last step's (what
 * validation observes: its pipeline execution and time); `steps` lists every step of a plan
 * of more than one step, in order.
 */
export const ExecutionResultSchema = StepResultSchema.extend({
  steps: z.array(StepResultSchema).min(2).max(PLAN_MAX_STEPS).optional(),
});
export type ExecutionResult = z.infer<typeof ExecutionResultSchema>;

/** `$.validation`: only what was observed. */
export const ValidationResultSchema = z.object({
  healthy: z.boolean(),
  observed: z.record(z.string(), z.unknown()),
  checked_at: z.string(),
});
export type ValidationResult = z.infer<typeof ValidationResultSchema>;

/** `$.error`: what a Catch stored (Step Functions' own shape). */
export const CaughtErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });
