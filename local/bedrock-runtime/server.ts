/**
 * A protocol-level fake of the Amazon Bedrock Runtime `Converse` API on 127.0.0.1.
 *
 * It speaks the real wire format, so the real `BedrockRuntimeClient` (pointed at it with
 * `endpoint` or `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`) parses it exactly as it parses AWS:
 *
 * - transport: HTTP/2. The client uses its `NodeHttp2Handler` for every Bedrock Runtime
 *   operation, so against an `http://` endpoint it speaks cleartext HTTP/2 with prior knowledge;
 * - request: REST-JSON, `POST /model/{modelId}/converse`, body
 *   `{messages, system?, inferenceConfig?, …}`;
 * - success: HTTP 200, `content-type: application/json`, body
 *   `{output: {message: {role: "assistant", content: [{text}]}}, stopReason, usage, metrics}`;
 * - errors: a status, `x-amzn-errortype: <ErrorName>` and `{"message": "…"}`.
 *
 * Every request is recorded (so tests can read exactly what was sent to the model) and every
 * reply is scripted with {@link BedrockRuntimeFake.script}, built with {@link converseReplies}.
 * Nothing here decides anything: malformed answers are sent exactly as scripted.
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
} from 'node:http2';
import type { AddressInfo } from 'node:net';

/** The `Converse` route and its model id label. */
const CONVERSE_PATH = /^\/model\/([^/]+)\/converse$/;

/** What the fake answers to one `Converse` call. */
export interface ConverseFakeReply {
  /** HTTP status. @default 200 */
  readonly status?: number;
  /** `x-amzn-errortype` of an error status (`ThrottlingException`, …). */
  readonly errorType?: string;
  /** Message of an error status. @default the error type */
  readonly message?: string;
  /** Wait this long before answering. @default 0 */
  readonly delayMs?: number;
  /** Body of a 200 answer: an object is sent as JSON, a string as it is (for malformed bodies). */
  readonly body?: Record<string, unknown> | string;
}

/** One `Converse` request as the fake received it. */
export interface RecordedConverse {
  readonly modelId: string;
  /** The whole parsed JSON body (`messages`, `system`, `inferenceConfig`, …). */
  readonly body: Record<string, unknown>;
  readonly headers: IncomingHttpHeaders;
  readonly receivedAt: Date;
}

/** Builders for the replies tests script most often. */
export const converseReplies = {
  /** A normal assistant answer holding `text`. */
  text(text: string): ConverseFakeReply {
    return {
      body: {
        output: { message: { role: 'assistant', content: [{ text }] } },
        stopReason: 'end_turn',
        usage: { inputTokens: 900, outputTokens: 60, totalTokens: 960 },
        metrics: { latencyMs: 420 },
      },
    };
  },
  /** An assistant answer whose text is `value` as JSON. */
  json(value: unknown): ConverseFakeReply {
    return converseReplies.text(JSON.stringify(value));
  },
  /** An HTTP error response. */
  httpError(status: number, errorType: string, message = errorType): ConverseFakeReply {
    return { status, errorType, message };
  },
  /** HTTP 429 ThrottlingException. */
  throttled(message = 'Too many requests, please wait before trying again.'): ConverseFakeReply {
    return converseReplies.httpError(429, 'ThrottlingException', message);
  },
  /** HTTP 403 AccessDeniedException. */
  accessDenied(message = 'User is not authorized to perform bedrock:InvokeModel'): ConverseFakeReply {
    return converseReplies.httpError(403, 'AccessDeniedException', message);
  },
  /** HTTP 500 InternalServerException. */
  internalError(message = 'Internal server error'): ConverseFakeReply {
    return converseReplies.httpError(500, 'InternalServerException', message);
  },
  /** `reply`, sent after `ms` milliseconds. */
  delayed(ms: number, reply: ConverseFakeReply): ConverseFakeReply {
    return { ...reply, delayMs: (reply.delayMs ?? 0) + ms };
  },
};

/** Options of {@link BedrockRuntimeFake}. */
export interface BedrockRuntimeFakeOptions {
  /** Port to listen on. @default 0 (any free port) */
  readonly port?: number;
  /** Reply when nothing is scripted. @default HTTP 500 "no reply scripted", so an unscripted call is visible */
  readonly defaultReply?: ConverseFakeReply;
}

