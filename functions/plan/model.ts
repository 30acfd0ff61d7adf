/**
 * Asking the Bedrock agent for a proposal, and deciding whether its answer can be used.
 *
 * The agent's action group runs in RETURN_CONTROL mode: instead of executing anything, the
 * agent hands back `returnControl.invocationInputs[].functionInvocationInput` — a function name
 * and string-typed parameters. That is the only thing read as a proposal. It must name an action
 * of the policy data that the failure class allows, with parameters that convert exactly to the
 * declared types; several invocations must all propose the same thing. Anything else, and every
 * error, deadline or throttle, is an {@link ModelOutcome} with a fallback code: this module
 * never throws and never repairs or guesses at a malformed answer.
 */
import {
  InvokeAgentCommand,
  type FunctionInvocationInput,
  type InvocationInputMember,
  type ResponseStream,
  BedrockAgentRuntimeClient,
} from '@aws-sdk/client-bedrock-agent-runtime';
import { awsClient } from '../commons/aws/clients';
import { canonicalJson } from '../commons/audit';
import { describeIssues } from '../commons/policy-gate/schema';
import { redactText, redactValue } from '../commons/redact';
import { agentParametersSchema, classActions, isKnownAction } from './actions';
import { clip } from './prompt';
import type { FallbackCode } from './schema';

/** Longest rationale kept from the agent's text (characters). */
export const RATIONALE_MAX_CHARS = 1024;
/** Agent text read from the stream at most (characters); the rest is ignored. */
const TEXT_READ_MAX_CHARS = 16 * 1024;
/** Function invocations read at most; the API sends 1–5. */
const INVOCATIONS_READ_MAX = 10;
/** Longest detail kept in a fallback reason. */
export const FALLBACK_DETAIL_MAX_CHARS = 512;

/** Bedrock and SDK error names that mean "throttled". */
const THROTTLED = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'ServiceQuotaExceededException',
]);

/** One request to the agent. */
export interface ModelRequest {
  readonly agentId: string;
  readonly agentAliasId: string;
  readonly sessionId: string;
  readonly prompt: string;
  readonly timeoutMs: number;
  readonly failureClass: string;
}

/** What the agent's answer amounted to. */
export type ModelOutcome =
  | {
      readonly ok: true;
      readonly action: string;
      readonly parameters: Record<string, unknown>;
      /** The agent's own words (text chunks, else its orchestration rationale), redacted and bounded. */
      readonly rationale: string;
      readonly invocationId: string | undefined;
      readonly actionGroup: string | undefined;
      readonly durationMs: number;
    }
  | {
      readonly ok: false;
      readonly code: FallbackCode;
      /** Redacted and bounded. */
      readonly detail: string;
      readonly rationale: string;
      readonly durationMs: number;
    };

/** What was read from the event stream. */
interface Completion {
  text: string;
  traceRationale: string | undefined;
  invocationId: string | undefined;
  invocations: InvocationInputMember[];
  moreInvocations: boolean;
}

class ModelDeadlineError extends Error {
  constructor(timeoutMs: number) {
    super(`no complete answer within ${timeoutMs} ms`);
    this.name = 'ModelDeadlineError';
  }
}

/** Redacts and bounds text from the model or from an error before it is stored anywhere. */
export function safeText(text: string, maxChars: number): string {
  return clip(redactText(text).text, maxChars);
}

function failure(code: FallbackCode, detail: string, started: number, rationale = ''): ModelOutcome {
  return {
    ok: false,
    code,
    detail: safeText(detail, FALLBACK_DETAIL_MAX_CHARS),
    rationale,
    durationMs: Date.now() - started,
  };
}

function collect(event: ResponseStream, completion: Completion): void {
  if (event.chunk?.bytes && completion.text.length < TEXT_READ_MAX_CHARS) {
    completion.text += Buffer.from(event.chunk.bytes).toString('utf8');
  }
  const rationale = event.trace?.trace?.orchestrationTrace?.rationale?.text;
  if (completion.traceRationale === undefined && typeof rationale === 'string' && rationale.trim() !== '') {
    completion.traceRationale = rationale.slice(0, TEXT_READ_MAX_CHARS);
  }
  if (event.returnControl) {
    completion.invocationId ??= event.returnControl.invocationId;
    for (const input of event.returnControl.invocationInputs ?? []) {
      if (completion.invocations.length >= INVOCATIONS_READ_MAX) completion.moreInvocations = true;
      else completion.invocations.push(input);
    }
  }
}

async function readCompletion(request: ModelRequest, signal: AbortSignal): Promise<Completion> {
  const output = await awsClient(BedrockAgentRuntimeClient).send(
    new InvokeAgentCommand({
      agentId: request.agentId,
      agentAliasId: request.agentAliasId,
      sessionId: request.sessionId,
      inputText: request.prompt,
      // Traces carry the agent's orchestration rationale: the "why" the policy wants with a model proposal.
      enableTrace: true,
    }),
    { abortSignal: signal },
  );
  const completion: Completion = {
    text: '',
    traceRationale: undefined,
    invocationId: undefined,
    invocations: [],
    moreInvocations: false,
  };
  for await (const event of output.completion ?? []) {
    if (signal.aborted) break;
    collect(event, completion);
  }
  return completion;
}

