import { z } from 'zod';
import { describeIssues } from '../../functions/commons/zod';

describe('describeIssues', () => {
  it('names every wrong field on one line, nested paths joined with dots', () => {
    // Prepare
    const schema = z.object({ detail: z.object({ 'execution-id': z.string() }), version: z.number() });
    const parsed = schema.safeParse({ detail: { 'execution-id': 7 } });

    // Act
    const message = describeIssues(parsed.error!);

    // Assess
    expect(message).toBe(
      'detail.execution-id: Invalid input: expected string, received number; ' +
        'version: Invalid input: expected number, received undefined',
    );
  });

  it('keeps a message that already names its field, and a root-level message as it is', () => {
    // Prepare
    const named = z.object({ SUTURE_X: z.string({ error: 'SUTURE_X must be a string' }) });
    const root = z.string({ error: 'the input must be a string' });

    // Act
    const namedMessage = describeIssues(named.safeParse({ SUTURE_X: 1 }).error!);
    const rootMessage = describeIssues(root.safeParse(1).error!);

    // Assess
    expect(namedMessage).toBe('SUTURE_X must be a string');
    expect(rootMessage).toBe('the input must be a string');
  });
});
