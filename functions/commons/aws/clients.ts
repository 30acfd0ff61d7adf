import { performance } from 'node:perf_hooks';
import { tracer } from '../observability';

/** Any AWS SDK v3 client class (each takes its configuration object). */
type ClientClass<T> = new (config: Record<string, unknown>) => T;

/**
 * One client per AWS service per process, created on first use and traced. Endpoints come
 * from the SDK's own configuration (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`), which
 * is how tests and `suture simulate` point the real clients at 127.0.0.1.
 *
 * The caller passes the client class it already imports with its commands, so a function's
 * bundle holds (and its cold start evaluates) only the clients that function uses.
 */
const created = new Map<ClientClass<unknown>, unknown>();

/**
 * One AWS API call as the SDK saw it: `attempt` is one HTTP round trip (request sent →
 * response received); `call` is the whole call, every attempt and the retry back-off between
 * them included.
 */
export interface AwsCallTiming {
  readonly kind: 'attempt' | 'call';
  readonly service: string;
  readonly operation: string;
  /** `performance.now()` when the request left and when its response arrived. */
  readonly start: number;
  readonly end: number;
}

/** Receives every AWS call of clients created while it is set. */
export type AwsCallObserver = (call: AwsCallTiming) => void;

let observer: AwsCallObserver | undefined;

/**
 * Times every HTTP round trip of the clients created from now on (set it, then
 * {@link resetAwsClients}). For local runs (`suture simulate`, benchmarks): it lets them tell the
 * loop's own time apart from the time emulated AWS services take to answer. Deployed functions
 * never set it, so their clients carry no extra middleware.
 */
export function observeAwsCalls(next: AwsCallObserver | undefined): void {
  observer = next;
}

interface MiddlewareContext {
  readonly clientName?: string;
  readonly commandName?: string;
}

interface WithMiddlewareStack {
  readonly middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: MiddlewareContext,
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize' | 'deserialize'; priority: 'high' | 'low'; name: string },
    ): void;
  };
}

function timed<T extends object>(client: T, report: AwsCallObserver): T {
  const stack = (client as unknown as WithMiddlewareStack).middlewareStack;
  const timing =
    (kind: AwsCallTiming['kind']) =>
    (next: (args: unknown) => Promise<unknown>, context: MiddlewareContext) =>
    async (args: unknown) => {
      const start = performance.now();
      try {
        return await next(args);
      } finally {
        report({
          kind,
          service: context.clientName ?? 'unknown',
          operation: context.commandName ?? 'unknown',
          start,
          end: performance.now(),
        });
      }
    };
  // The first initialize middleware wraps the whole call; the lowest-priority deserialize
  // middleware sits right above the HTTP handler, so it times each attempt's round trip and
  // not the SDK's own serialising, signing and parsing.
  stack.add(timing('call'), { step: 'initialize', priority: 'high', name: 'sutureCallTiming' });
  stack.add(timing('attempt'), { step: 'deserialize', priority: 'low', name: 'sutureAttemptTiming' });
  return client;
}

/**
 * The process-wide client of `Client`'s service. `config` applies when the client is created
 * (the first call); a class, not its name, is the key, so minified bundles work the same.
 *
 * Clients cache their resolved middleware stack per command class (`cacheMiddleware`), which
 * makes each call ~20 % cheaper in SDK work (`bench/simulate`, docs/benchmarks.md). The price:
 * middleware added to a client after it sent a command does not apply to that command; the
 * tracer's and the timing middleware are added here, before the first call.
 */
export function awsClient<T extends object>(Client: ClientClass<T>, config: Record<string, unknown> = {}): T {
  let client = created.get(Client) as T | undefined;
  if (!client) {
    const plain = new Client({ cacheMiddleware: true, ...config });
    client = tracer.captureAWSv3Client(observer ? timed(plain, observer) : plain);
    created.set(Client, client);
  }
  return client;
}

/** S3 settings: path-style addressing (works against every endpoint, local emulators included) when asked. */
export function s3ClientConfig(): Record<string, unknown> {
  return { forcePathStyle: process.env.SUTURE_S3_FORCE_PATH_STYLE === 'true' };
}

/** Test hook: forget every client so the next call reads the endpoint environment again. */
export function resetAwsClients(): void {
  created.clear();
}
