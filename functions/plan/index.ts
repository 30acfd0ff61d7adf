/**
 * PlanRemediation: turns the classified failure into a plan — one proposal, and when that
 * proposal is a repair that re-runs nothing itself, the resume that follows it — and the
 * complete policy input for the whole plan. Reasoning proposes, policy decides: this function never acts and never decides
 * whether its proposal may run; it only guarantees that what it hands the policy gate is
 * well-formed (`PlanSchema`, `GateInputSchema`).
 *
 * - Each failure class has a playbook (`playbooks.json`). A playbook that says `ask_model` asks
 *   the Bedrock agent first when one is configured; its own action is then the fallback.
 * - A model problem of any kind (not configured, error, throttle, deadline, no or malformed
 *   proposal) never throws: the playbook's action is proposed instead, or `escalate` when the
 *   playbook cannot be applied, with `fallback_reason` saying why.
 * - A repair that does not re-run the pipeline (revert_parameter) gets its resume added here,
 *   deterministically, whether it came from a playbook or the model: retry_stage of the failed
 *   stage when that stage can be retried, else start_pipeline_execution, taken from the
 *   policy's `resume_after` for the class (so only shapes the policy knows are ever planned).
 * - The step is written to the audit trail: proposal, follow-up steps, fallback reason and the
 *   SHA-256 of the redacted prompt (not its text; see docs/plan.md).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createHash } from 'node:crypto';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { AuditTrail } from '../commons/audit';
import { awsClient } from '../commons/aws/clients';
import { readEnvironment, requiredVariable } from '../commons/config';
import { logger, metrics, tracer } from '../commons/observability';
import { describeIssues, GateInputSchema, type GateInput } from '../commons/policy-gate/schema';
import { PlanSchema, type Plan, type Proposal } from '../commons/workflow/schema';
import { classActions, resumeActions } from './actions';
import { PlanBuildError, PlanInputError } from './errors';
import { askModel, FALLBACK_DETAIL_MAX_CHARS, safeText, type ModelOutcome } from './model';
import { PLAYBOOKS, resolvePlaybook } from './playbooks';
import { buildPrompt, PROMPT_VERSION } from './prompt';
import { PlanInputSchema, type FallbackCode, type PlanInput } from './schema';
import { sourceContext } from '../commons/workflow/source';

export { PlanInputError, PlanBuildError, PlaybookFileError } from './errors';

/** A model proposal never claims more confidence than this, whatever the classification says. */
export const MODEL_CONFIDENCE_CAP = 0.9;
/** Default deadline of the whole InvokeAgent call, stream included. */
export const DEFAULT_BEDROCK_TIMEOUT_MS = 20_000;

const optionalVariable = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const EnvironmentSchema = z
  .object({
    SUTURE_AUDIT_TABLE: requiredVariable('SUTURE_AUDIT_TABLE'),
    SUTURE_BEDROCK_AGENT_ID: optionalVariable.pipe(
      z
        .string()
        .regex(
          /^[0-9A-Za-z]{1,10}$/,
          'SUTURE_BEDROCK_AGENT_ID must be an agent id (up to 10 letters or digits)',
        )
        .optional(),
    ),
    SUTURE_BEDROCK_AGENT_ALIAS_ID: optionalVariable.pipe(
      z
        .string()
        .regex(
          /^[0-9A-Za-z]{1,10}$/,
          'SUTURE_BEDROCK_AGENT_ALIAS_ID must be an alias id (up to 10 letters or digits)',
        )
        .optional(),
    ),
    SUTURE_BEDROCK_TIMEOUT_MS: optionalVariable.pipe(
      z
        .string()
        .regex(/^\d+$/, 'SUTURE_BEDROCK_TIMEOUT_MS must be a whole number of milliseconds')
        .transform(Number)
        .pipe(
          z
            .number()
            .min(100, 'SUTURE_BEDROCK_TIMEOUT_MS must be ≥ 100')
            .max(900_000, 'SUTURE_BEDROCK_TIMEOUT_MS must be ≤ 900000'),
        )
        .default(DEFAULT_BEDROCK_TIMEOUT_MS),
    ),
  })
  .refine(
    (env) =>
      (env.SUTURE_BEDROCK_AGENT_ID === undefined) === (env.SUTURE_BEDROCK_AGENT_ALIAS_ID === undefined),
    'SUTURE_BEDROCK_AGENT_ID and SUTURE_BEDROCK_AGENT_ALIAS_ID must be set together (both or neither)',
  );
