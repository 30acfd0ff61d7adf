import { auditFileName } from '../../cli/commands/simulate';

describe('auditFileName (suture simulate --audit-out)', () => {
  it('gives every scenario of a run its own trail file, in run order', () => {
    // Prepare
    const taken = new Set<string>();

    // Act
    const names = ['a/deploy.yaml', 'b/deploy.yml', 'deploy-2.json', 'a/deploy.yaml', 'other.yaml'].map(
      (file) => auditFileName(file, taken),
    );

    // Assess
    expect(names).toEqual([
      'deploy.audit.jsonl',
      'deploy-2.audit.jsonl',
      'deploy-2-2.audit.jsonl',
      'deploy-3.audit.jsonl',
      'other.audit.jsonl',
    ]);
  });
});
