import fc from 'fast-check';
import type { GateDecision, PolicyGate } from '../../functions/commons/policy-gate';
import {
  malformedInputArbitrary,
  policyConfig,
  policyInputArbitrary,
  type PolicyInput,
} from '../helpers/arbitraries';
import { loadBuiltGate } from '../helpers/policy';

/** What must hold for every allowed proposal, whatever produced it. */
function assertAllowIsJustified(input: PolicyInput, decision: GateDecision): void {
  const { incident, proposal, context } = input;
  const action = policyConfig.actions[proposal.action];
  const klass = policyConfig.classes[incident.class];
  expect(action).toBeDefined();
  expect(klass?.actions).toContain(proposal.action);
  expect(policyConfig.pipelines[incident.account]?.[incident.region]?.[incident.pipeline]).toBeDefined();
  expect(decision.require_approval).toBe(false);
  for (const [name, value] of Object.entries(proposal.parameters)) {
    expect(Object.keys(action!.parameters)).toContain(name);
    if (name === 'pipeline' || name === 'stage') expect(value).toBe(incident[name]);
  }
  expect(context.pipeline_tags['suture:mode']).not.toBe('observe');
  if (action!.mutating) {
    expect(context.attempts.fingerprint_24h).toBeLessThan(klass!.budget.fingerprint_24h!);
    expect(context.attempts.pipeline_1h).toBeLessThan(klass!.budget.pipeline_1h!);
    const approved =
      context.approval?.approved === true &&
      context.approval.approver !== '' &&
      context.approval.action === proposal.action;
    expect(decision.mode === 'auto' || approved).toBe(true);
  }
}

describe('policy properties (fast-check over the real wasm)', () => {
  let gate: PolicyGate;

  beforeAll(async () => {
    gate = await loadBuiltGate();
  });

  it('allows only what the class allow-list, scope, budgets and mode (or an approval) permit', () => {
    let allowed = 0;
    fc.assert(
      fc.property(policyInputArbitrary, (input) => {
        const decision = gate.decide(input);
        expect(decision.allow && decision.require_approval).toBe(false);
        if (decision.allow) {
          allowed += 1;
          assertAllowIsJustified(input, decision);
        }
      }),
      { numRuns: 4000 },
    );
    // The generator must reach the allow path often enough for the property to mean something.
    expect(allowed).toBeGreaterThan(100);
  });

  it('never allows a malformed input, through the gate or through the compiled policy alone', () => {
    fc.assert(
      fc.property(malformedInputArbitrary, (input) => {
        expect(gate.decide(input).allow).toBe(false);
        const raw = gate.evaluatePolicy(input) as { allow?: unknown } | undefined;
        expect(raw?.allow).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('never allows arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(gate.decide(value).allow).toBe(false);
        const raw = gate.evaluatePolicy(value) as { allow?: unknown } | undefined;
        expect(raw?.allow).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});