type Environment = z.infer<typeof EnvironmentSchema>;

/** A session id InvokeAgent accepts: the incident id when it fits, else a digest of it. */
export function sessionIdFor(incidentId: string): string {
  return /^[0-9A-Za-z._:-]{2,100}$/.test(incidentId)
    ? incidentId
    : `inc-${createHash('sha256').update(incidentId).digest('hex').slice(0, 40)}`;
}

/** What the audit record says about the model, whether or not it was asked. */
interface ModelAudit {
  readonly asked: boolean;
  readonly agent_id?: string;
  readonly agent_alias_id?: string;
  /** The InvokeAgent session (the incident id). Not `session_id`: the redactor treats that key as a secret cookie. */
  readonly agent_session?: string;
  readonly prompt_version?: string;
  readonly prompt_sha256?: string;
  readonly prompt_chars?: number;
  readonly prompt_redactions?: number;
  readonly outcome?: 'proposal' | FallbackCode;
  readonly action_group?: string;
  readonly invocation_id?: string;
  readonly duration_ms?: number;
}

interface Fallback {
  readonly code: FallbackCode;
  readonly detail: string;
}

function escalation(input: PlanInput, reason: string): Pick<Proposal, 'action' | 'parameters'> {
  return { action: 'escalate', parameters: { reason: `${input.classification.class} failure: ${reason}` } };
}

/**
 * True when the incident's failed stage can be re-run with RetryStageExecution: a CodePipeline
 * failure that names its stage, in an execution that ended Failed (a superseded or stopped
 * execution, or an alarm, cannot be retried in place).
 */
function stageRetryable(input: PlanInput): boolean {
  const { incident, evidence } = input;
  return (
    incident.source === 'codepipeline' &&
    incident.stage !== '' &&
    evidence.pipeline_execution.status === 'Failed'
  );
}

/**
 * The steps that follow `proposal`: the resume the policy lists for it in the incident's class
 * (`resume_after`), or none. retry_stage re-runs only the failed stage of the failed execution;
 * start_pipeline_execution, when the stage cannot be retried, runs the whole pipeline again.
 */
export function followUpSteps(input: PlanInput, proposal: Proposal): Proposal[] {
  const resumes = resumeActions(input.classification.class, proposal.action);
  if (resumes.length === 0) return [];
  const { incident } = input;
  const common = { source: 'playbook' as const, confidence: proposal.confidence };
  if (stageRetryable(input) && resumes.includes('retry_stage')) {
    return [
      {
        action: 'retry_stage',
        parameters: {
          pipeline: incident.pipeline,
          stage: incident.stage,
          execution_id: incident.execution_id,
          retry_mode: 'FAILED_ACTIONS',
        },
        rationale: `${proposal.action} does not re-run anything; retrying the failed ${incident.stage} stage lets validation observe the repair`,
        ...common,
      },
    ];
  }
  if (resumes.includes('start_pipeline_execution')) {
    return [
      {
        action: 'start_pipeline_execution',
        parameters: { pipeline: incident.pipeline },
        rationale: `${proposal.action} does not re-run anything and the failed stage cannot be retried; a new execution of ${incident.pipeline} lets validation observe the repair`,
        ...common,
      },
    ];
  }
  return [];
}

