import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GateInputSchema, type PolicyGate } from '../../functions/commons/policy-gate';
import { codesOf, loadBuiltGate } from '../helpers/policy';

interface PolicyCase {
  name: string;
  input: unknown;
  expect: { allow: boolean; require_approval: boolean; codes: string[] };
}

const cases = JSON.parse(
  readFileSync(join(__dirname, '..', 'fixtures', 'policy-cases.json'), 'utf8'),
) as PolicyCase[];

describe('shared policy fixtures decided by the compiled wasm', () => {
  let gate: PolicyGate;

  beforeAll(async () => {
    gate = await loadBuiltGate();
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, policyCase) => {
    // Act
    const raw = gate.evaluatePolicy(policyCase.input) as {
      allow: boolean;
      require_approval: boolean;
      reasons: { code: string }[];
    };
    const gated = gate.decide(policyCase.input);

    // Assess: the policy itself decides as expected ...
    expect({ allow: raw.allow, require_approval: raw.require_approval, codes: codesOf(raw) }).toEqual(
      policyCase.expect,
    );
    // ... and the gate either passes that decision through or, for input it cannot validate, denies earlier.
    if (GateInputSchema.safeParse(policyCase.input).success) {
      expect({ allow: gated.allow, require_approval: gated.require_approval, codes: codesOf(gated) }).toEqual(
        policyCase.expect,
      );
    } else {
      expect(policyCase.expect.allow).toBe(false);
      expect(codesOf(gated)).toEqual(['gate_input_invalid']);
    }
  });
});
