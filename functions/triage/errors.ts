/** The state machine refused the execution for a reason other than a duplicate name. */
export class WorkflowStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WorkflowStartError';
  }
}
