import { z } from 'zod';
import type { WorkflowIncident } from './schema';

/**
 * What CollectEvidence and Validate share about the release's health checks: the alarms they
 * read and the guard-table counter of failed validations one writes and the other reads.
 */

/** `SUTURE_ALARM_NAMES`: CloudWatch alarms that watch the release (DescribeAlarms takes ≤ 100). */
export const AlarmNamesSchema = z.array(z.string().min(1).max(255)).max(100);

/**
 * Guard-table key of a stage's failed-validation counter (attribute `failures`, number):
 * written by Validate, read by CollectEvidence as `recent_failed_validations`.
 */
export function validationFailuresKey(
  incident: Pick<WorkflowIncident, 'account' | 'region' | 'pipeline' | 'stage'>,
): string {
  return `validation-failures#${incident.account}/${incident.region}/${incident.pipeline}/${incident.stage}`;
}
