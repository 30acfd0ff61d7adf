/**
 * A protocol-level fake of the Amazon Bedrock Agent Runtime `InvokeAgent` API on 127.0.0.1.
 *
 * It speaks the real wire format, so the real `BedrockAgentRuntimeClient` (pointed at it with
 * `endpoint` or `AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME`) parses it exactly as it parses AWS:
 *
 * - transport: HTTP/2. The client always uses its `NodeHttp2Handler` for this service (event
 *   streams), so against an `http://` endpoint it speaks cleartext HTTP/2 with prior knowledge;
 *   the fake is therefore a `node:http2` server, not an HTTP/1.1 one;
 * - request: REST-JSON, `POST /agents/{agentId}/agentAliases/{agentAliasId}/sessions/{sessionId}/text`,
 *   body `{inputText, sessionState, enableTrace, endSession, …}`;
 * - success: HTTP 200, `content-type: application/vnd.amazon.eventstream`, headers
 *   `x-amzn-bedrock-agent-content-type` and `x-amz-bedrock-agent-session-id`, body = event-stream
 *   frames. Each event has `:message-type: event`, `:event-type: <union member>` (`chunk`,
 *   `trace`, `returnControl`) and `:content-type: application/json`; a `chunk` body is
 *   `{"bytes": "<base64>"}`. An in-stream error has `:message-type: exception` and
 *   `:exception-type: <member>` (`throttlingException`, …) with body `{"message": "…"}`;
 * - HTTP errors: a status, `x-amzn-errortype: <ErrorName>` and `{"message": "…"}`.
 *
 * Every request is recorded (so tests can read the prompt and session state that were sent),
 * and every reply is scripted: queue one {@link FakeReply} per call with {@link BedrockAgentFake.script},
 * build them with {@link replies}. Nothing here decides anything: malformed proposals are sent
 * exactly as scripted.
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
import { EventStreamCodec, type MessageHeaders } from '@smithy/eventstream-codec';

/** UTF-8 helpers in the shape the codec expects (`@smithy/util-utf8` is not installed here). */
const toUtf8 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
const fromUtf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** The `InvokeAgent` route, with its three path labels. */
const INVOKE_AGENT_PATH = /^\/agents\/([^/]+)\/agentAliases\/([^/]+)\/sessions\/([^/]+)\/text$/;

/** Error members of the `ResponseStream` union that can arrive inside the stream. */
export const STREAM_EXCEPTIONS = [
  'internalServerException',
  'validationException',
  'resourceNotFoundException',
  'serviceQuotaExceededException',
  'throttlingException',
  'accessDeniedException',
  'conflictException',
  'dependencyFailedException',
  'badGatewayException',
  'modelNotReadyException',
] as const;

/** An error member of the `ResponseStream` union. */
export type StreamException = (typeof STREAM_EXCEPTIONS)[number];

/** One parameter of a function invocation as the agent sends it: every value is a string. */
export interface FakeFunctionParameter {
  readonly name: string;
  /** The type the action group's function schema declares (`string`, `number`, `integer`, `boolean`, `array`). */
  readonly type: string;
  readonly value: string;
}

/** A `functionInvocationInput` of a `returnControl` event. */
export interface FakeFunctionInvocation {
  readonly actionGroup: string;
  readonly function: string;
  readonly parameters?: readonly FakeFunctionParameter[];
  /** `RESULT`, `USER_CONFIRMATION` or `USER_CONFIRMATION_AND_RESULT`; left out when absent. */
  readonly actionInvocationType?: string;
}

/** One frame of a scripted event stream, or a pause between frames. */
export type FakeEvent =
  /** Text from the agent, sent as `chunk {bytes}`. */
  | { readonly chunk: string }
  /** A `returnControl` payload, sent verbatim (any shape, so malformed payloads can be scripted). */
  | {
      readonly returnControl: {
        readonly invocationId?: string;
        readonly invocationInputs: readonly unknown[];
      };
    }
  /** A `trace` part, sent verbatim (e.g. `{trace: {orchestrationTrace: {rationale: {text}}}}`). */
  | { readonly trace: Record<string, unknown> }
  /** A modelled in-stream error: `:message-type: exception`. */
  | { readonly exception: StreamException | (string & {}); readonly message: string }
  /** An unmodelled in-stream error: `:message-type: error` with `:error-code` and `:error-message`. */
  | { readonly error: string; readonly message: string }
  /** Any frame, headers and body as given. */
  | { readonly frame: { readonly headers: MessageHeaders; readonly body: string | Uint8Array } }
  /** Raw bytes written to the body as they are (for corrupt frames). */
  | { readonly raw: Uint8Array }
  /** Wait before the next frame. */
  | { readonly pauseMs: number };

