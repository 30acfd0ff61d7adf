import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { parseBundle, type PolicyBundle } from './bundle';
import { PolicyBundleError } from './errors';
import { describeIssues } from '../zod';
import { GateInputSchema, PolicyDecisionSchema, type GateDecision, type Reason } from './schema';
import { verifyBundleSignature, type SignatureVerification } from './signature';
import { wasmBuiltins } from './builtins';

/** The bundle's one decision entrypoint. */
export const DECISION_ENTRYPOINT = 'suture/remediation/decision';

/** Reason codes the gate itself produces when it cannot use the policy's answer. */
export const GateReasonCode = {
  inputInvalid: 'gate_input_invalid',
  evaluationError: 'gate_evaluation_error',
  undefinedResult: 'gate_undefined_result',
  malformedResult: 'gate_malformed_result',
  deadlineExceeded: 'gate_deadline_exceeded',
  bundleUnavailable: 'gate_bundle_unavailable',
  planUnsupported: 'gate_plan_unsupported',
} as const;

/**
 * How many steps the bundle's policy decides as one plan: `data.suture.config.plan_max_steps`
 * when it is a positive integer, else 1. A policy written before plans has no such entry and
 * judges only `input.proposal`, so the gate must not hand it a plan whose later steps it would
 * never see.
 */
export function bundlePlanMaxSteps(data: unknown): number {
  const value = (data as { suture?: { config?: { plan_max_steps?: unknown } } } | null)?.suture?.config
    ?.plan_max_steps;
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 ? value : 1;
}

/** Options for {@link PolicyGate.load}. */
export interface PolicyGateOptions {
  /** The bundle archive, or a path to it. */
  readonly bundle: Buffer | string;
  /** How the bundle's signature is checked. */
  readonly verification: SignatureVerification;
  /** SHA-256 (hex) the archive must have, pinned by the deployment. @default not checked */
  readonly expectedSha256?: string;
  /**
   * Evaluations slower than this are discarded as a deny. Rego evaluation always terminates,
   * and the Lambda timeout bounds the worst case, so the deadline is checked after the fact.
   * @default 100
   */
  readonly deadlineMs?: number;
}

type LoadedPolicy = Awaited<ReturnType<typeof loadPolicy>>;

/**
 * Evaluates the remediation policy, compiled to WebAssembly, in-process. Every failure
 * (bad input, evaluation error, undefined or malformed result, missed deadline) is a deny
 * with a reason code; the gate never fails open.
 */
export class PolicyGate {
  private constructor(
    private readonly policy: LoadedPolicy,
    /** Revision from the bundle manifest (the content hash of the policy sources). */
    readonly revision: string,
    /** SHA-256 of the bundle archive. */
    readonly sha256: string,
    /** Whether a verified signature covered the bundle. */
    readonly signed: boolean,
    /** Milliseconds spent reading, verifying and instantiating the bundle. */
    readonly loadMs: number,
    private readonly deadlineMs: number,
    /** Most steps of a plan the bundle's policy decides ({@link bundlePlanMaxSteps}). */
    readonly planMaxSteps: number = 1,
  ) {}

