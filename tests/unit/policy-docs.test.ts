import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../cli/paths';
import { GateReasonCode } from '../../functions/commons/policy-gate';

const root = repoRoot();

describe('docs/policy.md', () => {
  it('documents every reason code the policy and the gate can return', () => {
    // Prepare
    const rego = readFileSync(join(root, 'policies', 'suture', 'remediation', 'decision.rego'), 'utf8');
    const guide = readFileSync(join(root, 'docs', 'policy.md'), 'utf8');
    const policyCodes = [...rego.matchAll(/^#\s+code:\s*(\S+)\s*$/gm)].map((match) => match[1]!);

    // Act
    const undocumented = [...policyCodes, ...Object.values(GateReasonCode)].filter(
      (code) => !guide.includes(`\`${code}\``),
    );

    // Assess
    expect(policyCodes.length).toBeGreaterThan(20);
    expect(undocumented).toEqual([]);
  });
});
