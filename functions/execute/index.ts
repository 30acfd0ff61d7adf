import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { isDeepStrictEqual } from 'node:util';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { AuditTrail } from '../commons/audit';
import { awsClient } from '../commons/aws/clients';
import { readEnvironment, requiredVariable } from '../commons/config';
import { TransientAwsError } from '../commons/errors';
import { emitMetric, logger, metrics, tracer } from '../commons/observability';
import type { GateDecision } from '../commons/policy-gate';
import { processGate, resetProcessGate } from '../commons/policy-gate/process-gate';
import { describeIssues } from '../commons/policy-gate/schema';
import { planDigest, planSteps, planSummary } from '../commons/workflow/plan';
import type { ExecutionResult, StepResult } from '../commons/workflow/schema';
import { performAction, type ActionSettings } from './actions';
import { ExecuteInputError, ExecutionRefusedError, PlanStepFailedError } from './errors';
import type { ChangeContext } from './github';
import { ActionParameterSchemas, ExecuteInputSchema, type ActionName, type MutationRequest } from './schema';

const EnvironmentSchema = z.object({
  SUTURE_IDEMPOTENCY_TABLE: requiredVariable('SUTURE_IDEMPOTENCY_TABLE'),
  SUTURE_AUDIT_TABLE: requiredVariable('SUTURE_AUDIT_TABLE'),
  SUTURE_EVIDENCE_BUCKET: z.string().min(1).optional(),
  SUTURE_TOPIC_ARN: z.string().min(1).optional(),
  /** The Secrets Manager secret with the GitHub App (or token) pull requests are opened with. */
  SUTURE_GITHUB_SECRET_ARN: z.string().min(1).optional(),
  /** GitHub's REST API root (GitHub Enterprise Server: `https://HOST/api/v3`). */
  SUTURE_GITHUB_API_URL: z.url({ protocol: /^https?$/ }).default('https://api.github.com'),
  /** How long a performed mutation is remembered: longer than any workflow's retries and redrives. */
  SUTURE_IDEMPOTENCY_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(14 * 86_400),
});
type Environment = z.infer<typeof EnvironmentSchema>;

type IdempotentPerform = (
  request: MutationRequest,
  context: ChangeContext,
) => Promise<Omit<ExecutionResult, 'action'>>;

interface Executor {
  readonly env: Environment;
  readonly config: IdempotencyConfig;
  readonly perform: IdempotentPerform;
}

let executor: Executor | undefined;

/**
 * One idempotent `performAction` per process. The idempotency key is the whole mutation
 * request (incident, action, parameters): a Lambda retry, a Step Functions retry or a redrive
 * of the same decision returns the stored result instead of mutating again, and a concurrent
 * duplicate fails with IdempotencyAlreadyInProgressError (safe to retry) instead of racing.
 */
function getExecutor(): Executor {
  if (executor) return executor;
  const env = readEnvironment('execute', EnvironmentSchema);
  const config = new IdempotencyConfig({ expiresAfterSeconds: env.SUTURE_IDEMPOTENCY_SECONDS });
  const settings: ActionSettings = {
    ...(env.SUTURE_EVIDENCE_BUCKET ? { evidenceBucket: env.SUTURE_EVIDENCE_BUCKET } : {}),
    ...(env.SUTURE_TOPIC_ARN ? { topicArn: env.SUTURE_TOPIC_ARN } : {}),
    github: {
      apiUrl: env.SUTURE_GITHUB_API_URL.replace(/\/+$/, ''),
      ...(env.SUTURE_GITHUB_SECRET_ARN ? { secretArn: env.SUTURE_GITHUB_SECRET_ARN } : {}),
    },
  };
  // The key is the request alone (argument 0); the context only feeds a pull request's body.
  const perform = makeIdempotent(
    async (request: MutationRequest, context: ChangeContext) => ({
      ...(await performAction(request, settings, context)),
      at: new Date().toISOString(),
    }),
    {
      persistenceStore: new DynamoDBPersistenceLayer({
        tableName: env.SUTURE_IDEMPOTENCY_TABLE,
        awsSdkV3Client: awsClient(DynamoDBClient),
      }),
      config,
      dataIndexArgument: 0,
    },
  );
  executor = { env, config, perform };
  return executor;
}

/**
 * Test hook: read the environment again on the next call, and the policy bundle too unless
 * `keepPolicyGate` (the local loop keeps it while no `SUTURE_POLICY_*` variable changes).
 */
export function resetExecutorForTests(options: { readonly keepPolicyGate?: boolean } = {}): void {
  executor = undefined;
  if (!options.keepPolicyGate) resetProcessGate();
}

