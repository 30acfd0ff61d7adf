import { z } from 'zod';
import { FailureClassSchema } from '../commons/classify/schema';
import {
  AttemptsSchema,
  EvidenceSchema,
  WorkflowClassificationSchema,
  WorkflowIncidentSchema,
} from '../commons/workflow/schema';

/** What PlanRemediation reads: the state document after Classify (`Payload.$: "$"`). */
export const PlanInputSchema = z.looseObject({
  incident: WorkflowIncidentSchema,
  attempts: AttemptsSchema,
  evidence: EvidenceSchema,
  classification: WorkflowClassificationSchema,
});
export type PlanInput = z.infer<typeof PlanInputSchema>;

/** A literal parameter value of a playbook; strings may hold `{{variable}}` placeholders. */
export const PlaybookValueSchema = z.union([z.string(), z.number(), z.boolean()]);

/** One class's playbook: the deterministic action and whether to ask the model first. */
export const PlaybookSchema = z.strictObject({
  description: z.string().min(1, 'description must not be empty'),
  /** The action proposed without the model, and the fallback when the model is not usable. */
  action: z.string().min(1, 'action must not be empty'),
  parameters: z.record(z.string(), PlaybookValueSchema),
  rationale: z.string().min(1, 'rationale must not be empty'),
  /** Ask the Bedrock agent first (when one is configured); `action` is then the fallback. */
  ask_model: z.boolean(),
});
export type Playbook = z.infer<typeof PlaybookSchema>;

/** `playbooks.json`: exactly one playbook per failure class. */
export const PlaybookFileSchema = z.record(FailureClassSchema, PlaybookSchema);
export type PlaybookFile = z.infer<typeof PlaybookFileSchema>;

/** A parameter of an action, as `policies/suture/config/data.json` declares it. */
export const ActionParameterSpecSchema = z.looseObject({
  type: z.string().min(1),
  required: z.boolean().optional(),
  one_of: z.array(z.string()).min(1).optional(),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
  integer: z.boolean().optional(),
  free_text: z.boolean().optional(),
});
export type ActionParameterSpec = z.infer<typeof ActionParameterSpecSchema>;

/** The part of the policy data the planner reads: actions with their parameters, and each class's allowed actions. */
export const PolicyActionsSchema = z.looseObject({
  actions: z.record(
    z.string(),
    z.looseObject({ mutating: z.boolean(), parameters: z.record(z.string(), ActionParameterSpecSchema) }),
  ),
  classes: z.record(
    z.string(),
    z.looseObject({
      actions: z.array(z.string()),
      /** Plans the class allows: for a repair action, the resume actions that may follow it. */
      resume_after: z.record(z.string(), z.array(z.string())).optional(),
    }),
  ),
});
export type PolicyActions = z.infer<typeof PolicyActionsSchema>;

/** Why the model's answer was not used. The first word of every `fallback_reason`. */
export const FALLBACK_CODES = [
  /** The class asks for the model but no agent is configured. */
  'model_not_configured',
  /** The prompt could not be kept under the API's input limit. */
  'model_prompt_too_large',
  /** No complete answer within SUTURE_BEDROCK_TIMEOUT_MS. */
  'model_timeout',
  /** Bedrock throttled the call (HTTP 429 or an in-stream throttlingException). */
  'model_throttled',
  /** Any other error: HTTP error, in-stream exception, unreadable stream. */
  'model_error',
  /** The agent answered without a returnControl (text only, or nothing). */
  'model_no_proposal',
  /** The returnControl held an API (OpenAPI) invocation instead of a function invocation. */
  'model_unexpected_invocation',
  /** Several invocations that do not propose the same action with the same parameters. */
  'model_conflicting_proposals',
  /** The function is not an action Suture can perform. */
  'model_unknown_action',
  /** The action exists but the failure class does not allow it. */
  'model_action_not_allowed',
  /** A parameter is unknown, missing, duplicated or of the wrong type or value. */
  'model_invalid_parameters',
  /** A parameter value looked like a secret to the redactor. */
  'model_output_redacted',
  /** The playbook needs a fact the evidence does not have (e.g. no rollback target). */
  'playbook_not_applicable',
] as const;
export type FallbackCode = (typeof FALLBACK_CODES)[number];
