import { defaultBundlePaths } from '../../cli/policy/build';
import { PolicyGate } from '../../functions/commons/policy-gate';

/** The bundle jest's global setup built from policies/. */
export const bundleFile = defaultBundlePaths().bundleFile;

/** Loads the real built bundle (unsigned in tests, so explicitly allowed). */
export function loadBuiltGate(): Promise<PolicyGate> {
  // Tests of what the policy decides must not depend on how busy the machine is: the 100 ms
  // deadline, a deny of its own, is tested on its own (policy-gate.test.ts).
  return PolicyGate.load({ bundle: bundleFile, verification: { allowUnsigned: true }, deadlineMs: 10_000 });
}

/** Deep-merges `patch` into a copy of `base`; `undefined` in the patch deletes a key. */
export function patched<T>(base: T, patch: Record<string, unknown>): T {
  const copy = structuredClone(base) as Record<string, unknown>;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete copy[key];
    else if (isPlainObject(value) && isPlainObject(copy[key])) copy[key] = patched(copy[key], value);
    else copy[key] = value;
  }
  return copy as T;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A retry of a transient network failure in myPipeline/Deploy: allowed by the default data. */
export function transientRetryInput() {
  return {
    incident: {
      id: 'inc-0001',
      pipeline: 'myPipeline',
      stage: 'Deploy',
      action: 'Deploy',
      execution_id: '12345678-1234-5678-abcd-12345678abcd',
      account: '123456789012',
      region: 'us-west-2',
      class: 'transient_network',
      confidence: 0.93,
      fingerprint: 'fp-7f3a',
    },
    proposal: {
      action: 'retry_stage',
      parameters: {
        pipeline: 'myPipeline',
        stage: 'Deploy',
        execution_id: '12345678-1234-5678-abcd-12345678abcd',
        retry_mode: 'FAILED_ACTIONS',
      },
      source: 'playbook',
      rationale: 'connection reset while fetching the artifact',
      confidence: 0.9,
    },
    context: {
      now: '2026-11-23T10:00:00Z',
      attempts: { fingerprint_24h: 0, pipeline_1h: 0 },
      recent_failed_validations: 0,
      stage_protected: false,
      rollback_target_succeeded: false,
      pipeline_tags: {} as Record<string, string>,
    },
  };
}

/** Reason codes of a decision, sorted. */
export function codesOf(decision: { reasons: readonly { code: string }[] }): string[] {
  return [...new Set(decision.reasons.map((reason) => reason.code))].sort();
}
