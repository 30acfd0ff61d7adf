import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import type { MetricUnit } from '@aws-lambda-powertools/metrics';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/** The service name every Suture function logs, traces and emits metrics under. */
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

/**
 * One Tracer per process (X-Ray). It switches itself off outside Lambda, so tests and the
 * local simulator run the same code without a daemon. Responses are not captured as
 * metadata: they may hold evidence, and traces are not redacted.
 */
export const tracer = new Tracer({ serviceName: SERVICE_NAME, captureHTTPsRequests: true });

/**
 * Emits one metric in its own EMF blob with exactly the default dimension (`service`) plus
 * `dimensions`. The loop's KPIs and alarms read metrics by their exact dimension set, so a
 * dimension added for one metric must never leak onto another.
 */
export function emitMetric(
  name: string,
  unit: (typeof MetricUnit)[keyof typeof MetricUnit],
  value: number,
  dimensions: Readonly<Record<string, string>> = {},
): void {
  const single = metrics.singleMetric();
  for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
  single.addMetric(name, unit, value);
}

/** Milliseconds since an ISO time, or undefined when the time is missing or unreadable. */
export function millisecondsSince(iso: unknown, now: Date = new Date()): number | undefined {
  if (typeof iso !== 'string') return undefined;
  const at = Date.parse(iso);
  return Number.isFinite(at) ? Math.max(0, now.getTime() - at) : undefined;
}