async function refuse(
  env: Environment,
  incidentId: string,
  request: unknown,
  reason: string,
): Promise<never> {
  await new AuditTrail(awsClient(DynamoDBClient), env.SUTURE_AUDIT_TABLE).append(
    incidentId,
    'execute_refused',
    {
      request,
      reason,
    },
  );
  logger.warn('execution refused', { incident_id: incidentId, reason });
  metrics.addMetric('ExecutionsRefused', MetricUnit.Count, 1);
  throw new ExecutionRefusedError(reason);
}

/** One step's line in an error or escalation: "step 1 revert_parameter executed (…)". */
function describeDone(done: readonly StepResult[]): string {
  return done.length === 0
    ? 'nothing was done'
    : done
        .map(
          (step, i) =>
            `step ${i + 1} ${step.action} ${step.outcome}${
              step.pipeline_execution_id ? ` (execution ${step.pipeline_execution_id})` : ''
            } at ${step.at}`,
        )
        .join('; ');
}

/**
 * The only code in Suture that mutates. Before acting it checks that the workflow's plan is the
 * one the policy decided (every step), that an approval (when one was required) approves this
 * very plan (its first action, and every step with its parameters when there are more), and
 * re-evaluates the policy itself at the current time; any mismatch, deny, or bundle change is a
 * refusal. Then it runs the steps in order, each mutation idempotent on its own: a redelivered
 * plan gets the stored result of every step already done instead of doing it again. A step
 * that fails stops the plan: the `execute_step_failed` audit record and the error (which the
 * workflow's escalation shows) say which step failed and what was already done.
 */