/**
 * Calls InvokeAgent with `request.prompt` and turns the answer into a proposal or a fallback
 * code. The whole call, stream included, is bounded by `request.timeoutMs`: on the deadline the
 * request is aborted and the outcome is `model_timeout`.
 */
export async function askModel(request: ModelRequest): Promise<ModelOutcome> {
  const started = Date.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new ModelDeadlineError(request.timeoutMs));
      controller.abort();
    }, request.timeoutMs);
  });
  const work = readCompletion(request, controller.signal);
  // After the deadline wins the race, the aborted call still rejects; nobody waits for it any more.
  work.catch(() => undefined);
  let completion: Completion;
  try {
    completion = await Promise.race([work, deadline]);
  } catch (error) {
    if (error instanceof ModelDeadlineError || controller.signal.aborted) {
      return failure(
        'model_timeout',
        `InvokeAgent: no complete answer within ${request.timeoutMs} ms`,
        started,
      );
    }
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    const code: FallbackCode = THROTTLED.has(name) ? 'model_throttled' : 'model_error';
    return failure(code, `InvokeAgent failed: ${name}: ${message}`, started);
  } finally {
    clearTimeout(timer);
  }
  return interpret(completion, request.failureClass, started);
}

function rationaleOf(completion: Completion): string {
  const own = completion.text.trim() !== '' ? completion.text : (completion.traceRationale ?? '');
  return safeText(own.trim(), RATIONALE_MAX_CHARS);
}

type Parsed =
  | { readonly ok: true; readonly action: string; readonly parameters: Record<string, unknown> }
  | { readonly ok: false; readonly code: FallbackCode; readonly detail: string };

/** Checks one function invocation against the policy data and converts its parameters. */
export function parseInvocation(input: FunctionInvocationInput, failureClass: string): Parsed {
  const action = input.function;
  if (typeof action !== 'string' || action === '') {
    return { ok: false, code: 'model_unknown_action', detail: 'the function invocation names no function' };
  }
  if (!isKnownAction(action)) {
    return {
      ok: false,
      code: 'model_unknown_action',
      detail: `model proposed ${clip(action, 64)}, which is not an action Suture can perform`,
    };
  }
  if (!classActions(failureClass).includes(action)) {
    return {
      ok: false,
      code: 'model_action_not_allowed',
      detail: `model proposed ${action}, which failure class ${failureClass} does not allow`,
    };
  }
  const byName: Record<string, { type: unknown; value: unknown }> = {};
  for (const parameter of input.parameters ?? []) {
    const name = parameter.name ?? '';
    if (Object.hasOwn(byName, name)) {
      return {
        ok: false,
        code: 'model_invalid_parameters',
        detail: `${action}: parameter ${clip(name, 64)} is sent twice`,
      };
    }
    byName[name] = { type: parameter.type, value: parameter.value };
  }
  const parsed = agentParametersSchema(action).safeParse(byName);
  if (!parsed.success) {
    return {
      ok: false,
      code: 'model_invalid_parameters',
      detail: `${action}: ${describeIssues(parsed.error)}`,
    };
  }
  const parameters = Object.fromEntries(
    Object.entries(parsed.data).filter(([, value]) => value !== undefined),
  );
  if (redactValue(parameters).report.total > 0) {
    return {
      ok: false,
      code: 'model_output_redacted',
      detail: `${action}: a parameter value looks like a secret; the proposal is not used`,
    };
  }
  return { ok: true, action, parameters };
}

function interpret(completion: Completion, failureClass: string, started: number): ModelOutcome {
  const rationale = rationaleOf(completion);
  const fail = (code: FallbackCode, detail: string) => failure(code, detail, started, rationale);
  if (completion.invocations.length === 0) {
    return fail(
      'model_no_proposal',
      completion.text.trim() !== ''
        ? 'the agent answered with text only, without a returnControl'
        : 'the agent returned neither text nor a returnControl',
    );
  }
  if (completion.moreInvocations) {
    return fail(
      'model_conflicting_proposals',
      `the agent returned more than ${INVOCATIONS_READ_MAX} invocations`,
    );
  }
  const parsed: Array<Extract<Parsed, { ok: true }>> = [];
  for (const invocation of completion.invocations) {
    const input = invocation.functionInvocationInput;
    if (!input) {
      return fail(
        'model_unexpected_invocation',
        'the agent returned an invocation that is not a function invocation',
      );
    }
    const one = parseInvocation(input, failureClass);
    if (!one.ok) return fail(one.code, one.detail);
    parsed.push(one);
  }
  const distinct = new Set(
    parsed.map((one) => canonicalJson({ action: one.action, parameters: one.parameters })),
  );
  if (distinct.size > 1) {
    return fail(
      'model_conflicting_proposals',
      `the agent proposed ${distinct.size} different remediations: ${[...new Set(parsed.map((one) => one.action))].join(', ')}`,
    );
  }
  const first = parsed[0]!;
  return {
    ok: true,
    action: first.action,
    parameters: first.parameters,
    rationale,
    invocationId: completion.invocationId,
    actionGroup: completion.invocations[0]!.functionInvocationInput!.actionGroup,
    durationMs: Date.now() - started,
  };
}