  /** Reads, verifies and instantiates a bundle. Throws if the bundle cannot be trusted. */
  static async load(options: PolicyGateOptions): Promise<PolicyGate> {
    const started = performance.now();
    const archive = typeof options.bundle === 'string' ? await readArchive(options.bundle) : options.bundle;
    const bundle: PolicyBundle = parseBundle(archive);
    if (options.expectedSha256 && options.expectedSha256.toLowerCase() !== bundle.sha256) {
      throw new PolicyBundleError(
        `bundle SHA-256 ${bundle.sha256} does not match the pinned ${options.expectedSha256.toLowerCase()}`,
      );
    }
    const signature = await verifyBundleSignature(bundle.files, options.verification);
    if (!bundle.manifest.wasm.some((module) => module.entrypoint === DECISION_ENTRYPOINT)) {
      throw new PolicyBundleError(`bundle has no ${DECISION_ENTRYPOINT} entrypoint`);
    }
    let policy: LoadedPolicy;
    try {
      policy = await loadPolicy(bundle.wasm, undefined, wasmBuiltins);
      policy.setData(bundle.data as object);
    } catch (error) {
      throw new PolicyBundleError(`bundle policy.wasm does not load: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return new PolicyGate(
      policy,
      bundle.manifest.revision,
      bundle.sha256,
      signature.signed,
      performance.now() - started,
      options.deadlineMs ?? 100,
      bundlePlanMaxSteps(bundle.data),
    );
  }

  /** Decides one plan (a proposal and its follow-up steps). Never throws. */
  decide(input: unknown): GateDecision {
    const parsed = GateInputSchema.safeParse(input);
    if (!parsed.success) {
      return this.deny(
        GateReasonCode.inputInvalid,
        `policy input is invalid: ${describeIssues(parsed.error)}`,
        0,
      );
    }
    const steps = 1 + (parsed.data.then?.length ?? 0);
    if (steps > this.planMaxSteps) {
      return this.deny(
        GateReasonCode.planUnsupported,
        `the plan has ${steps} steps, but this policy bundle decides plans of at most ${this.planMaxSteps} (data.suture.config.plan_max_steps)`,
        0,
      );
    }
    const started = performance.now();
    let raw: unknown;
    try {
      raw = this.policy.evaluate(parsed.data, DECISION_ENTRYPOINT);
    } catch (error) {
      return this.deny(
        GateReasonCode.evaluationError,
        `policy evaluation failed: ${(error as Error).message}`,
        elapsedUs(started),
      );
    }
    const evaluationUs = elapsedUs(started);
    if (evaluationUs > this.deadlineMs * 1000) {
      return this.deny(
        GateReasonCode.deadlineExceeded,
        `policy evaluation took ${evaluationUs} µs, over the ${this.deadlineMs} ms deadline`,
        evaluationUs,
      );
    }
    const results = Array.isArray(raw) ? raw : [];
    if (results.length !== 1 || (results[0] as { result?: unknown }).result === undefined) {
      return this.deny(GateReasonCode.undefinedResult, 'policy decision is undefined', evaluationUs);
    }
    const decision = PolicyDecisionSchema.safeParse((results[0] as { result: unknown }).result);
    if (!decision.success) {
      return this.deny(
        GateReasonCode.malformedResult,
        `policy decision is malformed: ${describeIssues(decision.error)}`,
        evaluationUs,
      );
    }
    return {
      ...decision.data,
      bundle_revision: this.revision,
      bundle_sha256: this.sha256,
      evaluation_us: evaluationUs,
    };
  }

  /**
   * The compiled policy's raw decision for any value, without the gate's input validation,
   * deadline or output checks; `undefined` when the policy defines no decision. For policy
   * testing (differential and property tests); callers that act use {@link decide}.
   */
  evaluatePolicy(input: unknown): unknown {
    const results: unknown = this.policy.evaluate(input, DECISION_ENTRYPOINT);
    return Array.isArray(results) && results.length === 1
      ? (results[0] as { result?: unknown }).result
      : undefined;
  }

  private deny(code: string, msg: string, evaluationUs: number): GateDecision {
    return denyDecision({ code, msg }, this.revision, this.sha256, evaluationUs);
  }
}

/** A deny that did not come from the policy (no usable bundle, bad input, …). */
export function denyDecision(
  reason: Reason,
  bundleRevision = 'unavailable',
  bundleSha256 = 'unavailable',
  evaluationUs = 0,
): GateDecision {
  return {
    allow: false,
    require_approval: false,
    mode: 'none',
    reasons: [reason],
    bundle_revision: bundleRevision,
    bundle_sha256: bundleSha256,
    evaluation_us: evaluationUs,
  };
}

async function readArchive(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new PolicyBundleError(`cannot read policy bundle ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function elapsedUs(started: number): number {
  return Math.round((performance.now() - started) * 1000);
}
