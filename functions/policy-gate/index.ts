import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { AuditTrail } from '../commons/audit';
import { awsClient } from '../commons/aws/clients';
import { functionEnvironment } from '../commons/config';
import { emitMetric, logger, metrics, millisecondsSince, tracer } from '../commons/observability';
import { denyDecision, GateReasonCode, type GateDecision } from '../commons/policy-gate';
import { processGate, resetProcessGate } from '../commons/policy-gate/process-gate';

/** Test hook: forget the loaded gate so the next call reads the environment again. */
export function resetGateForTests(): void {
  resetProcessGate();
}

/**
 * Decides one plan: `{ incident, proposal, then?, context }` in (the proposal and the steps
 * that follow it), the decision with its reasons and bundle revision out. A bundle that cannot be loaded or trusted yields a deny,
 * never an exception the workflow might retry into an allow.
 */
export async function decide(event: unknown): Promise<GateDecision> {
  let decision: GateDecision;
  try {
    decision = (await processGate(__dirname)).decide(event);
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
  // Every workflow decision is audited (the module always sets SUTURE_AUDIT_TABLE). A decision
  // that cannot be recorded is not returned: the workflow retries, then escalates.
  const auditTable = functionEnvironment().SUTURE_AUDIT_TABLE;
  if (auditTable && typeof incidentId === 'string' && incidentId.length > 0) {
    const input = event as { incident?: unknown; proposal?: unknown; then?: unknown; context?: unknown };
    await new AuditTrail(awsClient(DynamoDBClient), auditTable).append(incidentId, 'policy_decision', {
      decision,
      incident: input.incident,
      proposal: input.proposal,
      ...(input.then !== undefined ? { then: input.then } : {}),
      context: input.context,
    });
  }
  emitMetric('PolicyDecisions', MetricUnit.Count, 1, { outcome });
  metrics.addMetric('PolicyEvaluationTime', MetricUnit.Microseconds, decision.evaluation_us);
  const detectedAt = (event as { incident?: { detected_at?: unknown } } | null)?.incident?.detected_at;
  const sinceDetection = millisecondsSince(detectedAt);
  if (sinceDetection !== undefined) emitMetric('TimeToDecision', MetricUnit.Milliseconds, sinceDetection);
  return decision;
}

/** The Lambda entry point: {@link decide} with Powertools logging, metrics and tracing. */
export const handler = middy(decide)
  .use(injectLambdaContext(logger, { logEvent: false }))
  .use(logMetrics(metrics))
  .use(captureLambdaHandler(tracer));
