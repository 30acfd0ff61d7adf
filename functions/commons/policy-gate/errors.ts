/**
 * Errors of the policy gate. Their names are part of the workflow contract (Retry/Catch
 * `ErrorEquals`), so keep them stable.
 */

/** The bundle archive is missing, unreadable or lacks a required file. */
export class PolicyBundleError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PolicyBundleError';
  }
}

/** The bundle's signature is absent where required, malformed or does not verify. */
export class PolicyBundleSignatureError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PolicyBundleSignatureError';
  }
}