export async function execute(event: unknown, context?: Context): Promise<ExecutionResult> {
  const { env, config, perform } = getExecutor();
  if (context) config.registerLambdaContext(context);
  const parsed = ExecuteInputSchema.safeParse(event);
  if (!parsed.success)
    throw new ExecuteInputError(`execute input is invalid: ${describeIssues(parsed.error)}`);
  const { incident, plan, decision, approval, evidence } = parsed.data;
  const proposal = plan.proposal;
  const steps = planSteps(plan);
  const summary = planSummary(plan);
  const request =
    steps.length === 1
      ? { action: proposal.action, parameters: proposal.parameters }
      : { action: proposal.action, parameters: proposal.parameters, steps: summary };

  if (!isDeepStrictEqual(proposal, plan.gate_input.proposal)) {
    return refuse(env, incident.id, request, 'the proposal differs from the one the policy evaluated');
  }
  if (!isDeepStrictEqual(plan.then ?? [], plan.gate_input.then ?? [])) {
    return refuse(env, incident.id, request, 'the follow-up steps differ from those the policy evaluated');
  }
  if (plan.gate_input.incident.id !== incident.id) {
    return refuse(env, incident.id, request, 'the policy input belongs to another incident');
  }
  for (const step of steps) {
    if (!Object.hasOwn(ActionParameterSchemas, step.action)) {
      return refuse(env, incident.id, request, `action ${step.action} is not one the executor performs`);
    }
  }
  if (!decision.allow && !decision.require_approval) {
    return refuse(env, incident.id, request, 'the workflow’s decision was a deny');
  }
  if (!decision.allow) {
    if (!approval) return refuse(env, incident.id, request, 'approval was required and none was given');
    if (!approval.approved)
      return refuse(env, incident.id, request, `${approval.approver} rejected the action`);
    if (approval.action !== proposal.action) {
      return refuse(
        env,
        incident.id,
        request,
        `the approval was for ${approval.action}, not for ${proposal.action}`,
      );
    }
    if (steps.length > 1 && !approval.steps) {
      return refuse(env, incident.id, request, 'the approval does not name the steps of the plan');
    }
    if (approval.steps && !isDeepStrictEqual(approval.steps, summary)) {
      return refuse(env, incident.id, request, 'the approval was for another plan than this one');
    }
    if (approval.plan_sha256 && approval.plan_sha256 !== planDigest(summary)) {
      return refuse(env, incident.id, request, 'the approval’s plan digest does not match this plan');
    }
  }

  let redecision: GateDecision;
  try {
    const gate = await processGate(__dirname);
    redecision = gate.decide({
      ...plan.gate_input,
      context: {
        ...plan.gate_input.context,
        now: new Date().toISOString(),
        ...(approval
          ? {
              approval: {
                approved: approval.approved,
                approver: approval.approver,
                action: approval.action,
                ...(approval.steps ? { steps: approval.steps } : {}),
              },
            }
          : {}),
      },
    });
  } catch (error) {
    return refuse(env, incident.id, request, `policy bundle unavailable: ${(error as Error).message}`);
  }
  if (redecision.bundle_revision !== decision.bundle_revision) {
    return refuse(
      env,
      incident.id,
      request,
      `policy bundle changed since the decision (${decision.bundle_revision} → ${redecision.bundle_revision})`,
    );
  }
  if (!redecision.allow) {
    const codes = redecision.reasons.map((reason) => reason.code).join(', ');
    return refuse(env, incident.id, request, `the policy, re-evaluated now, does not allow it: ${codes}`);
  }

  // What a pull request's body says about the change: the incident, the evidence summary and
  // the decision that allowed it.
  const change: ChangeContext = {
    incident: {
      pipeline: incident.pipeline,
      stage: incident.stage,
      action: incident.action,
      execution_id: incident.execution_id,
    },
    ...(evidence ? { evidence } : {}),
    decision: {
      allow: redecision.allow,
      require_approval: redecision.require_approval,
      bundle_revision: redecision.bundle_revision,
      reasons: redecision.reasons,
    },
    ...(approval ? { approver: approval.approver } : {}),
  };
  const audit = new AuditTrail(awsClient(DynamoDBClient), env.SUTURE_AUDIT_TABLE);
  const done: StepResult[] = [];
  for (const [index, step] of steps.entries()) {
    const position = steps.length > 1 ? { step: index + 1, of: steps.length } : {};
    let outcome: Omit<ExecutionResult, 'action'>;
    try {
      outcome = await perform(
        {
          incident_id: incident.id,
          action: step.action as ActionName,
          parameters: step.parameters,
        },
        change,
      );
    } catch (error) {
      // A one-step plan fails as it always has; so does a concurrent duplicate of a step
      // (Powertools' IdempotencyAlreadyInProgressError), which redoes nothing either way.
      if (steps.length === 1 || (error as Error).name.startsWith('Idempotency')) throw error;
      const failure = `step ${index + 1} of ${steps.length} (${step.action}) failed: ${(error as Error).name}: ${(error as Error).message}`;
      await audit.append(incident.id, 'execute_step_failed', {
        ...position,
        action: step.action,
        parameters: step.parameters,
        error: { name: (error as Error).name, message: (error as Error).message },
        done,
      });
      logger.warn('plan step failed', { incident_id: incident.id, step: index + 1, action: step.action });
      metrics.addMetric('PlanStepsFailed', MetricUnit.Count, 1);
      const message = `${failure}; already done: ${describeDone(done)}`;
      // Throttling and outages stay retryable: a retry redoes nothing that is done (idempotency).
      if (error instanceof TransientAwsError) throw new TransientAwsError(message, { cause: error });
      throw new PlanStepFailedError(message, { cause: error });
    }
    const result: StepResult = { action: step.action, ...outcome };
    await audit.append(incident.id, 'execute', {
      ...result,
      ...position,
      parameters: step.parameters,
      bundle_revision: redecision.bundle_revision,
      approver: approval?.approver,
    });
    logger.info('action performed', {
      incident_id: incident.id,
      action: result.action,
      outcome: result.outcome,
      pipeline_execution_id: result.pipeline_execution_id,
      ...position,
    });
    if (result.outcome === 'executed') {
      emitMetric('ActionsExecuted', MetricUnit.Count, 1, { action: result.action });
      if (result.action === 'rollback_stage') emitMetric('Rollbacks', MetricUnit.Count, 1);
    }
    done.push(result);
    if (result.outcome === 'no_op' && index < steps.length - 1) {
      // Unreachable with the shipped policy (no hand-off may be followed), kept so that a plan
      // never runs its resume after a step that did nothing.
      const message = `step ${index + 1} of ${steps.length} (${step.action}) changed nothing; the plan stops: ${describeDone(done)}`;
      await audit.append(incident.id, 'execute_step_failed', {
        ...position,
        action: step.action,
        parameters: step.parameters,
        error: { name: 'PlanStepFailedError', message },
        done,
      });
      throw new PlanStepFailedError(message);
    }
  }
  const last = done.at(-1)!;
  if (done.some((step) => step.outcome === 'executed')) {
    emitMetric('Remediations', MetricUnit.Count, 1, { mode: approval ? 'approved' : 'auto' });
  }
  return done.length > 1 ? { ...last, steps: done } : last;
}

/** The Lambda entry point: {@link execute} with Powertools logging, metrics and tracing. */
export const handler = middy((event: unknown, context: Context) => execute(event, context))
  .use(injectLambdaContext(logger, { logEvent: false }))
  .use(logMetrics(metrics))
  .use(captureLambdaHandler(tracer));
