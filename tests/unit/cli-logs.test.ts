import { suture } from '../helpers/cli';

describe('suture redact / excerpt / classify', () => {
  it('redact removes a secret from stdin and keeps the commit SHA beside it', () => {
    // Prepare
    const secret = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';
    const log = `pushing with ${secret}\ncommit 0123456789abcdef0123456789abcdef01234567\n`;

    // Act
    const { code, stdout } = suture(['redact'], log);

    // Assess
    expect(code).toBe(0);
    expect(stdout).not.toContain(secret);
    expect(stdout).toContain('[REDACTED:');
    expect(stdout).toContain('0123456789abcdef0123456789abcdef01234567');
  });

  it('excerpt keeps the failing lines of a long log and leaves out the noise', () => {
    // Prepare
    const noise = Array.from({ length: 500 }, (_, i) => `step ${i} ok`).join('\n');
    const log = `${noise}\nerror: could not compile \`suture\`\n${noise}\n`;

    // Act
    const { code, stdout } = suture(['excerpt', '--tail-lines', '2', '--context-before', '1'], log);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('error: could not compile');
    expect(stdout).not.toContain('step 250 ok');
    expect(stdout).toContain('lines 1–499 omitted');
    expect(stdout.length).toBeLessThan(4096);
  });

  it('excerpt exits 2 and names the flag for a bad number', () => {
    // Act
    const { code, stderr } = suture(['excerpt', '--max-bytes', 'lots'], '');

    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain('--max-bytes must be a whole number');
  });

  it('classify answers every line and exits 2 when one was unusable', () => {
    // Act
    const { code, stdout } = suture(['classify'], '{"id":"a","log":"npm ERR! code E404"}\n{"id":"b"}\n');

    // Assess
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(code).toBe(2);
    expect(lines[0]).toMatchObject({ id: 'a', class: 'dependency_resolution' });
    expect(lines[1]).toMatchObject({ id: 'b' });
    expect(lines[1]!.error).toEqual(expect.stringContaining('line 2'));
  });
});
