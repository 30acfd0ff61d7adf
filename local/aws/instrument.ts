/**
 * Middleware the local loop adds to the handlers' AWS SDK clients (through
 * `instrumentAwsClients`): timing of every call and round trip, and the IAM replay's check
 * before each call is sent. Deployed functions never carry any of it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { faultMiddleware, type FaultInjector } from '../faults/injector';

/**
 * One AWS API call as the SDK saw it: `attempt` is one HTTP round trip (request sent →
 * response received); `call` is the whole call, every attempt and the retry back-off between
 * them included; `authorization` is the IAM replay's evaluation before the call is sent (the
 * emulated service's authorisation, not the loop's own work).
 */
export interface AwsCallTiming {
  readonly kind: 'attempt' | 'call' | 'authorization';
  readonly service: string;
  readonly operation: string;
  /** `performance.now()` when the request left and when its response arrived. */
  readonly start: number;
  readonly end: number;
}

/** Receives every AWS call of the instrumented clients. */
export type AwsCallObserver = (call: AwsCallTiming) => void;

/** Decides, before a call is sent, whether the calling principal may make it (throws if not). */
export type CallAuthorizer = (call: {
  readonly principal: string;
  readonly client: string;
  readonly command: string;
  readonly input: unknown;
}) => Promise<void>;

interface MiddlewareContext {
  readonly clientName?: string;
  readonly commandName?: string;
}

type Handler = (args: { input?: unknown }) => Promise<unknown>;

interface WithMiddlewareStack {
  readonly middlewareStack: {
    add(
      middleware: (next: Handler, context: MiddlewareContext) => Handler,
      options: { step: 'initialize' | 'deserialize'; priority: 'high' | 'low'; name: string },
    ): void;
  };
}

/**
 * Which principal (function, or the state machine) is running: the local loop runs each
 * handler inside `principals.run(name, …)`, and every SDK call made from there is attributed
 * to it.
 */
export const principals = new AsyncLocalStorage<string>();

/**
 * Adds the timing and authorisation middleware to `client`. `observe` receives each call and
 * round trip; `authorize` runs before the call is sent (inside the timed call: authorisation is
 * part of what AWS does for a call) and may throw the service's AccessDenied error.
 */
export function instrumentClient(
  client: object,
  options: {
    readonly observe?: AwsCallObserver;
    readonly authorize?: CallAuthorizer;
    /** Injects faults into the calls of handlers (`suture simulate --faults`). */
    readonly faults?: FaultInjector;
    /**
     * The SDK's wait before its n-th retry (ms), in place of its exponential back-off: local
     * runs shrink it as they shrink Step Functions' retry intervals. The client's attempt count
     * and its decisions about what to retry (throttling, 5xx, resets, timeouts; the retry
     * quota) are the SDK's own and unchanged.
     */
    readonly retryBackoffMs?: (retry: number) => number;
  },
): void {
  const stack = (client as WithMiddlewareStack).middlewareStack;
  const { observe, authorize, faults, retryBackoffMs } = options;
  if (retryBackoffMs) shrinkRetryBackoff(client, retryBackoffMs);
  if (faults) {
    // Inside the SDK's retry loop (finalizeRequest), so each injected failure meets the SDK's
    // retry strategy, and outside the attempt timing, so a fault costs no emulated AWS time.
    stack.add(
      faultMiddleware(faults, () => principals.getStore()),
      {
        step: 'deserialize',
        priority: 'high',
        name: 'sutureFaults',
      },
    );
  }
  if (observe) {
    const timing =
      (kind: AwsCallTiming['kind']) =>
      (next: Handler, context: MiddlewareContext): Handler =>
      async (args) => {
        const start = performance.now();
        try {
          return await next(args);
        } finally {
          observe({
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
  }
  if (authorize) {
    stack.add(
      (next, context) => async (args) => {
        const start = performance.now();
        try {
          await authorize({
            principal: principals.getStore() ?? 'unattributed',
            client: context.clientName ?? 'unknown',
            command: context.commandName ?? 'unknown',
            input: args.input,
          });
        } finally {
          observe?.({
            kind: 'authorization',
            service: context.clientName ?? 'unknown',
            operation: context.commandName ?? 'unknown',
            start,
            end: performance.now(),
          });
        }
        return next(args);
      },
      { step: 'initialize', priority: 'low', name: 'sutureIamReplay' },
    );
  }
}

interface WithRetryConfig {
  readonly config: {
    maxAttempts: () => Promise<number>;
    retryStrategy: () => Promise<unknown>;
  };
}

/**
 * Gives `client` the SDK's standard retry strategy with the same attempt count and the given
 * back-off. The retry middleware asks its (resolved) configuration for the strategy on every
 * call, so replacing the provider before the first call reaches every command.
 */
function shrinkRetryBackoff(client: object, backoff: (retry: number) => number): void {
  const { config } = client as WithRetryConfig;
  if (typeof config?.maxAttempts !== 'function' || typeof config.retryStrategy !== 'function')
    throw new TypeError('not an AWS SDK v3 client: no resolved retry configuration');
  const strategy = new ConfiguredRetryStrategy(config.maxAttempts, backoff);
  config.retryStrategy = () => Promise.resolve(strategy);
}
