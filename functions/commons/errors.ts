/**
 * Errors whose names the state machine's `Retry` and `Catch` lists match
 * (docs/workflow.md). Keep the names stable.
 */

/** An AWS call was throttled or the service failed on its side; retrying later may succeed. */
export class TransientAwsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientAwsError';
  }
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerException',
  'InternalFailure',
  'InternalServerError',
  'BadGatewayException',
  'DependencyFailedException',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/** True when an AWS SDK error is throttling, a 5xx, or a network failure: worth retrying. */
export function isTransientAwsError(error: unknown): boolean {
  // Shape, not `instanceof Error`: Node's socket errors may come from another realm (e.g. a test VM).
  if (typeof error !== 'object' || error === null) return false;
  const meta = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  const name = (error as { name?: unknown }).name;
  if (typeof name === 'string' && THROTTLING.has(name)) return true;
  if ((error as { $retryable?: unknown }).$retryable) return true;
  if (meta?.httpStatusCode !== undefined && meta.httpStatusCode >= 500) return true;
  // An SDK error with metadata but no HTTP status never got a response: a network failure.
  if (meta !== undefined && meta.httpStatusCode === undefined) return true;
  const code = (error as { code?: string }).code;
  return code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || name === 'TimeoutError';
}

/**
 * Rethrows an AWS SDK error as {@link TransientAwsError} when retrying may help, or as it
 * was otherwise, with `what` (e.g. "GetPipelineExecution myPipeline") in the message.
 */
export function rethrowAws(error: unknown, what: string): never {
  if (isTransientAwsError(error)) {
    throw new TransientAwsError(`${what}: ${(error as Error).name}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  throw error;
}
