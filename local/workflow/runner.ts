import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { TaskOutcome, LocalStepFunctions } from '../stepfunctions/server';

/** A Lambda handler as the runner calls it: the task's payload in, its result out. */
export type LocalFunction = (payload: unknown) => Promise<unknown>;

/** What happened in one state, for progress and the timeline. */
export interface StateRecord {
  readonly name: string;
  readonly type: string;
  readonly startedAt: number;
  readonly endedAt: number;
  /** Set when the state failed (before any Catch). */
  readonly error?: { readonly Error: string; readonly Cause?: string };
  readonly retries: number;
}

/** Progress callbacks while an execution runs. */
export interface RunnerObserver {
  readonly onStateEntered?: (name: string, type: string) => void;
  readonly onStateExited?: (record: StateRecord) => void;
}

/** Inputs of {@link runWorkflow}. */
export interface RunWorkflowOptions {
  /** The Amazon States Language definition (JSONPath), as deployed. */
  readonly definition: Record<string, unknown>;
  /** Which local function runs for each Lambda ARN the definition references. */
  readonly functions: ReadonlyMap<string, LocalFunction>;
  /**
   * Step Functions service integrations the definition uses (e.g.
   * `arn:aws:states:::codebuild:startBuild`), each given the task's evaluated Parameters.
   * @default none: a definition with another Task resource fails to start
   */
  readonly integrations?: ReadonlyMap<string, LocalFunction>;
  /** The ARN of the state machine (for the context object). @default a local one */
  readonly stateMachineArn?: string;
  /** The execution input (what triage passed to StartExecution). */
  readonly input: unknown;
  /** Execution name, as triage chose it. */
  readonly name?: string;
  /** Issues task tokens and receives the callbacks of `.waitForTaskToken` states. */
  readonly taskTokens: LocalStepFunctions;
  /** Wait states run for this long instead (ms). @default 0 */
  readonly waitMs?: number;
  /** Retry intervals shrink to this (ms). @default 0 */
  readonly retryIntervalMs?: number;
  /** A `.waitForTaskToken` state times out after this long (ms) instead of its TimeoutSeconds. @default 30000 */
  readonly callbackTimeoutMs?: number;
  readonly observer?: RunnerObserver;
  /**
   * Starts at this state with this input instead of `StartAt` with `input`: a redrive, which
   * Step Functions begins at the state that failed, with the input that state had.
   */
  readonly resumeAt?: { readonly state: string; readonly input: unknown };
}

/**
 * One call of a Task state's function, timed in `performance.now()` milliseconds and in
 * process CPU microseconds (`process.cpuUsage()`, user + system, every thread of the process).
 */
export interface TaskInvocation {
  readonly state: string;
  readonly start: number;
  readonly end: number;
  readonly cpuStartUs: number;
  readonly cpuEndUs: number;
}

