import type { z } from 'zod';
import { EvidenceSchema, WorkflowInputSchema } from '../commons/workflow/schema';

/** What Classify reads: the triage input plus the collected evidence. */
export const ClassifyInputSchema = WorkflowInputSchema.extend({ evidence: EvidenceSchema });
export type ClassifyInput = z.infer<typeof ClassifyInputSchema>;

/** Confidence given to a release-health alarm: a measured signal, not a reading of a log. */
export const ALARM_CONFIDENCE = 0.95;

/** The model fallback's whole call (retries included) must answer within this, or the answer is `unknown`. */
export const DEFAULT_MODEL_TIMEOUT_MS = 10_000;