/** What the fake answers to one `InvokeAgent` call. */
export interface FakeReply {
  /** HTTP status. @default 200 */
  readonly status?: number;
  /** `x-amzn-errortype` of an error status (`ThrottlingException`, …). */
  readonly errorType?: string;
  /** Message of an error status. @default the error type */
  readonly message?: string;
  /** Wait this long before sending the response headers. @default 0 */
  readonly delayMs?: number;
  /** Frames of a 200 response. @default [] */
  readonly events?: readonly FakeEvent[];
}

/** One `InvokeAgent` request as the fake received it. */
export interface RecordedInvocation {
  readonly agentId: string;
  readonly agentAliasId: string;
  readonly sessionId: string;
  readonly inputText: string | undefined;
  readonly sessionState: Record<string, unknown> | undefined;
  readonly enableTrace: boolean | undefined;
  readonly endSession: boolean | undefined;
  /** The whole parsed JSON body. */
  readonly body: Record<string, unknown>;
  readonly headers: IncomingHttpHeaders;
  readonly receivedAt: Date;
}

/** Builders for the replies tests script most often. */
export const replies = {
  /** A `returnControl` with one or several function invocations, optionally after a rationale trace and text. */
  returnControl(
    invocations: FakeFunctionInvocation | readonly FakeFunctionInvocation[],
    options: { readonly text?: string; readonly rationale?: string; readonly invocationId?: string } = {},
  ): FakeReply {
    const list = Array.isArray(invocations) ? invocations : [invocations as FakeFunctionInvocation];
    const events: FakeEvent[] = [];
    if (options.rationale !== undefined) {
      events.push({ trace: { trace: { orchestrationTrace: { rationale: { text: options.rationale } } } } });
    }
    if (options.text !== undefined) events.push({ chunk: options.text });
    events.push({
      returnControl: {
        invocationId: options.invocationId ?? randomUUID(),
        invocationInputs: list.map((invocation) => ({
          functionInvocationInput: {
            actionGroup: invocation.actionGroup,
            function: invocation.function,
            parameters: invocation.parameters ?? [],
            ...(invocation.actionInvocationType
              ? { actionInvocationType: invocation.actionInvocationType }
              : {}),
          },
        })),
      },
    });
    return { events };
  },
  /** Plain text only, one `chunk` event per argument. */
  text(...chunks: readonly string[]): FakeReply {
    return { events: chunks.map((chunk) => ({ chunk })) };
  },
  /** An HTTP 200 whose stream carries a modelled error, after `before` events. */
  streamException(
    exception: StreamException,
    message = `${exception} from BedrockAgentFake`,
    before: readonly FakeEvent[] = [],
  ): FakeReply {
    return { events: [...before, { exception, message }] };
  },
  /** An HTTP error response. */
  httpError(status: number, errorType: string, message = errorType): FakeReply {
    return { status, errorType, message };
  },
  /** HTTP 429 ThrottlingException. */
  throttled(message = 'Rate exceeded'): FakeReply {
    return replies.httpError(429, 'ThrottlingException', message);
  },
  /** HTTP 500 InternalServerException. */
  internalError(message = 'Internal server error'): FakeReply {
    return replies.httpError(500, 'InternalServerException', message);
  },
  /** HTTP 403 AccessDeniedException. */
  accessDenied(message = 'User is not authorized to perform bedrock:InvokeAgent'): FakeReply {
    return replies.httpError(403, 'AccessDeniedException', message);
  },
  /** `reply`, sent after `ms` milliseconds. */
  delayed(ms: number, reply: FakeReply): FakeReply {
    return { ...reply, delayMs: (reply.delayMs ?? 0) + ms };
  },
  /** An event-stream body that is not a valid frame (bad prelude CRC). */
  corruptFrame(): FakeReply {
    const frame = encodeEvent({ chunk: 'corrupt' });
    frame[8] = (frame[8] ?? 0) ^ 0xff;
    return { events: [{ raw: frame }] };
  },
};

function jsonFrame(headers: MessageHeaders, body: unknown): Uint8Array {
  return codec.encode({
    headers: { ...headers, ':content-type': { type: 'string', value: 'application/json' } },
    body: fromUtf8(JSON.stringify(body)),
  });
}

function eventHeaders(eventType: string): MessageHeaders {
  return {
    ':message-type': { type: 'string', value: 'event' },
    ':event-type': { type: 'string', value: eventType },
  };
}

