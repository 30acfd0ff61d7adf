/**
 * A protocol-level fake of AWS CodePipeline on 127.0.0.1, for tests and `suture simulate`
 * (moto does not implement pipeline executions).
 *
 * It speaks the service's wire protocol, so the real `@aws-sdk/client-codepipeline` talks to it
 * unchanged (`endpoint` = the fake, or `AWS_ENDPOINT_URL_CODEPIPELINE`):
 * - AWS JSON 1.1: `POST /`, `X-Amz-Target: CodePipeline_20150709.<Operation>`,
 *   `Content-Type: application/x-amz-json-1.1`; timestamps as epoch seconds;
 * - errors as `{"__type": "<ErrorName>", "message": "…"}` with HTTP 400 (client errors,
 *   including `ThrottlingException`, which the SDK retries as throttling), 403 (unsigned),
 *   500/503 (service failures, retried by the SDK);
 * - the request must be SigV4-signed; the signing region scopes which pipelines it sees.
 *
 * The world model, its rules and hooks are in ./world; this module adds the HTTP layer.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CodePipelineErrorType as E, CodePipelineServiceError } from './errors';
import { CodePipelineWorld, type WorldOptions } from './world';

export { CodePipelineErrorType, CodePipelineServiceError } from './errors';
export * from './model';
export { CODEPIPELINE_OPERATIONS, MUTATING_OPERATIONS, type CodePipelineOperation } from './requests';
export { CodePipelineWorld, type WorldOptions } from './world';

/** The `X-Amz-Target` prefix of every CodePipeline operation. */
export const CODEPIPELINE_TARGET_PREFIX = 'CodePipeline_20150709.';
/** Largest request body accepted (the service's own limit is far lower for these operations). */
const MAX_BODY_BYTES = 1024 * 1024;

/** Options of {@link CodePipelineFake}. */
export interface CodePipelineFakeOptions extends WorldOptions {
  /** Port on 127.0.0.1. @default 0 (any free port) */
  readonly port?: number;
}

/** JSON with Dates as epoch seconds (the AWS JSON protocols' default timestamp format). */
function encode(body: unknown): string {
  return JSON.stringify(body, function (this: Record<string, unknown>, key, value: unknown) {
    const raw = this[key];
    return raw instanceof Date ? raw.getTime() / 1000 : value;
  });
}

/** Signing region from a SigV4 `Authorization` header (`Credential=AKID/date/region/service/aws4_request`). */
function signingRegion(authorization: string | undefined): string | undefined {
  return /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(authorization ?? '')?.[1];
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new CodePipelineServiceError(E.serialization, 'Request body is too large'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/**
 * The CodePipeline fake: a {@link CodePipelineWorld} served over HTTP on 127.0.0.1.
 *
 * ```ts
 * const fake = new CodePipelineFake();
 * const { endpoint } = await fake.start();
 * fake.addPipeline({ name: 'myPipeline', stages: [...] });
 * fake.addExecution('myPipeline', { failAt: { stage: 'Deploy' } });
 * fake.hooks.onRetryStage = () => 'Succeeded';
 * // … real CodePipelineClient({ endpoint, region: 'us-west-2', credentials }) …
 * expect(fake.appliedMutations()).toHaveLength(1);
 * await fake.stop();
 * ```
 */
export class CodePipelineFake extends CodePipelineWorld {
  private server: Server | undefined;
  private url: string | undefined;
  private readonly port: number;

  /** @param options port, account, region and clock; see {@link CodePipelineFakeOptions}. */
  constructor(options: CodePipelineFakeOptions = {}) {
    super(options);
    this.port = options.port ?? 0;
  }

  /** `http://127.0.0.1:<port>` once started. */
  get endpoint(): string {
    if (!this.url) throw new Error('the CodePipeline fake is not started');
    return this.url;
  }

  /** Starts listening on 127.0.0.1; resolves with the endpoint for `AWS_ENDPOINT_URL_CODEPIPELINE`. */
  async start(): Promise<{ endpoint: string }> {
    if (this.server) return { endpoint: this.endpoint };
    const server = createServer((request, response) => {
      void this.serve(request, response);
    });
    // Tests stop the fake right after the last call: do not let idle keep-alive sockets hold it open.
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { endpoint: this.url };
  }

  /** Stops listening and closes open connections. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.url = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const reply = (status: number, body: unknown) => {
      const payload = encode(body);
      response.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        'content-length': Buffer.byteLength(payload),
        'x-amzn-requestid': requestId,
      });
      response.end(payload);
    };
    const replyError = (error: CodePipelineServiceError) =>
      reply(error.statusCode, { __type: error.type, message: error.message });
    try {
      if (request.method !== 'POST' || (request.url ?? '/').split('?')[0] !== '/') {
        throw new CodePipelineServiceError(
          E.unknownOperation,
          `${request.method} ${request.url} is not an operation`,
          404,
        );
      }
      const raw = await readBody(request);
      const target = request.headers['x-amz-target'];
      if (typeof target !== 'string' || !target.startsWith(CODEPIPELINE_TARGET_PREFIX)) {
        throw new CodePipelineServiceError(E.unknownOperation, `Unknown X-Amz-Target ${String(target)}`);
      }
      const authorization = request.headers.authorization;
      if (!authorization?.startsWith('AWS4-HMAC-SHA256 ')) {
        throw new CodePipelineServiceError(E.missingAuthenticationToken, 'Missing Authentication Token');
      }
      let input: unknown;
      try {
        input = raw.trim() === '' ? {} : JSON.parse(raw);
      } catch {
        throw new CodePipelineServiceError(E.serialization, 'Request body is not valid JSON');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new CodePipelineServiceError(E.serialization, 'Request body must be a JSON object');
      }
      const operation = target.slice(CODEPIPELINE_TARGET_PREFIX.length);
      reply(200, this.handle(operation, input as Record<string, unknown>, signingRegion(authorization)));
    } catch (error) {
      if (error instanceof CodePipelineServiceError) replyError(error);
      else
        replyError(
          new CodePipelineServiceError(E.internalFailure, (error as Error).message ?? 'internal error'),
        );
    }
  }
}
