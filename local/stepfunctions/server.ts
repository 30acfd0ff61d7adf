import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How a waiting task ended. */
export type TaskOutcome =
  | { readonly kind: 'success'; readonly output: unknown }
  | { readonly kind: 'failure'; readonly error: string; readonly cause?: string };

/** An execution started through the server's StartExecution. */
export interface LocalExecution {
  readonly executionArn: string;
  readonly name: string;
  readonly input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly startDate: Date;
  /** How many times RedriveExecution restarted it. */
  redriveCount?: number;
  redriveDate?: Date;
}

/** Options of {@link LocalStepFunctions}. */
export interface LocalStepFunctionsOptions {
  /**
   * The state machines that exist (StartExecution of another is `StateMachineDoesNotExist`).
   * @default any well-formed ARN
   */
  readonly stateMachines?: () => readonly string[];
  /**
   * Runs a redrive of an execution this server started (the loop's own workflow): Step
   * Functions restarts it at the state that failed. Without it, such a redrive ends as
   * `onRedrive` says, like a seeded execution's.
   */
  readonly redriveStarted?: (execution: LocalExecution) => void;
}

interface Waiting {
  readonly resolve: (outcome: TaskOutcome) => void;
  closed: boolean;
}

/**
 * The parts of Step Functions the loop's functions call, on 127.0.0.1, for the local workflow
 * runner. It speaks the service's wire protocol (AWS JSON 1.0, `X-Amz-Target:
 * AWSStepFunctions.<Operation>`), so the real SFN client in the real handlers talks to it:
 *
 * - StartExecution / DescribeExecution (triage): names are unique per state machine; the same
 *   name with the same input while running returns the first execution, anything else is
 *   `ExecutionAlreadyExists`, as Standard workflows behave. Each new execution is handed to
 *   `onStart` (the runner).
 * - RedriveExecution (execute): a FAILED, TIMED_OUT or ABORTED execution runs again and ends as
 *   `onRedrive` says; others are `ExecutionNotRedrivable`. The same clientToken again returns
 *   the first redrive, as the service does within its idempotency window.
 * - SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat (approval): task tokens issued to
 *   `.waitForTaskToken` states. Unknown tokens get `TaskDoesNotExist`, tokens of tasks that
 *   already ended get `TaskTimedOut`, malformed requests `InvalidToken`/`InvalidOutput`.
 */
export class LocalStepFunctions {
  private server: Server | undefined;
  private readonly tasks = new Map<string, Waiting>();
  private readonly executions = new Map<string, LocalExecution>();
  private readonly redriveTokens = new Map<string, Date>();
  private readonly started = new Set<string>();
  /**
   * How a redriven execution ends (other workflows than the loop's, seeded with
   * {@link LocalStepFunctions.addExecution}). @default SUCCEEDED
   */
  onRedrive: (execution: LocalExecution) => 'SUCCEEDED' | 'FAILED' = () => 'SUCCEEDED';

  /** @param onStart called once for every execution StartExecution creates. */
  constructor(
    private readonly onStart: (execution: LocalExecution) => void = () => undefined,
    private readonly options: LocalStepFunctionsOptions = {},
  ) {}

  /** Seeds an execution of another workflow (e.g. one a pipeline's action ran, now FAILED). */
  addExecution(execution: Omit<LocalExecution, 'startDate'> & { readonly startDate?: Date }): LocalExecution {
    const added: LocalExecution = { ...execution, startDate: execution.startDate ?? new Date() };
    this.executions.set(added.executionArn, added);
    return added;
  }

  /** Whether this server issued `token` to a waiting task. */
  issuedToken(token: string): boolean {
    return this.tasks.has(token);
  }

  /** The execution with this ARN, if any. */
  execution(executionArn: string): LocalExecution | undefined {
    return this.executions.get(executionArn);
  }

  /** Records how a started execution ended (DescribeExecution reports it). */
  finish(executionArn: string, status: 'SUCCEEDED' | 'FAILED'): void {
    const execution = this.executions.get(executionArn);
    if (execution) execution.status = status;
  }

  /** Every execution started so far, in order. */
  startedExecutions(): LocalExecution[] {
    return [...this.executions.values()];
  }