function buildGateInput(input: PlanInput, proposal: Proposal, then: Proposal[], now: Date): GateInput {
  const { incident, evidence, classification, attempts } = input;
  const candidate = {
    incident: {
      id: incident.id,
      source: incident.source,
      pipeline: incident.pipeline,
      stage: incident.stage,
      action: incident.action,
      execution_id: incident.execution_id,
      account: incident.account,
      region: incident.region,
      class: classification.class,
      confidence: classification.confidence,
      signature: classification.signature,
      // A model-assigned class: the policy's classification_by_model rule requires approval.
      ...(classification.source === 'model' ? { classification_source: 'model' } : {}),
      fingerprint: incident.fingerprint,
      event_time: incident.event_time,
      detected_at: incident.detected_at,
      ...(incident.error_code ? { error_code: incident.error_code } : {}),
      ...(incident.provider ? { provider: incident.provider } : {}),
      ...(incident.category ? { category: incident.category } : {}),
      ...(incident.alarm_name ? { alarm_name: incident.alarm_name } : {}),
    },
    proposal,
    ...(then.length > 0 ? { then } : {}),
    context: {
      now: now.toISOString(),
      attempts: { fingerprint_24h: attempts.fingerprint_24h, pipeline_1h: attempts.pipeline_1h },
      recent_failed_validations: evidence.recent_failed_validations,
      stage_protected: evidence.stage_protected,
      rollback_target_succeeded: evidence.rollback_target !== null,
      pipeline_tags: evidence.pipeline_tags,
      // Where the code came from: the policy's source-control rules read it (pull requests).
      ...(sourceContext(evidence.source) ? { source: sourceContext(evidence.source) } : {}),
    },
  };
  const checked = GateInputSchema.safeParse(candidate);
  if (!checked.success) {
    throw new PlanBuildError(
      `the policy input built for ${incident.id} is invalid: ${describeIssues(checked.error)}`,
    );
  }
  return checked.data;
}

async function consultModel(
  input: PlanInput,
  env: Environment,
): Promise<{ outcome: ModelOutcome | undefined; fallback: Fallback | undefined; audit: ModelAudit }> {
  if (env.SUTURE_BEDROCK_AGENT_ID === undefined || env.SUTURE_BEDROCK_AGENT_ALIAS_ID === undefined) {
    return {
      outcome: undefined,
      fallback: {
        code: 'model_not_configured',
        detail:
          'the playbook asks the model, but SUTURE_BEDROCK_AGENT_ID and SUTURE_BEDROCK_AGENT_ALIAS_ID are not set',
      },
      audit: { asked: false, outcome: 'model_not_configured' },
    };
  }
  const prompt = buildPrompt(input, classActions(input.classification.class));
  const sessionId = sessionIdFor(input.incident.id);
  const base = {
    agent_id: env.SUTURE_BEDROCK_AGENT_ID,
    agent_alias_id: env.SUTURE_BEDROCK_AGENT_ALIAS_ID,
    agent_session: sessionId,
    prompt_version: PROMPT_VERSION,
  };
  if (!prompt) {
    return {
      outcome: undefined,
      fallback: { code: 'model_prompt_too_large', detail: 'the prompt exceeds the InvokeAgent input limit' },
      audit: { asked: false, ...base, outcome: 'model_prompt_too_large' },
    };
  }
  const outcome = await askModel({
    agentId: env.SUTURE_BEDROCK_AGENT_ID,
    agentAliasId: env.SUTURE_BEDROCK_AGENT_ALIAS_ID,
    sessionId,
    prompt: prompt.text,
    timeoutMs: env.SUTURE_BEDROCK_TIMEOUT_MS,
    failureClass: input.classification.class,
  });
  metrics.addMetric('ModelLatency', MetricUnit.Milliseconds, outcome.durationMs);
  const audit: ModelAudit = {
    asked: true,
    ...base,
    prompt_sha256: prompt.sha256,
    prompt_chars: prompt.text.length,
    prompt_redactions: prompt.redaction.total,
    outcome: outcome.ok ? 'proposal' : outcome.code,
    duration_ms: outcome.durationMs,
    ...(outcome.ok && outcome.actionGroup ? { action_group: outcome.actionGroup } : {}),
    ...(outcome.ok && outcome.invocationId ? { invocation_id: outcome.invocationId } : {}),
  };
  return {
    outcome,
    fallback: outcome.ok ? undefined : { code: outcome.code, detail: outcome.detail },
    audit,
  };
}

async function audit(incidentId: string, tableName: string, data: Record<string, unknown>): Promise<void> {
  // Throttling or a 5xx of the audit table surfaces as TransientAwsError (the workflow retries).
  await new AuditTrail(awsClient(DynamoDBClient), tableName).append(incidentId, 'plan', data);
}

/**
 * Plans one remediation for the state document `event`.
 *
 * @throws PlanInputError when the state document is malformed (names each bad field).
 * @throws ConfigurationError when the environment is wrong.
 * @throws TransientAwsError when the audit table is throttled or failing (the workflow retries).
 */
