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
 * Called with every client created while it is set, before the client's first call: local
 * runs (`suture simulate`, the e2e tests, benchmarks) add their middleware here (timing, IAM
 * replay, fault injection). Deployed functions never set it, so their clients carry nothing extra.
 */
export type ClientInstrumentation = (client: object) => void;

let instrumentation: ClientInstrumentation | undefined;

/** Sets (or clears) the instrumentation of clients created from now on; see {@link resetAwsClients}. */
export function instrumentAwsClients(next: ClientInstrumentation | undefined): void {
  instrumentation = next;
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
    instrumentation?.(plain);
    client = tracer.captureAWSv3Client(plain);
    created.set(Client, client);
  }
  return client;
}

const mutating = new Map<ClientClass<unknown>, unknown>();

/**
 * The process-wide client of `Client`'s service for calls that change something and carry no
 * idempotency token (RollbackStage, RetryStageExecution, PutParameter, …): the SDK makes one
 * attempt only. Its retry strategy resends after a timeout or a reset connection, when the
 * first request may well have been carried out (its answer lost), and would perform the change
 * twice; instead the caller sees the failure, and its retry checks what is already done before
 * it changes anything again. Instrumented like {@link awsClient}.
 */
export function awsMutationClient<T extends object>(
  Client: ClientClass<T>,
  config: Record<string, unknown> = {},
): T {
  let client = mutating.get(Client) as T | undefined;
  if (!client) {
    const plain = new Client({ cacheMiddleware: true, ...config, maxAttempts: 1 });
    instrumentation?.(plain);
    client = tracer.captureAWSv3Client(plain);
    mutating.set(Client, client);
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
  mutating.clear();
}
