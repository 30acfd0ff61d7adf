import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { logger, metrics } from '../commons/observability';
import {
  denyDecision,
  gateOptionsFromEnvironment,
  GateReasonCode,
  PolicyGate,
  type GateDecision,
} from '../commons/policy-gate';

let loading: Promise<PolicyGate> | undefined;

/**
 * The gate, loaded and verified once per process. A failed load is not cached, so the
 * next invocation tries again (a fixed bundle or configuration heals without a cold start).
 */
function gate(): Promise<PolicyGate> {
  loading ??= PolicyGate.load(gateOptionsFromEnvironment(process.env, __dirname)).catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

/** Test hook: forget the loaded gate so the next call reads the environment again. */
export function resetGateForTests(): void {
  loading = undefined;
}

/**
 * Decides one proposal: `{ incident, proposal, context }` in, the decision with its
 * reasons and bundle revision out. A bundle that cannot be loaded or trusted yields a deny,
 * never an exception the workflow might retry into an allow.
 */
export async function decide(event: unknown): Promise<GateDecision> {
  let decision: GateDecision;
  try {
    decision = (await gate()).decide(event);
  } catch (error) {
    logger.error('policy bundle unavailable', { error: (error as Error).message });
    decision = denyDecision({
      code: GateReasonCode.bundleUnavailable,
      msg: `policy bundle unavailable: ${(error as Error).message}`,
    });
  }
  const outcome = decision.allow ? 'allow' : decision.require_approval ? 'require_approval' : 'deny';
  const incidentId = (event as { incident?: { id?: unknown } } | null)?.incident?.id;
  logger.info('policy decision', {
    incident_id: typeof incidentId === 'string' ? incidentId : undefined,
    outcome,
    codes: decision.reasons.map((reason) => reason.code),
    bundle_revision: decision.bundle_revision,
    evaluation_us: decision.evaluation_us,
  });
  metrics.addDimension('outcome', outcome);
  metrics.addMetric('PolicyDecisions', MetricUnit.Count, 1);
  metrics.addMetric('PolicyEvaluationTime', MetricUnit.Microseconds, decision.evaluation_us);
  return decision;
}

/** The Lambda entry point: {@link decide} with Powertools context and metrics middleware. */
export const handler = middy(decide)
  .use(injectLambdaContext(logger, { logEvent: false }))
  .use(logMetrics(metrics));
