/**
 * The notify payload cannot be turned into a notification (no incident, or an approval request
 * without the proposal and decision the approver must see). The message names the wrong
 * fields, never their values (the payload may hold a task token).
 */
export class NotifyInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotifyInputError';
  }
}
