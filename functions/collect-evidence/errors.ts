/**
 * Errors of the collect-evidence function. Names are part of the workflow contract
 * (docs/workflow.md): neither is retried; the workflow's Catch sends the incident to Escalate.
 */

/** The state document does not match `WorkflowInputSchema`; the message names each bad field. */
export class EvidenceInputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EvidenceInputError';
  }
}
