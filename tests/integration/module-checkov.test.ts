import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../cli/paths';
import { synthesizeModule } from '../../modules/module-synth';

const root = repoRoot();
const checkov = join(root, '.venv-checkov', 'bin', 'checkov');

interface Finding {
  readonly check_id: string;
  readonly resource: string;
}

/**
 * The checks docs/module.md documents as skipped (each with its reason, in its table); the
 * KMS key policy ones apply to that document only.
 */
function documentedSkips(): string[] {
  const section =
    readFileSync(join(root, 'docs', 'module.md'), 'utf8').split('## Checks of our own infrastructure')[1] ??
    '';
  return [...new Set([...section.matchAll(/`(CKV2?_AWS_\d+)`/g)].map((match) => match[1]!))].sort();
}
const KEY_POLICY_CHECKS = ['CKV_AWS_109', 'CKV_AWS_111', 'CKV_AWS_356'];

// checkov comes from requirements-checkov.txt; `make` installs it into .venv-checkov. Without it
// this suite fails instead of skipping: an unscanned module must not pass as a scanned one.
describe('checkov over the synthesised module', () => {
  let dir: string;
  let failed: Finding[];

  beforeAll(() => {
    if (!existsSync(checkov))
      throw new Error(`${checkov} is missing: run 'make test' to create .venv-checkov`);
    dir = mkdtempSync(join(tmpdir(), 'checkov-'));
    const module = synthesizeModule(join(dir, 'module'));
    // versions.tf.json is left out: checkov's JSON parser rejects required_version (and holds no resources).
    const files = ['main.tf.json', 'variables.tf.json', 'outputs.tf.json'].flatMap((file) => [
      '--file',
      join(module.dir, file),
    ]);
    const run = spawnSync(
      checkov,
      [...files, '--framework', 'terraform_json', '--skip-download', '--quiet', '--compact', '-o', 'json'],
      {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, BC_SKIP_MAPPING: 'TRUE' },
      },
    );
    const report = JSON.parse(run.stdout) as {
      results?: { failed_checks: Finding[] };
      summary?: { parsing_errors: number };
    };
    expect(report.summary?.parsing_errors ?? 0).toBe(0);
    failed = report.results?.failed_checks ?? [];
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails no check except the documented skips', () => {
    const skips = documentedSkips();
    expect(skips.length).toBeGreaterThan(0);
    expect(
      [...new Set(failed.map((finding) => finding.check_id))].filter((id) => !skips.includes(id)),
    ).toEqual([]);
  });

  it('needs every documented skip (none is stale)', () => {
    const failing = new Set(failed.map((finding) => finding.check_id));
    expect(documentedSkips().filter((id) => !failing.has(id))).toEqual([]);
  });

  it('skips the key-policy checks for the KMS key policies only', () => {
    const where = failed
      .filter((finding) => KEY_POLICY_CHECKS.includes(finding.check_id))
      .map((finding) => finding.resource);
    expect(where.length).toBeGreaterThan(0);
    // The encryption key's and the audit digest signing key's.
    expect(where.every((resource) => /suture_(encryption|audit-digest)_policy_/.test(resource))).toBe(true);
  });
});
