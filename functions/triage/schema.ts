import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { z } from 'zod';

/** The three CodePipeline detail-types the loop listens to. */
export const CODEPIPELINE_DETAIL_TYPES = [
  'CodePipeline Pipeline Execution State Change',
  'CodePipeline Stage Execution State Change',
  'CodePipeline Action Execution State Change',
] as const;

/** The alarm detail-type for release-health alarms. */
export const ALARM_DETAIL_TYPE = 'CloudWatch Alarm State Change';

// AWS samples carry `version` both as a number and as a string; accept either.
const looseVersion = z.union([z.number(), z.string()]).optional();

/** `detail` of a CodePipeline state-change event (fields from the AWS event reference). */
export const CodePipelineDetailSchema = z.looseObject({
  pipeline: z.string().min(1),
  'execution-id': z.string().min(1),
  state: z.string().min(1),
  stage: z.string().min(1).optional(),
  action: z.string().min(1).optional(),
  region: z.string().optional(),
  version: looseVersion,
  'pipeline-execution-attempt': looseVersion,
  type: z
    .looseObject({
      owner: z.string().optional(),
      category: z.string().optional(),
      provider: z.string().optional(),
      version: looseVersion,
    })
    .optional(),
  'execution-result': z
    .looseObject({
      'external-execution-url': z.string().optional(),
      'external-execution-summary': z.string().optional(),
      'external-execution-id': z.string().optional(),
      'error-code': z.string().optional(),
    })
    .optional(),
});

/** A CodePipeline state change delivered by EventBridge. */
export const CodePipelineEventSchema = EventBridgeSchema.extend({
  source: z.literal('aws.codepipeline'),
  'detail-type': z.enum(CODEPIPELINE_DETAIL_TYPES),
  detail: CodePipelineDetailSchema,
});
export type CodePipelineEvent = z.infer<typeof CodePipelineEventSchema>;

const AlarmStateSchema = z.looseObject({
  value: z.string().min(1),
  reason: z.string().optional(),
  // CloudWatch writes `2019-10-02T17:04:40.989+0000`, which is not strict ISO 8601.
  timestamp: z.string().min(1),
});

/** A CloudWatch alarm state change delivered by EventBridge. */
export const AlarmEventSchema = EventBridgeSchema.extend({
  source: z.literal('aws.cloudwatch'),
  'detail-type': z.literal(ALARM_DETAIL_TYPE),
  detail: z.looseObject({
    alarmName: z.string().min(1),
    state: AlarmStateSchema,
    previousState: AlarmStateSchema.partial().optional(),
  }),
});
export type AlarmEvent = z.infer<typeof AlarmEventSchema>;

/** Everything triage accepts; anything else is dropped as noise. */
export const TriageEventSchema = z.union([CodePipelineEventSchema, AlarmEventSchema]);
export type TriageEvent = z.infer<typeof TriageEventSchema>;

/** What triage did with one delivery. */
export interface TriageResult {
  readonly status: 'started' | 'duplicate' | 'ignored' | 'loop_detected';
  readonly incident_id?: string;
  readonly execution_arn?: string;
  /** Why an event was ignored or a loop stopped. */
  readonly reason?: string;
}

/** `SUTURE_SCOPE`: pipelines the loop may act on (empty: every pipeline that reaches the rule). */
export const ScopeSchema = z.array(
  z.object({ account: z.string().optional(), region: z.string().optional(), pipeline: z.string().min(1) }),
);

/** `SUTURE_ALARM_TARGETS`: which pipeline stage each release-health alarm guards. */
export const AlarmTargetsSchema = z.record(
  z.string(),
  z.object({ pipeline: z.string().min(1), stage: z.string().min(1) }),
);
