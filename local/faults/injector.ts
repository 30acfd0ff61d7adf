/**
 * Deterministic fault injection for local runs (`suture simulate --faults RATE --seed N`).
 *
 * Every decision is a function of the seed, the current scope (seed × scenario), the place of
 * the call (principal, service, operation) and how many such calls the scope has made before:
 * SHA-256 over those, read as a number in [0, 1). The same seed therefore injects the same
 * faults into the same calls, whatever else ran before in the process, and a broken invariant
 * is reproduced by running its seed again.
 *
 * The injector reaches the handlers at three levels, like the failures it imitates:
 * - AWS SDK calls (moto and the protocol fakes alike): middleware inside the SDK's retry loop
 *   throws what a throttled, failing or unreachable service makes the SDK see, or lets the
 *   request through and then loses its response (the call happened; the caller sees a timeout);
 * - a Lambda invocation that dies part-way: the handler is frozen at one of its AWS calls
 *   (before or after the request left) and the invocation fails with `Lambda.Unknown`, the
 *   error Step Functions reports for a crashed function;
 * - a late duplicate: EventBridge delivers the same event again after the workflow ended.
 * GitHub is reached by Octokit over HTTP, not the AWS SDK: its fake asks {@link decideHttp}.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';

/** The kinds of fault, in the order the figures print them. */
export const FAULT_KINDS = [
  'throttling',
  'server_error',
  'connection_reset',
  'timeout',
  'response_lost',
  'lambda_died',
  'late_duplicate',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What one kind of fault exercises (docs/simulate.md shows the same table). */
export const FAULT_PURPOSE: Readonly<Record<FaultKind, string>> = {
  throttling:
    'ThrottlingException / ProvisionedThroughputExceededException: SDK back-off, TransientAwsError retries',
  server_error: '5xx answers: SDK retries, then the workflow’s TransientAwsError retry and Escalate',
  connection_reset: 'ECONNRESET before the request reached the service',
  timeout: 'a request timing out before it reached the service',
  response_lost: 'the call happened and its answer was lost: retries must not mutate twice',
  lambda_died: 'a handler frozen part-way (Lambda.Unknown): the task retries, idempotency holds',
  late_duplicate: 'the same event delivered again after the workflow ended: no second remediation',
};

/** The kinds decided per call (the others are decided per invocation or per scenario). */
const CALL_KINDS: readonly FaultKind[] = FAULT_KINDS.filter((kind) => kind !== 'late_duplicate');

/** A Lambda invocation the injector may kill. */
interface Invocation {
  readonly die: () => void;
  dead: boolean;
}

const invocations = new AsyncLocalStorage<Invocation>();

/** The error Step Functions (and Lambda's async retries) see for a function that died. */
export class LambdaDiedError extends Error {
  constructor(functionName: string) {
    super(`${functionName} died part-way through the invocation (injected fault)`);
    this.name = 'Lambda.Unknown';
  }
}

/** Counts of injected faults by kind. */
export type FaultCounts = Record<FaultKind, number>;

export function emptyCounts(): FaultCounts {
  return Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as FaultCounts;
}

/** Injects faults with probability `rate` per call, deterministically for a seed (see {@link begin}). */
export class FaultInjector {
  private scope: string | undefined;
  private seed = 0;
  private readonly ordinals = new Map<string, number>();
  private counts = emptyCounts();

  constructor(readonly rate: number) {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`the fault rate must be from 0 to 1, got ${rate}`);
  }

  /**
   * Starts injecting for one scope (a scenario) under `seed`; counts start from zero. The
   * same seed and scope draw the same faults again.
   */
  begin(seed: number, scope: string): void {
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new RangeError(`the seed must be a non-negative integer, got ${seed}`);
    this.seed = seed;
    this.scope = scope;
    this.ordinals.clear();
    this.counts = emptyCounts();
  }

  /** Stops injecting (the simulator reads back the world without faults). */
  end(): FaultCounts {
    this.scope = undefined;
    return { ...this.counts };
  }

  /** Faults injected in the current scope so far. */
  injected(): FaultCounts {
    return { ...this.counts };
  }

  /** A uniform number in [0, 1) for the `ordinal`-th draw at `place` in this scope. */
  private draw(place: string, salt: string): number {
    const ordinal = this.ordinals.get(place) ?? 0;
    const digest = createHash('sha256')
      .update(`${this.seed}\u0000${this.scope ?? ''}\u0000${place}\u0000${ordinal}\u0000${salt}`)
      .digest();
    return digest.readUIntBE(0, 6) / 2 ** 48;
  }

  private next(place: string): void {
    this.ordinals.set(place, (this.ordinals.get(place) ?? 0) + 1);
  }

  /** The fault for one AWS call of `principal`, or undefined (most calls). */
  decideCall(principal: string, service: string, operation: string): FaultKind | undefined {
    if (this.scope === undefined || this.rate === 0) return undefined;
    const canDie = invocations.getStore() !== undefined;
    return this.decide(
      `${principal}\u0000${service}\u0000${operation}`,
      canDie ? CALL_KINDS : CALL_KINDS.filter((kind) => kind !== 'lambda_died'),
    );
  }

  /** Whether the next draw at `place` is a fault and, if so, which of `kinds`. */
  private decide(place: string, kinds: readonly FaultKind[]): FaultKind | undefined {
    const hit = this.draw(place, 'hit') < this.rate;
    const pick = this.draw(place, 'kind');
    this.next(place);
    return hit ? kinds[Math.floor(pick * kinds.length)] : undefined;
  }

  /** The fault for one HTTP request to a protocol fake outside the AWS SDK (GitHub). */
  decideHttp(service: string, method: string, route: string): FaultKind | undefined {
    if (this.scope === undefined || this.rate === 0) return undefined;
    const kind = this.decide(
      `http\u0000${service}\u0000${method}\u0000${route}`,
      CALL_KINDS.filter((each) => each !== 'lambda_died'),
    );
    if (kind) this.record(kind);
    return kind;
  }

  /** Whether a dying invocation's last request leaves before it dies (a coin, deterministic). */
  sendsBeforeDying(principal: string, operation: string): boolean {
    return this.draw(`${principal}\u0000${operation}`, 'dies-after-send') < 0.5;
  }

  /** Whether the scope's event arrives once more after its workflow ended. */
  lateDuplicate(): boolean {
    if (this.scope === undefined || this.rate === 0) return false;
    const hit = this.draw('late-duplicate', 'hit') < this.rate;
    this.next('late-duplicate');
    if (hit) this.record('late_duplicate');
    return hit;
  }

  record(kind: FaultKind): void {
    this.counts[kind] += 1;
  }

  /**
   * Runs one Lambda invocation of `functionName` so that {@link decideCall} may kill it: the
   * returned promise rejects with {@link LambdaDiedError} when it dies, and the handler stays
   * frozen where it was (its pending call never answers), as a crashed runtime's would.
   */
  invoke<T>(functionName: string, run: () => Promise<T>): Promise<T> {
    let die!: () => void;
    const died = new Promise<never>((_resolve, reject) => {
      die = () => reject(new LambdaDiedError(functionName));
    });
    const invocation: Invocation = {
      dead: false,
      die: () => {
        invocation.dead = true;
        die();
      },
    };
    return Promise.race([invocations.run(invocation, run), died]);
  }
}

