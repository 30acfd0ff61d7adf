/**
 * Errors of the validate function. Names are part of the workflow contract (docs/workflow.md).
 */

/**
 * The repaired pipeline execution (or the smoke build) is still running: nothing to judge yet.
 * The workflow retries Validate (30 s × 1.5, 10 attempts) and escalates when they run out.
 */
export class ValidationPendingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ValidationPendingError';
  }
}

/** The state document has no usable `$.incident` or `$.execution`; the message names each bad field. */
export class ValidationInputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ValidationInputError';
  }
}