/** The bytes of one frame; `undefined` for a pause. */
function encodeEvent(event: FakeEvent): Uint8Array {
  if ('chunk' in event) {
    return jsonFrame(eventHeaders('chunk'), { bytes: Buffer.from(event.chunk, 'utf8').toString('base64') });
  }
  if ('returnControl' in event) return jsonFrame(eventHeaders('returnControl'), event.returnControl);
  if ('trace' in event) return jsonFrame(eventHeaders('trace'), event.trace);
  if ('exception' in event) {
    return jsonFrame(
      {
        ':message-type': { type: 'string', value: 'exception' },
        ':exception-type': { type: 'string', value: event.exception },
      },
      { message: event.message },
    );
  }
  if ('error' in event) {
    return codec.encode({
      headers: {
        ':message-type': { type: 'string', value: 'error' },
        ':error-code': { type: 'string', value: event.error },
        ':error-message': { type: 'string', value: event.message },
      },
      body: new Uint8Array(0),
    });
  }
  if ('frame' in event) {
    const body = typeof event.frame.body === 'string' ? fromUtf8(event.frame.body) : event.frame.body;
    return codec.encode({ headers: event.frame.headers, body });
  }
  if ('raw' in event) return new Uint8Array(event.raw);
  throw new Error('a pause has no bytes');
}

/** Options of {@link BedrockAgentFake}. */
export interface BedrockAgentFakeOptions {
  /** Port to listen on. @default 0 (any free port) */
  readonly port?: number;
  /**
   * Reply to a call when nothing is scripted.
   * @default HTTP 500 InternalServerException "no reply scripted", so an unscripted call is visible
   */
  readonly defaultReply?: FakeReply;
}

/**
 * The fake server. `start()` listens on 127.0.0.1; `script()` queues replies (one per call,
 * first in, first out); `invocations` holds every request received; `stop()` closes every
 * connection and cancels pending delays.
 */
export class BedrockAgentFake {
  /** Every `InvokeAgent` request received, in order. */
  readonly invocations: RecordedInvocation[] = [];
  private readonly queue: FakeReply[] = [];
  private defaultReply: FakeReply;
  /** Pending delays: stop() ends them at once, so no handler waits on a closed server. */
  private readonly sleepers = new Map<NodeJS.Timeout, () => void>();
  private server: Http2Server | undefined;
  private readonly sessions = new Set<Http2Session>();
  private port: number;

  constructor(options: BedrockAgentFakeOptions = {}) {
    this.port = options.port ?? 0;
    this.defaultReply =
      options.defaultReply ??
      replies.httpError(500, 'InternalServerException', 'BedrockAgentFake: no reply scripted');
  }

  /** `http://127.0.0.1:<port>`: the client's `endpoint` or `AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME`. */
  get endpoint(): string {
    if (!this.server) throw new Error('BedrockAgentFake is not started');
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts listening on 127.0.0.1. */
  async start(): Promise<this> {
    if (this.server) return this;
    const server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) {
          response.writeHead(500, { 'content-type': 'text/plain' });
        }
        response.end(`BedrockAgentFake failed: ${(error as Error).message}`);
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
  script(...scripted: readonly FakeReply[]): this {
    this.queue.push(...scripted);
    return this;
  }

  /** The reply to calls once the queue is empty (e.g. a throttle that outlasts the SDK's retries). */
  setDefaultReply(reply: FakeReply): this {
    this.defaultReply = reply;
    return this;
  }

  /** Replies scripted but not consumed yet. */
  get pending(): number {
    return this.queue.length;
  }

  /** Forgets recorded requests and queued replies (the default reply stays). */
  reset(): void {
    this.invocations.length = 0;
    this.queue.length = 0;
  }

  /** The last request received. */
  get lastInvocation(): RecordedInvocation | undefined {
    return this.invocations[this.invocations.length - 1];
  }

  private async handle(request: Http2ServerRequest, response: Http2ServerResponse): Promise<void> {
    const raw = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const route = INVOKE_AGENT_PATH.exec(url.pathname);
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
    const [, agentId, agentAliasId, sessionId] = route.map((part) => decodeURIComponent(part ?? ''));
    this.invocations.push({
      agentId: agentId!,
      agentAliasId: agentAliasId!,
      sessionId: sessionId!,
      inputText: typeof body.inputText === 'string' ? body.inputText : undefined,
      sessionState:
        typeof body.sessionState === 'object' && body.sessionState !== null
          ? (body.sessionState as Record<string, unknown>)
          : undefined,
      enableTrace: typeof body.enableTrace === 'boolean' ? body.enableTrace : undefined,
      endSession: typeof body.endSession === 'boolean' ? body.endSession : undefined,
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
    response.writeHead(200, {
      'content-type': 'application/vnd.amazon.eventstream',
      'x-amzn-bedrock-agent-content-type': 'application/json',
      'x-amz-bedrock-agent-session-id': sessionId!,
      'x-amzn-requestid': randomUUID(),
    });
    for (const event of reply.events ?? []) {
      if (closed || !this.server) return;
      if ('pauseMs' in event) {
        await this.sleep(event.pauseMs);
        if (closed || !this.server) return;
        continue;
      }
      response.write(encodeEvent(event));
    }
    response.end();
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