/** An error as the AWS SDK deserialises a service's answer. */
function serviceError(name: string, status: number, message: string, throttling = false): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, attempts: 1, totalRetryDelay: 0 },
    ...(throttling ? { $retryable: { throttling: true } } : {}),
  });
}

/** An error as Node's HTTP stack raises it when no answer came. */
function networkError(kind: 'connection_reset' | 'timeout' | 'response_lost'): Error {
  return kind === 'connection_reset'
    ? Object.assign(new Error('read ECONNRESET (injected fault)'), { code: 'ECONNRESET', $metadata: {} })
    : Object.assign(new Error('socket timed out before the response arrived (injected fault)'), {
        name: 'TimeoutError',
        $metadata: {},
      });
}

type Handler = (args: { input?: unknown }) => Promise<unknown>;
type Middleware = (
  next: Handler,
  context: { readonly clientName?: string; readonly commandName?: string },
) => Handler;

/**
 * The SDK middleware that injects `injector`'s faults into the calls of handlers (calls made
 * outside a principal, such as the simulator's own seeding and reading back, are left alone).
 * It belongs inside the SDK's retry loop (the deserialize step), so that the SDK's retry
 * strategy sees each injected failure as it would see the real one.
 */
export function faultMiddleware(injector: FaultInjector, principal: () => string | undefined): Middleware {
  return (next, context) => async (args) => {
    const who = principal();
    const service = context.clientName ?? 'unknown';
    const operation = context.commandName ?? 'unknown';
    if (!who) return next(args);
    // A dead invocation's other pending work never reaches AWS either.
    if (invocations.getStore()?.dead) return new Promise<never>(() => undefined);
    const kind = injector.decideCall(who, service, operation);
    if (!kind) return next(args);
    injector.record(kind);
    switch (kind) {
      case 'throttling':
        throw /dynamodb/i.test(service)
          ? serviceError(
              'ProvisionedThroughputExceededException',
              400,
              'Throughput exceeded (injected fault)',
              true,
            )
          : serviceError('ThrottlingException', 400, 'Rate exceeded (injected fault)', true);
      case 'server_error':
        throw serviceError('InternalFailure', 500, 'The service failed (injected fault)');
      case 'connection_reset':
      case 'timeout':
        throw networkError(kind);
      case 'response_lost':
        await next(args).catch(() => undefined);
        throw networkError(kind);
      case 'lambda_died': {
        const invocation = invocations.getStore()!;
        if (injector.sendsBeforeDying(who, operation)) await next(args).catch(() => undefined);
        invocation.die();
        return new Promise<never>(() => undefined);
      }
      default:
        return next(args);
    }
  };
}