export async function plan(event: unknown): Promise<Plan> {
  const env = readEnvironment('plan', EnvironmentSchema);
  const parsed = PlanInputSchema.safeParse(event);
  if (!parsed.success) {
    throw new PlanInputError(`plan: the state document is invalid: ${describeIssues(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  const input = parsed.data;
  const failureClass = input.classification.class;
  const playbook = PLAYBOOKS[failureClass];
  const resolved = resolvePlaybook(playbook, input);
  const classificationConfidence = input.classification.confidence;

  let proposal: Proposal | undefined;
  let fallback: Fallback | undefined;
  let modelAudit: ModelAudit = { asked: false };
  if (playbook.ask_model) {
    const consulted = await consultModel(input, env);
    modelAudit = consulted.audit;
    fallback = consulted.fallback;
    if (consulted.outcome?.ok) {
      proposal = {
        action: consulted.outcome.action,
        parameters: consulted.outcome.parameters,
        source: 'model',
        rationale: consulted.outcome.rationale,
        confidence: Math.min(classificationConfidence, MODEL_CONFIDENCE_CAP),
      };
    }
  }
  if (!proposal) {
    if (resolved.ok) {
      proposal = {
        action: resolved.action,
        parameters: resolved.parameters,
        source: 'playbook',
        rationale: playbook.rationale,
        confidence: classificationConfidence,
      };
    } else {
      fallback ??= {
        code: 'playbook_not_applicable',
        detail: `the ${playbook.action} playbook needs ${resolved.missing}, which this incident does not have`,
      };
      proposal = {
        ...escalation(
          input,
          `the ${playbook.action} playbook cannot be applied (${resolved.missing} is missing); a human should decide`,
        ),
        source: 'playbook',
        rationale: `the ${playbook.action} playbook needs ${resolved.missing}`,
        confidence: classificationConfidence,
      };
    }
  }

  const fallbackReason = fallback
    ? `${fallback.code}: ${safeText(fallback.detail, FALLBACK_DETAIL_MAX_CHARS)}`
    : undefined;
  const then = followUpSteps(input, proposal);
  const gateInput = buildGateInput(input, proposal, then, new Date());
  const result = PlanSchema.safeParse({
    proposal,
    ...(then.length > 0 ? { then } : {}),
    gate_input: gateInput,
    ...(fallbackReason ? { fallback_reason: fallbackReason } : {}),
  });
  if (!result.success) {
    throw new PlanBuildError(
      `the plan built for ${input.incident.id} is invalid: ${describeIssues(result.error)}`,
    );
  }

  await audit(input.incident.id, env.SUTURE_AUDIT_TABLE, {
    class: failureClass,
    proposal,
    ...(then.length > 0 ? { then } : {}),
    ...(fallbackReason ? { fallback_reason: fallbackReason } : {}),
    playbook: { action: playbook.action, ask_model: playbook.ask_model, applicable: resolved.ok },
    model: modelAudit,
  });

  logger.info('plan', {
    incident_id: input.incident.id,
    class: failureClass,
    action: proposal.action,
    then: then.map((step) => step.action),
    source: proposal.source,
    fallback: fallback?.code,
    model_outcome: modelAudit.outcome,
  });
  // Single metrics carry their own dimension, so plain calls (tests, the local loop) never pile
  // dimensions onto the shared instance between flushes.
  const sourceMetric = metrics.singleMetric();
  sourceMetric.addDimension('source', proposal.source);
  sourceMetric.addMetric('PlanSource', MetricUnit.Count, 1);
  if (fallback && playbook.ask_model) {
    const fallbackMetric = metrics.singleMetric();
    fallbackMetric.addDimension('reason', fallback.code);
    fallbackMetric.addMetric('ModelFallback', MetricUnit.Count, 1);
  }
  return result.data;
}

/** The Lambda entry point: {@link plan} with Powertools logging, metrics and tracing. */
export const handler = middy((event: unknown) => plan(event))
  .use(injectLambdaContext(logger, { logEvent: false }))
  .use(logMetrics(metrics))
  .use(captureLambdaHandler(tracer, { captureResponse: false }));
