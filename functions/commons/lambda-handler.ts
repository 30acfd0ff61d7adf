import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy, { type MiddyfiedHandler } from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics, tracer } from './observability';

/** Options of {@link lambdaHandler}. */
export interface LambdaHandlerOptions {
  /**
   * Records the handler's result on the X-Ray segment. Off for results that are large or
   * hold model output. @default true
   */
  readonly captureResponse?: boolean;
}

/**
 * The middy chain every Suture function runs in: the Lambda context on each log line (the
 * event itself is never logged: it may hold secrets), EMF metrics flushed at the end, and an
 * X-Ray subsegment around the handler.
 */
export function lambdaHandler<TEvent, TResult>(
  fn: (event: TEvent, context: Context) => Promise<TResult>,
  options: LambdaHandlerOptions = {},
): MiddyfiedHandler<TEvent, TResult> {
  return middy<TEvent, TResult>(fn)
    .use(injectLambdaContext(logger, { logEvent: false }))
    .use(logMetrics(metrics))
    .use(
      captureLambdaHandler(
        tracer,
        options.captureResponse === false ? { captureResponse: false } : undefined,
      ),
    );
}