  /** Starts listening on a free port of 127.0.0.1 and returns the endpoint. */
  async start(): Promise<{ endpoint: string }> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return { endpoint: this.endpoint };
  }

  /** `http://127.0.0.1:<port>` once started. */
  get endpoint(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('task token server is not started');
    return `http://127.0.0.1:${address.port}`;
  }

  /** Stops listening; tasks still waiting stay unresolved. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // A keep-alive connection whose client never read its answer would hold close() open.
    server.closeAllConnections();
    await closed;
  }

  /**
   * Issues a token for one waiting task. `outcome` settles when a client sends success or
   * failure; `expire()` ends the wait (the task timed out) so later callbacks get TaskTimedOut.
   */
  issue(): { token: string; outcome: Promise<TaskOutcome>; expire: () => void } {
    const token = `local-${randomBytes(24).toString('base64url')}`;
    let resolveOutcome!: (outcome: TaskOutcome) => void;
    const outcome = new Promise<TaskOutcome>((resolve) => (resolveOutcome = resolve));
    const waiting: Waiting = { resolve: resolveOutcome, closed: false };
    this.tasks.set(token, waiting);
    return {
      token,
      outcome,
      expire: () => {
        waiting.closed = true;
      },
    };
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AWSStepFunctions.') ? target.slice('AWSStepFunctions.'.length) : '';
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      return reply(response, 400, { __type: 'SerializationException', message: 'request body is not JSON' });
    }
    if (operation === 'StartExecution') return this.startExecution(body, response);
    if (operation === 'RedriveExecution') return this.redriveExecution(body, response);
    if (operation === 'DescribeExecution') {
      const execution = [...this.executions.values()].find((e) => e.executionArn === body.executionArn);
      if (!execution) {
        return reply(response, 400, {
          __type: 'ExecutionDoesNotExist',
          message: `Execution Does Not Exist: '${String(body.executionArn)}'`,
        });
      }
      return reply(response, 200, {
        executionArn: execution.executionArn,
        name: execution.name,
        status: execution.status,
        input: execution.input,
        startDate: execution.startDate.getTime() / 1000,
        stateMachineArn: execution.executionArn
          .replace(':execution:', ':stateMachine:')
          .replace(/:[^:]+$/, ''),
      });
    }
    if (!['SendTaskSuccess', 'SendTaskFailure', 'SendTaskHeartbeat'].includes(operation)) {
      return reply(response, 400, {
        __type: 'UnknownOperationException',
        message: `${target} is not served here`,
      });
    }
    const token = body.taskToken;
    if (typeof token !== 'string' || token.length === 0) {
      return reply(response, 400, { __type: 'InvalidToken', message: 'taskToken is required' });
    }
    const task = this.tasks.get(token);
    if (!task)
      return reply(response, 400, { __type: 'TaskDoesNotExist', message: 'Task does not exist anymore' });
    if (task.closed) return reply(response, 400, { __type: 'TaskTimedOut', message: 'Task Timed Out' });
    if (operation === 'SendTaskHeartbeat') return reply(response, 200, {});
    if (operation === 'SendTaskSuccess') {
      let output: unknown;
      try {
        output = JSON.parse(String(body.output));
      } catch {
        return reply(response, 400, { __type: 'InvalidOutput', message: 'output is not valid JSON' });
      }
      task.closed = true;
      task.resolve({ kind: 'success', output });
      return reply(response, 200, {});
    }
    task.closed = true;
    task.resolve({
      kind: 'failure',
      error: typeof body.error === 'string' ? body.error : 'States.TaskFailed',
      ...(typeof body.cause === 'string' ? { cause: body.cause } : {}),
    });
    return reply(response, 200, {});
  }

  private redriveExecution(body: Record<string, unknown>, response: ServerResponse): void {
    const executionArn = String(body.executionArn ?? '');
    const execution = this.executions.get(executionArn);
    if (!execution) {
      return reply(response, 400, {
        __type: 'ExecutionDoesNotExist',
        message: `Execution Does Not Exist: '${executionArn}'`,
      });
    }
    const token = typeof body.clientToken === 'string' ? `${executionArn}#${body.clientToken}` : undefined;
    const earlier = token ? this.redriveTokens.get(token) : undefined;
    if (earlier) return reply(response, 200, { redriveDate: earlier.getTime() / 1000 });
    if (!['FAILED', 'TIMED_OUT', 'ABORTED'].includes(execution.status)) {
      return reply(response, 400, {
        __type: 'ExecutionNotRedrivable',
        message: `Execution is ${execution.status}; only FAILED, TIMED_OUT or ABORTED executions can be redriven`,
      });
    }
    const redriveDate = new Date();
    execution.redriveCount = (execution.redriveCount ?? 0) + 1;
    execution.redriveDate = redriveDate;
    if (this.started.has(executionArn) && this.options.redriveStarted) {
      execution.status = 'RUNNING';
      this.options.redriveStarted(execution);
    } else execution.status = this.onRedrive(execution);
    if (token) this.redriveTokens.set(token, redriveDate);
    return reply(response, 200, { redriveDate: redriveDate.getTime() / 1000 });
  }

  private startExecution(body: Record<string, unknown>, response: ServerResponse): void {
    const machineArn = String(body.stateMachineArn ?? '');
    if (!/^arn:[\w-]+:states:[\w-]+:\d{12}:stateMachine:[\w-]+$/.test(machineArn)) {
      return reply(response, 400, { __type: 'InvalidArn', message: `Invalid Arn: '${machineArn}'` });
    }
    const known = this.options.stateMachines?.();
    if (known && !known.includes(machineArn)) {
      return reply(response, 400, {
        __type: 'StateMachineDoesNotExist',
        message: `State Machine Does Not Exist: '${machineArn}'`,
      });
    }
    const name =
      typeof body.name === 'string' && body.name.length > 0 ? body.name : randomBytes(16).toString('hex');
    const input = typeof body.input === 'string' ? body.input : '{}';
    const executionArn = `${machineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) {
        return reply(response, 200, { executionArn, startDate: existing.startDate.getTime() / 1000 });
      }
      return reply(response, 400, {
        __type: 'ExecutionAlreadyExists',
        message: `Execution Already Exists: '${executionArn}'`,
      });
    }
    const execution: LocalExecution = { executionArn, name, input, status: 'RUNNING', startDate: new Date() };
    this.executions.set(executionArn, execution);
    this.started.add(executionArn);
    this.onStart(execution);
    return reply(response, 200, { executionArn, startDate: execution.startDate.getTime() / 1000 });
  }
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
  response.end(JSON.stringify(body));
}
