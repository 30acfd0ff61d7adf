/**
 * The loop's Lambda functions: the one list the bundler, the construct and the tests read.
 * Each name is a folder `functions/<name>/` whose `index.ts` exports `handler`.
 */

/** What the construct needs to know about one function besides its code. */
export interface LoopFunctionSpec {
  /** Folder under `functions/`, also the suffix of the deployed function name. */
  readonly name: LoopFunctionName;
  /** Shown on the Lambda function. */
  readonly description: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** Ships the compiled policy bundle as `policy/bundle.tar.gz` beside the handler. */
  readonly policyBundle: boolean;
}

/** Names of the loop's functions, in the order the loop runs them. */
export const LOOP_FUNCTION_NAMES = [
  'triage',
  'collect-evidence',
  'classify',
  'plan',
  'policy-gate',
  'execute',
  'validate',
  'notify',
  'approval',
] as const;
/** One of {@link LOOP_FUNCTION_NAMES}. */
export type LoopFunctionName = (typeof LOOP_FUNCTION_NAMES)[number];

/** The handler every function exports from its `index.ts` (bundled to `index.js`). */
export const HANDLER = 'index.handler';

/** Every function of the loop. */
export const LOOP_FUNCTIONS: Readonly<Record<LoopFunctionName, LoopFunctionSpec>> = {
  triage: {
    name: 'triage',
    description: 'Suture: validates, redacts, dedupes and starts one workflow per failure',
    memoryMb: 512,
    timeoutSeconds: 30,
    policyBundle: false,
  },
  'collect-evidence': {
    name: 'collect-evidence',
    description: 'Suture: collects bounded, redacted evidence and stores the full record in S3',
    memoryMb: 1024,
    timeoutSeconds: 120,
    policyBundle: false,
  },
  classify: {
    name: 'classify',
    description: 'Suture: deterministic failure classification',
    memoryMb: 512,
    timeoutSeconds: 30,
    policyBundle: false,
  },
  plan: {
    name: 'plan',
    description: 'Suture: proposes a remediation from a playbook or the Bedrock agent',
    memoryMb: 512,
    timeoutSeconds: 120,
    policyBundle: false,
  },
  'policy-gate': {
    name: 'policy-gate',
    description: 'Suture: evaluates the compiled policy bundle (wasm) on each proposal',
    memoryMb: 512,
    timeoutSeconds: 10,
    policyBundle: true,
  },
  execute: {
    name: 'execute',
    description: 'Suture: re-checks the policy and performs the allowed action once',
    memoryMb: 512,
    timeoutSeconds: 60,
    policyBundle: true,
  },
  validate: {
    name: 'validate',
    description: 'Suture: observes the repaired pipeline and alarms after the bake time',
    memoryMb: 512,
    timeoutSeconds: 60,
    policyBundle: false,
  },
  notify: {
    name: 'notify',
    description: 'Suture: escalations, approval requests and resolution notices',
    memoryMb: 256,
    timeoutSeconds: 30,
    policyBundle: false,
  },
  approval: {
    name: 'approval',
    description: 'Suture: the approval callback (function URL, IAM auth) resuming the workflow',
    memoryMb: 256,
    timeoutSeconds: 15,
    policyBundle: false,
  },
};

/** The longest function timeout: the workflow's per-task timeout must not be shorter. */
export const LONGEST_FUNCTION_TIMEOUT_SECONDS = Math.max(
  ...Object.values(LOOP_FUNCTIONS).map((spec) => spec.timeoutSeconds),
);
