import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { AuditTrail } from '../commons/audit';
import { awsClient } from '../commons/aws/clients';
import { classifyLog, type Classification } from '../commons/classify';
import { integerVariable, readEnvironment, requiredVariable } from '../commons/config';
import { lambdaHandler } from '../commons/lambda-handler';
import { emitMetric, logger } from '../commons/observability';
import { describeIssues } from '../commons/zod';
import type * as ModelModule from './model';
import type { ModelClassifyOutcome } from './model';
import {
  ALARM_CONFIDENCE,
  ClassifyInputSchema,
  DEFAULT_MODEL_TIMEOUT_MS,
  type ClassifyInput,
} from './schema';

const EnvironmentSchema = z.object({
  SUTURE_AUDIT_TABLE: requiredVariable('SUTURE_AUDIT_TABLE'),
  /** Bedrock model id (or inference profile) asked about what the signatures leave `unknown`; unset: no model. */
  SUTURE_CLASSIFY_MODEL_ID: z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim())),
  SUTURE_CLASSIFY_MODEL_TIMEOUT_MS: integerVariable(
    'SUTURE_CLASSIFY_MODEL_TIMEOUT_MS',
    1_000,
    25_000,
    DEFAULT_MODEL_TIMEOUT_MS,
  ),
});

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

/**
 * The model fallback, loaded on first use: a deployment without a model never evaluates the
 * Bedrock Runtime client (about 300 KB of bundle) during its cold start. A CommonJS `require`,
 * because the bundle is CommonJS and esbuild defers a required module's evaluation to the call.
 */
function loadModelClassifier(): typeof ModelModule.classifyWithModel {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy load, see above
  return (require('./model') as typeof ModelModule).classifyWithModel;
}

/** What the audit trail records about a model consultation (never the excerpt or the prompt). */
function modelAudit(modelId: string, outcome: ModelClassifyOutcome): Record<string, unknown> {
  return outcome.status === 'classified'
    ? { model_id: modelId, status: 'classified', duration_ms: outcome.durationMs }
    : {
        model_id: modelId,
        status: 'failed',
        code: outcome.code,
        detail: outcome.detail,
        duration_ms: outcome.durationMs,
      };
}

/**
 * Classifies the incident in the workflow state and records the verdict in the audit trail.
 * When the signatures answer `unknown` and a model is configured, the model is asked; its class
 * is recorded with `source: "model"`, and any failure of the model leaves the answer `unknown`.
 */
export async function classify(event: unknown): Promise<Classification> {
  const env = readEnvironment('classify', EnvironmentSchema);
  const parsed = ClassifyInputSchema.safeParse(event);
  if (!parsed.success)
    throw new ClassifyInputError(`classify input is invalid: ${describeIssues(parsed.error)}`);
  let classification = classifyIncident(parsed.data);
  let model: Record<string, unknown> | undefined;
  if (
    classification.class === 'unknown' &&
    env.SUTURE_CLASSIFY_MODEL_ID !== undefined &&
    parsed.data.incident.source !== 'cloudwatch_alarm'
  ) {
    const outcome = await loadModelClassifier()(classificationText(parsed.data), {
      modelId: env.SUTURE_CLASSIFY_MODEL_ID,
      timeoutMs: env.SUTURE_CLASSIFY_MODEL_TIMEOUT_MS,
    });
    model = modelAudit(env.SUTURE_CLASSIFY_MODEL_ID, outcome);
    if (outcome.status === 'classified') classification = outcome.classification;
    else logger.warn('model classification not used', { code: outcome.code, detail: outcome.detail });
    emitMetric('ModelClassifications', MetricUnit.Count, 1, {
      outcome: outcome.status === 'classified' ? 'classified' : outcome.code,
    });
  }
  await new AuditTrail(awsClient(DynamoDBClient), env.SUTURE_AUDIT_TABLE).append(
    parsed.data.incident.id,
    'classify',
    {
      classification: { ...classification, source: classification.source ?? 'signature' },
      ...(model === undefined ? {} : { model }),
    },
  );
  logger.info('classified', {
    incident_id: parsed.data.incident.id,
    class: classification.class,
    confidence: classification.confidence,
    signature: classification.signature,
    source: classification.source ?? 'signature',
  });
  emitMetric('Classifications', MetricUnit.Count, 1, { class: classification.class });
  return classification;
}

/** The Lambda entry point: {@link classify} with Powertools logging, metrics and tracing. */
export const handler = lambdaHandler(classify);
