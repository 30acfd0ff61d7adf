import { z } from 'zod';
import { integerVariable, jsonVariable, optionalVariable, requiredVariable } from '../commons/config';
import { AlarmNamesSchema } from '../commons/workflow/release-checks';
import { WorkflowInputSchema } from '../commons/workflow/schema';

/** `SUTURE_PROTECTED_STAGES`: `{pipeline: [stage]}`; `"*"` protects every stage of the pipeline. */
export const ProtectedStagesSchema = z.record(z.string(), z.array(z.string().min(1)));

/** The collect-evidence function's environment (docs/workflow.md). */
export const EnvironmentSchema = z.object({
  SUTURE_EVIDENCE_BUCKET: requiredVariable('SUTURE_EVIDENCE_BUCKET'),
  SUTURE_GUARD_TABLE: requiredVariable('SUTURE_GUARD_TABLE'),
  SUTURE_AUDIT_TABLE: requiredVariable('SUTURE_AUDIT_TABLE'),
  SUTURE_ALARM_NAMES: jsonVariable('SUTURE_ALARM_NAMES', AlarmNamesSchema, []),
  SUTURE_PROTECTED_STAGES: jsonVariable('SUTURE_PROTECTED_STAGES', ProtectedStagesSchema, {}),
  /** Log pages read backwards from the end of the build log. @default 3 */
  SUTURE_LOG_TAIL_PAGES: integerVariable('SUTURE_LOG_TAIL_PAGES', 1, 20, 3),
  /** Log events per page (GetLogEvents `limit`; the service also caps a page at 1 MB). @default 1000 */
  SUTURE_LOG_TAIL_PAGE_EVENTS: integerVariable('SUTURE_LOG_TAIL_PAGE_EVENTS', 1, 10_000, 1000),
  /** KMS key for the evidence objects; without it they are written with SSE-S3 (AES256). */
  SUTURE_EVIDENCE_KMS_KEY_ID: optionalVariable(),
});
export type Environment = z.infer<typeof EnvironmentSchema>;

/** What CollectEvidence reads: the execution input written by triage (extra state is ignored). */
export const CollectEvidenceInputSchema = WorkflowInputSchema;

/** Largest `$.evidence` the function returns, in UTF-8 bytes of its JSON (well under the 256 KiB state limit). */
export const EVIDENCE_SUMMARY_MAX_BYTES = 60 * 1024;

/** Largest redacted log tail kept in the S3 evidence object (the end of what was read). */
export const STORED_LOG_TAIL_MAX_BYTES = 4 * 1024 * 1024;

/** Something the evidence could not include, and why (redacted, bounded). */
export interface EvidenceGap {
  readonly source: 'build' | 'log' | 'rollback_target' | 'alarms' | 'source';
  readonly reason: string;
}