/**
 * The fake server. `start()` listens on 127.0.0.1; `script()` queues replies (one per call,
 * first in, first out); `requests` holds every request received; `stop()` closes every
 * connection and cancels pending delays.
 */
export class BedrockRuntimeFake {
  /** Every `Converse` request received, in order. */
  readonly requests: RecordedConverse[] = [];
  private readonly queue: ConverseFakeReply[] = [];
  private defaultReply: ConverseFakeReply;
  private readonly sleepers = new Map<NodeJS.Timeout, () => void>();
  private server: Http2Server | undefined;
  private readonly sessions = new Set<Http2Session>();
  private port: number;

  constructor(options: BedrockRuntimeFakeOptions = {}) {
    this.port = options.port ?? 0;
    this.defaultReply =
      options.defaultReply ??
      converseReplies.httpError(500, 'InternalServerException', 'BedrockRuntimeFake: no reply scripted');
  }

  /** `http://127.0.0.1:<port>`: the client's `endpoint` or `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`. */
  get endpoint(): string {
    if (!this.server) throw new Error('BedrockRuntimeFake is not started');
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts listening on 127.0.0.1. */
  async start(): Promise<this> {
    if (this.server) return this;
    const server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(`BedrockRuntimeFake failed: ${(error as Error).message}`);
      });
    });
    server.on('session', (session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Closes the server and every open connection; pending delays are cancelled. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const [timer, wake] of this.sleepers) {
      clearTimeout(timer);
      wake();
    }
    this.sleepers.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const session of this.sessions) session.destroy();
    this.sessions.clear();
    await closed;
  }

  /** Queues replies, one per future call, in order. */
  script(...scripted: readonly ConverseFakeReply[]): this {
    this.queue.push(...scripted);
    return this;
  }

  /** The reply once the queue is empty. */
  setDefaultReply(reply: ConverseFakeReply): this {
    this.defaultReply = reply;
    return this;
  }

  /** Replies scripted but not consumed yet. */
  get pending(): number {
    return this.queue.length;
  }

  /** Forgets recorded requests and queued replies (the default reply stays). */
  reset(): void {
    this.requests.length = 0;
    this.queue.length = 0;
  }

  private async handle(request: Http2ServerRequest, response: Http2ServerResponse): Promise<void> {
    const raw = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const route = CONVERSE_PATH.exec(url.pathname);
    if (request.method !== 'POST' || !route) {
      sendError(
        response,
        404,
        'UnknownOperationException',
        `no operation at ${request.method} ${url.pathname}`,
      );
      return;
    }
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch (error) {
      sendError(
        response,
        400,
        'ValidationException',
        `request body is not a JSON object: ${(error as Error).message}`,
      );
      return;
    }
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      sendError(response, 400, 'ValidationException', 'messages must be a non-empty list');
      return;
    }
    this.requests.push({
      modelId: decodeURIComponent(route[1] ?? ''),
      body,
      headers: request.headers,
      receivedAt: new Date(),
    });
    const reply = this.queue.shift() ?? this.defaultReply;
    let closed = false;
    response.on('close', () => {
      closed = true;
    });
    if (reply.delayMs) await this.sleep(reply.delayMs);
    if (closed || !this.server) return;
    const status = reply.status ?? 200;
    if (status !== 200) {
      sendError(
        response,
        status,
        reply.errorType ?? 'InternalServerException',
        reply.message ?? reply.errorType ?? '',
      );
      return;
    }
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
    response.writeHead(200, {
      'content-type': 'application/json',
      'x-amzn-requestid': randomUUID(),
      'content-length': Buffer.byteLength(text),
    });
    response.end(text);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleepers.delete(timer);
        resolve();
      }, ms);
      this.sleepers.set(timer, resolve);
    });
  }
}

function sendError(response: Http2ServerResponse, status: number, errorType: string, message: string): void {
  const body = JSON.stringify({ message });
  response.writeHead(status, {
    'content-type': 'application/json',
    'x-amzn-errortype': errorType,
    'x-amzn-requestid': randomUUID(),
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

async function readBody(request: Http2ServerRequest): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
