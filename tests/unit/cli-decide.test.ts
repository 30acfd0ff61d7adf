import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suture } from '../helpers/cli';
import { bundleFile, patched, transientRetryInput } from '../helpers/policy';

const dir = mkdtempSync(join(tmpdir(), 'suture-cli-'));

function inputFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('suture decide', () => {
  it('prints the decision and exits 0 for an allow', () => {
    // Act
    const { code, stdout } = suture([
      'decide',
      '--input',
      inputFile('allow.json', transientRetryInput()),
      '--bundle',
      bundleFile,
      '--allow-unsigned',
    ]);

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ allow: true, require_approval: false, mode: 'auto' });
  });

  it('exits 0 for a deny too (a decision was made), reading the input from stdin', () => {
    // Prepare
    const outOfScope = patched(transientRetryInput(), { incident: { pipeline: 'payments' } });

    // Act
    const { code, stdout } = suture(
      ['decide', '--input', '-', '--bundle', bundleFile, '--allow-unsigned'],
      JSON.stringify(outOfScope),
    );

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ allow: false, require_approval: false });
    expect(stdout).toContain('out_of_scope');
  });

  it.each([
    ['input that is not JSON', ['--input', 'NOT_JSON'], 'is not valid JSON'],
    ['an input missing its context', ['--input', 'NO_CONTEXT'], 'context: Invalid input: expected object'],
    ['a confidence above 1', ['--input', 'BAD_CONFIDENCE'], 'incident.confidence must be ≤ 1'],
    ['no --input at all', [], 'decide needs --input FILE'],
    ['an unknown option', ['--input', 'NO_CONTEXT', '--frobnicate'], "Unknown option '--frobnicate'"],
    [
      'a missing input file',
      ['--input', '/nonexistent/input.json'],
      'cannot read input /nonexistent/input.json: ENOENT',
    ],
    [
      'a missing public key file',
      ['--input', 'NO_CONTEXT_OK', '--public-key', '/nonexistent/key.pem'],
      'cannot read public key /nonexistent/key.pem: ENOENT',
    ],
  ])('exits 2 and says what is wrong for %s', (_name, args, message) => {
    // Prepare
    const files: Record<string, string> = {
      NOT_JSON: inputFile('not.json', '{"incident": '),
      NO_CONTEXT: inputFile('nocontext.json', { ...transientRetryInput(), context: undefined }),
      NO_CONTEXT_OK: inputFile('ok-for-key.json', transientRetryInput()),
      BAD_CONFIDENCE: inputFile(
        'conf.json',
        patched(transientRetryInput(), { incident: { confidence: 1.5 } }),
      ),
    };
    const resolved = args.map((arg) => files[arg] ?? arg);

    // Act
    const { code, stderr, stdout } = suture([
      'decide',
      ...resolved,
      '--bundle',
      bundleFile,
      '--allow-unsigned',
    ]);

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
  });

  it('exits 1 when the bundle is unsigned and unsigned bundles were not allowed', () => {
    // Act
    const { code, stderr } = suture([
      'decide',
      '--input',
      inputFile('ok.json', transientRetryInput()),
      '--bundle',
      bundleFile,
    ]);

    // Assess
    expect(code).toBe(1);
    expect(stderr).toContain('policy bundle refused: bundle is not signed');
  });

  it('exits 2 with the usage for an unknown command', () => {
    // Act
    const { code, stderr } = suture(['heal-everything']);

    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain('unknown command "heal-everything"');
    expect(stderr).toContain('usage: suture');
  });
});
