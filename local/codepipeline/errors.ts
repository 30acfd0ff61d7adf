/**
 * Errors of the CodePipeline fake, in the shape the real service uses on the wire: an error
 * type (the JSON body's `__type`, which the SDK maps to its exception class) and a message.
 */

/** Error types the fake raises; the first group is modelled by `@aws-sdk/client-codepipeline`. */
export const CodePipelineErrorType = {
  conflict: 'ConflictException',
  duplicatedStopRequest: 'DuplicatedStopRequestException',
  invalidArn: 'InvalidArnException',
  invalidNextToken: 'InvalidNextTokenException',
  notLatestPipelineExecution: 'NotLatestPipelineExecutionException',
  pipelineExecutionNotFound: 'PipelineExecutionNotFoundException',
  pipelineExecutionNotStoppable: 'PipelineExecutionNotStoppableException',
  pipelineExecutionOutdated: 'PipelineExecutionOutdatedException',
  pipelineNotFound: 'PipelineNotFoundException',
  pipelineVersionNotFound: 'PipelineVersionNotFoundException',
  resourceNotFound: 'ResourceNotFoundException',
  stageNotFound: 'StageNotFoundException',
  stageNotRetryable: 'StageNotRetryableException',
  unableToRollbackStage: 'UnableToRollbackStageException',
  validation: 'ValidationException',
  // Not modelled by the CodePipeline SDK; the SDK still recognises them by name (throttling)
  // or by status (5xx) and retries them.
  throttling: 'ThrottlingException',
  internalFailure: 'InternalFailure',
  serviceUnavailable: 'ServiceUnavailableException',
  // Protocol-level errors every AWS JSON service shares.
  serialization: 'SerializationException',
  unknownOperation: 'UnknownOperationException',
  missingAuthenticationToken: 'MissingAuthenticationTokenException',
} as const;

/** Default HTTP status per error type; everything else is a client error (400). */
const STATUS_BY_TYPE: Readonly<Record<string, number>> = {
  [CodePipelineErrorType.internalFailure]: 500,
  [CodePipelineErrorType.serviceUnavailable]: 503,
  [CodePipelineErrorType.missingAuthenticationToken]: 403,
};

/** The HTTP status the real service uses for an error type. */
export function defaultStatusOf(type: string): number {
  return STATUS_BY_TYPE[type] ?? 400;
}

/**
 * A service error: serialised as HTTP `statusCode` with body `{"__type": type, "message": …}`.
 * The SDK turns it into its modelled exception (`ConflictException`, …) when it knows `type`.
 */
export class CodePipelineServiceError extends Error {
  /** @param type the wire `__type` @param statusCode @default by type, 400 for client errors */
  constructor(
    readonly type: string,
    message: string,
    readonly statusCode: number = defaultStatusOf(type),
  ) {
    super(message);
    this.name = type;
  }
}
