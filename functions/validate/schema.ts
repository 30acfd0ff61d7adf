import { z } from 'zod';
import { jsonVariable, optionalVariable, requiredVariable } from '../commons/config';
import { AlarmNamesSchema } from '../commons/workflow/release-checks';
import { ExecutionResultSchema, WorkflowInputSchema } from '../commons/workflow/schema';

/** The validate function's environment (docs/workflow.md). */
export const EnvironmentSchema = z.object({
  SUTURE_GUARD_TABLE: requiredVariable('SUTURE_GUARD_TABLE'),
  SUTURE_AUDIT_TABLE: requiredVariable('SUTURE_AUDIT_TABLE'),
  SUTURE_ALARM_NAMES: jsonVariable('SUTURE_ALARM_NAMES', AlarmNamesSchema, []),
  /** CodeBuild project whose latest build after the repair must have succeeded. */
  SUTURE_SMOKE_PROJECT: optionalVariable(),
});
export type Environment = z.infer<typeof EnvironmentSchema>;

/** What Validate reads: the state document with `$.execution` written by ExecuteRepair. */
export const ValidateInputSchema = WorkflowInputSchema.extend({ execution: ExecutionResultSchema });
export type ValidateInput = z.infer<typeof ValidateInputSchema>;

/** How long a stage's failed-validation counter lives after its last increment. */
export const VALIDATION_FAILURES_TTL_SECONDS = 7 * 24 * 3600;

/** One check as Validate saw it: `observed: false` (with the reason) when it could not be made. */
export type Observation =
  | ({ readonly observed: true; readonly passed: boolean } & Readonly<Record<string, unknown>>)
  | ({ readonly observed: false; readonly reason: string } & Readonly<Record<string, unknown>>);