/** Process CPU time (user + system) in microseconds. */
export function processCpuUs(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** The end of a local execution. */
export interface WorkflowRun {
  readonly status: 'SUCCEEDED' | 'FAILED';
  /** Final state document (SUCCEEDED) . */
  readonly output?: unknown;
  readonly error?: { readonly Error: string; readonly Cause?: string };
  readonly states: readonly StateRecord[];
  /** Name of the last state entered. */
  readonly lastState: string | undefined;
  readonly startedAt: number;
  readonly endedAt: number;
  /** Every Task function call, in the order they ended (a retried state calls again). */
  readonly tasks: readonly TaskInvocation[];
  /** FAILED: the state that failed and the input it had (where a redrive starts). */
  readonly failedState?: { readonly state: string; readonly input: unknown };
}

interface TaskStateDefinition {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: Record<string, unknown>;
  readonly TimeoutSeconds?: number;
}

/** Step Functions' own error for a task whose callback never came. */
class StatesTimeoutError extends Error {
  constructor() {
    super('the task did not receive a callback before its timeout');
    this.name = 'States.Timeout';
  }
}

/** An error carrying the name a `.waitForTaskToken` failure callback gave. */
class CallbackFailureError extends Error {
  constructor(name: string, cause: string | undefined) {
    super(cause ?? name);
    this.name = name;
  }
}

/** The function a Lambda ARN (or ARN with qualifier) names. */
function functionFor(
  functions: ReadonlyMap<string, LocalFunction>,
  arn: unknown,
  state: string,
): LocalFunction {
  const key = String(arn);
  const fn = functions.get(key) ?? functions.get(key.replace(/:[^:]+$/, ''));
  if (!fn) throw new Error(`state ${state} invokes ${key}, which no local function implements`);
  return fn;
}

/** Validated state machines, by the definition object they were made from. */
const machines = new WeakMap<object, unknown>();

/**
 * Runs a Step Functions definition on this machine with aws-local-stepfunctions, each Lambda
 * Task served by a local function (the real handler). `.waitForTaskToken` tasks get a real
 * task token from {@link LocalStepFunctions}, so a callback sent by the real SFN client (the
 * approval function) resumes the execution; no callback within the timeout is `States.Timeout`.
 */
export async function runWorkflow(options: RunWorkflowOptions): Promise<WorkflowRun> {
  const { StateMachine } = await import('aws-local-stepfunctions');
  const resumeAt = options.resumeAt;
  if (resumeAt && !(resumeAt.state in (options.definition as { States: object }).States))
    throw new Error(`cannot redrive at ${resumeAt.state}: the definition has no such state`);
  const definitionObject = resumeAt ? { ...options.definition, StartAt: resumeAt.state } : options.definition;
  const executionInput = resumeAt ? resumeAt.input : options.input;
  const definition = definitionObject as { States: Record<string, TaskStateDefinition> };
  const handlers: Record<string, (input: never) => Promise<never>> = {};
  const waits: Record<string, number> = {};
  const retries: Record<string, number> = {};
  const tokens = new Map<string, string>();
  const tasks: TaskInvocation[] = [];
  const timedTask = async <T>(state: string, call: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    const cpuStartUs = processCpuUs();
    try {
      return await call();
    } finally {
      tasks.push({ state, start, end: performance.now(), cpuStartUs, cpuEndUs: processCpuUs() });
    }
  };

  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Wait') waits[name] = options.waitMs ?? 0;
    if (state.Type !== 'Task') continue;
    retries[name] = options.retryIntervalMs ?? 0;
    const resource = String(state.Resource ?? '');
    if (resource.endsWith('.waitForTaskToken')) {
      handlers[name] = (async (input: { FunctionName?: string; Payload?: Record<string, unknown> }) => {
        const fn = functionFor(options.functions, input.FunctionName, name);
        const issued = options.taskTokens.issue();
        tokens.set(name, issued.token);
        // The definition passes $$.Task.Token; the interpreter has no per-task token, so the
        // runner puts the real one in place of whatever the context held.
        const payload = { ...(input.Payload ?? {}), task_token: issued.token };
        await timedTask(name, () => fn(payload));
        const timeoutMs = options.callbackTimeoutMs ?? 30_000;
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race<TaskOutcome | 'timeout'>([
          issued.outcome,
          new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
        ]);
        clearTimeout(timer);
        if (outcome === 'timeout') {
          issued.expire();
          throw new StatesTimeoutError();
        }
        if (outcome.kind === 'failure') throw new CallbackFailureError(outcome.error, outcome.cause);
        return outcome.output as never;
      }) as never;
    } else if (options.integrations?.has(resource)) {
      const integration = options.integrations.get(resource)!;
      handlers[name] = ((input: unknown) => timedTask(name, () => integration(input))) as never;
    } else {
      const fn = functionFor(options.functions, resource, name);
      handlers[name] = ((input: unknown) => timedTask(name, () => fn(input))) as never;
    }
  }

  // Validating a definition compiles asl-validator's JSON schemas (50–150 ms); like Step Functions,
  // which validates a state machine once when it is created, do it once per definition.
  let machine = machines.get(definitionObject) as InstanceType<typeof StateMachine> | undefined;
  if (!machine) {
    // A redrive's definition starts part-way, which leaves the states before it unreachable:
    // the deployed definition (validated when first run) is what is checked.
    machine = new StateMachine(definition as never, {
      validationOptions: resumeAt ? { noValidate: true } : { checkArn: false, checkPaths: true },
    });
    machines.set(definitionObject, machine);
  }
  const name = options.name ?? randomUUID();
  const startedAt = Date.now();
  const machineArn =
    options.stateMachineArn ?? 'arn:aws:states:us-west-2:123456789012:stateMachine:suture-local';
  const roleArn = machineArn.replace(/:states:[^:]*:(\d+):stateMachine:(.*)$/, ':iam::$1:role/$2');
  const execution = machine.run(executionInput as never, {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      waitTimeOverrides: waits,
      retryIntervalOverrides: retries,
    },
    context: {
      Execution: {
        Id: `${machineArn.replace(':stateMachine:', ':execution:')}:${name}`,
        Name: name,
        StartTime: new Date(startedAt).toISOString(),
        Input: options.input as never,
        RoleArn: roleArn,
      },
      StateMachine: {
        Id: machineArn,
        Name: machineArn.replace(/^.*:stateMachine:/, ''),
      },
      Task: { Token: 'replaced-by-the-runner' },
    } as never,
  });

  const states: StateRecord[] = [];
  const open = new Map<
    string,
    { startedAt: number; retries: number; type: string; error?: StateRecord['error'] }
  >();
  let lastState: string | undefined;
  const inputs = new Map<string, unknown>();
  const close = (stateName: string, at: number) => {
    const entry = open.get(stateName);
    if (!entry) return;
    open.delete(stateName);
    const record: StateRecord = {
      name: stateName,
      type: entry.type,
      startedAt: entry.startedAt,
      endedAt: at,
      retries: entry.retries,
      ...(entry.error ? { error: entry.error } : {}),
    };
    states.push(record);
    options.observer?.onStateExited?.(record);
  };
  const consumeEvents = (async () => {
    for await (const event of execution.eventLogs) {
      if (!('state' in event) || 'parentState' in event) continue;
      const stateName = event.state.name;
      switch (event.type) {
        case 'StateEntered':
          lastState = stateName;
          inputs.set(stateName, event.state.input);
          // A retried state is entered again: keep counting on the open record.
          if (open.has(stateName)) break;
          open.set(stateName, { startedAt: event.timestamp, retries: 0, type: event.state.type });
          options.observer?.onStateEntered?.(stateName, event.state.type);
          break;
        case 'StateRetried': {
          const entry = open.get(stateName);
          if (entry) entry.retries += 1;
          break;
        }
        case 'StateFailed':
        case 'StateCaught': {
          const entry = open.get(stateName);
          const info = event as unknown as { Error?: string; Cause?: unknown };
          if (entry && info.Error) {
            entry.error = { Error: info.Error, ...(info.Cause ? { Cause: String(info.Cause) } : {}) };
          }
          // A failure may still be retried (StateRetried follows); a Catch ends the state.
          if (event.type === 'StateCaught') close(stateName, event.timestamp);
          break;
        }
        case 'StateExited':
          close(stateName, event.timestamp);
          break;
        default:
          break;
      }
    }
  })();

  const closeRemaining = () => {
    for (const stateName of [...open.keys()]) close(stateName, Date.now());
  };
  try {
    const output = await execution.result;
    await consumeEvents;
    closeRemaining();
    return { status: 'SUCCEEDED', output, states, lastState, startedAt, endedAt: Date.now(), tasks };
  } catch (error) {
    await consumeEvents.catch(() => undefined);
    closeRemaining();
    const failure = error as Error & { cause?: unknown };
    return {
      status: 'FAILED',
      error: { Error: failure.name, Cause: failure.message },
      ...(lastState ? { failedState: { state: lastState, input: inputs.get(lastState) } } : {}),
      states,
      lastState,
      startedAt,
      endedAt: Date.now(),
      tasks,
    };
  }
}
