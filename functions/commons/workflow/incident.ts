import { classifyLog } from '../classify';
import { fingerprint } from '../loop-guard';
import { redactText } from '../redact';
import { SUMMARY_MAX_CHARS } from './schema';

/** Redacted and cut to {@link SUMMARY_MAX_CHARS}: the only way a failure summary enters an incident. */
export function boundedSummary(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const { text: redacted } = redactText(text);
  return redacted.length > SUMMARY_MAX_CHARS ? `${redacted.slice(0, SUMMARY_MAX_CHARS - 1)}…` : redacted;
}

/** What a CodePipeline failure's fingerprint is made of. */
export interface CodePipelineFailure {
  readonly pipeline: string;
  /** Empty when nothing names a stage (a pipeline-level event not completed yet). */
  readonly stage: string;
  /** Empty when nothing names an action. */
  readonly action: string;
  readonly error_code?: string;
  /** Redacted summary ({@link boundedSummary}). */
  readonly summary?: string;
}

/**
 * The fingerprint of a CodePipeline failure: its pipeline, stage and action, the class of a
 * first, event-only classification of its error code and summary, and the line that decided
 * it. Triage computes it from the event; CollectEvidence computes it again once the incident
 * is completed from the execution, so every event kind of one failure ends with the same one.
 */
export function codePipelineFingerprint(failure: CodePipelineFailure): string {
  const preliminary = classifyLog([failure.error_code, failure.summary].filter(Boolean).join('\n'));
  return fingerprint({
    pipeline: failure.pipeline,
    stage: failure.stage,
    action: failure.action,
    failureClass: preliminary.class,
    signature: [failure.error_code, preliminary.matched_line ?? failure.summary].filter(Boolean).join(' '),
  });
}
