/**
 * Errors of the plan function. Model problems are never errors: they become a fallback
 * proposal with a `fallback_reason`. These are for what the workflow cannot plan around.
 */

/** The state document handed to PlanRemediation is malformed; the message names every bad field. */
export class PlanInputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PlanInputError';
  }
}

/** `playbooks.json` contradicts itself or the policy's actions; thrown when the module loads. */
export class PlaybookFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PlaybookFileError';
  }
}

/** The plan built does not satisfy the policy's input schema: a defect in this function, never retried into success. */
export class PlanBuildError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PlanBuildError';
  }
}
