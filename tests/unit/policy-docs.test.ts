import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../cli/paths';
import { GateReasonCode } from '../../functions/commons/policy-gate';

const root = repoRoot();

describe('docs/policy.md', () => {
  it('documents every reason code the policy and the gate can return', () => {
    // Prepare
    const dir = join(root, 'policies', 'suture', 'remediation');
    const rego = readdirSync(dir)
      .filter((name) => name.endsWith('.rego') && !name.endsWith('_test.rego'))
      .map((name) => readFileSync(join(dir, name), 'utf8'))
      .join('\n');
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
