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
 * The process-wide client of `Client`'s service. `config` applies when the client is created
 * (the first call); a class, not its name, is the key, so minified bundles work the same.
 */
export function awsClient<T extends object>(Client: ClientClass<T>, config: Record<string, unknown> = {}): T {
  let client = created.get(Client) as T | undefined;
  if (!client) {
    client = tracer.captureAWSv3Client(new Client(config));
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
