/** The state machine refused the execution for a reason other than a duplicate name. */
export class WorkflowStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WorkflowStartError';
  }
}

/**
 * A redelivery found the failure counted by a delivery that has not started its workflow yet
 * (still running, or died in between). Failing makes Lambda's asynchronous retries (and then
 * EventBridge's) deliver it again later: by then the workflow exists (a duplicate), or the
 * first delivery is old enough for this one to take over and start it. Returning `duplicate`
 * instead would lose the failure whenever the first delivery died.
 */
export class FirstDeliveryPendingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FirstDeliveryPendingError';
  }
}
