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
  if (!(error instanceof Error)) return false;
  const meta = (error as { $metadata?: { httpStatusCode?: number }; $retryable?: unknown }).$metadata;
  if (THROTTLING.has(error.name)) return true;
  if ((error as { $retryable?: unknown }).$retryable) return true;
  if (meta?.httpStatusCode !== undefined && meta.httpStatusCode >= 500) return true;
  const code = (error as { code?: string }).code;
  return (
    code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || error.name === 'TimeoutError'
  );
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
