import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { AuditTrail } from '../commons/audit';
import { awsClient } from '../commons/aws/clients';
import { classifyLog, type Classification } from '../commons/classify';
import { readEnvironment, requiredVariable } from '../commons/config';
import { emitMetric, logger, metrics, tracer } from '../commons/observability';
import { describeIssues } from '../commons/policy-gate/schema';
import { ALARM_CONFIDENCE, ClassifyInputSchema, type ClassifyInput } from './schema';

const EnvironmentSchema = z.object({ SUTURE_AUDIT_TABLE: requiredVariable('SUTURE_AUDIT_TABLE') });

/** The workflow state did not have the shape Classify reads. */
export class ClassifyInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClassifyInputError';
  }
}

/**
 * The text the signatures read: the error code and summary from the event, what CodePipeline
 * said about each failed action, then the (already redacted) excerpt of the build log.
 */
export function classificationText(input: ClassifyInput): string {
  const { incident, evidence } = input;
  return [
    incident.error_code,
    incident.summary,
    ...evidence.failed_actions.flatMap((action) => [action.error_code, action.summary]),
    evidence.excerpt,
  ]
    .filter((part): part is string => typeof part === 'string' && part.length > 0)
    .join('\n');
}

/** Deterministic classification of the failure; `unknown` when no signature is confident enough. */
export function classifyIncident(input: ClassifyInput): Classification {
  if (input.incident.source === 'cloudwatch_alarm') {
    return {
      class: 'deploy_health',
      confidence: ALARM_CONFIDENCE,
      signature: 'cloudwatch-alarm',
      matched_line: `alarm ${input.incident.alarm_name ?? ''} is in ALARM`.slice(0, 300),
    };
  }
  return classifyLog(classificationText(input));
}

/** Classifies the incident in the workflow state and records the verdict in the audit trail. */
export async function classify(event: unknown): Promise<Classification> {
  const env = readEnvironment('classify', EnvironmentSchema);
  const parsed = ClassifyInputSchema.safeParse(event);
  if (!parsed.success)
    throw new ClassifyInputError(`classify input is invalid: ${describeIssues(parsed.error)}`);
  const classification = classifyIncident(parsed.data);
  await new AuditTrail(awsClient(DynamoDBClient), env.SUTURE_AUDIT_TABLE).append(
    parsed.data.incident.id,
    'classify',
    {
      classification,
    },
  );
  logger.info('classified', {
    incident_id: parsed.data.incident.id,
    class: classification.class,
    confidence: classification.confidence,
    signature: classification.signature,
  });
  emitMetric('Classifications', MetricUnit.Count, 1, { class: classification.class });
  return classification;
}

/** The Lambda entry point: {@link classify} with Powertools logging, metrics and tracing. */
export const handler = middy(classify)
  .use(injectLambdaContext(logger, { logEvent: false }))
  .use(logMetrics(metrics))
  .use(captureLambdaHandler(tracer));
