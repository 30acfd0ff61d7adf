/**
 * The executor will not act: the policy, re-evaluated here, does not allow the proposal, or
 * what the workflow carries does not match what was decided. The workflow escalates.
 */
export class ExecutionRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExecutionRefusedError';
  }
}

/** The executor's input or a proposal's parameters do not have the required shape. */
export class ExecuteInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExecuteInputError';
  }
}

/** AWS refused the action for a reason retrying will not change (e.g. no rollback possible). */
export class ActionFailedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ActionFailedError';
  }
}

/**
 * A step of a plan failed, so the steps after it did not run. The message names the step, why
 * it failed and what the plan had already done; the workflow escalates with it.
 */
export class PlanStepFailedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PlanStepFailedError';
  }
}
