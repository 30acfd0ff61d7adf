import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** The service name every Suture function logs and emits metrics under. */
export const SERVICE_NAME = 'suture';

/** One Logger per process. Events are never logged raw (`logEvent` stays off). */
export const logger = new Logger({
  serviceName: SERVICE_NAME,
  logLevel: (process.env.SUTURE_LOG_LEVEL ?? 'INFO') as LogLevel,
});

/** One Metrics instance per process, written as CloudWatch EMF. */
export const metrics = new Metrics({
  serviceName: SERVICE_NAME,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Suture',
});
