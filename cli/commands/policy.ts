import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildPolicyBundle, defaultBundlePaths, opaCommand } from '../policy/build';
import { UsageError } from '../errors';
import { repoRoot } from '../paths';

/** `suture policy build`: compiles the bundle to WebAssembly, optionally signed. */
export async function policyBuild(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'policy-dir': { type: 'string' },
      out: { type: 'string' },
      'signing-key': { type: 'string' },
      'signing-alg': { type: 'string' },
      'key-id': { type: 'string' },
    },
    strict: true,
  });
  const defaults = defaultBundlePaths();
  const built = await buildPolicyBundle({
    policyDir: values['policy-dir'] ?? defaults.policyDir,
    outFile: values.out ?? defaults.bundleFile,
    ...(values['signing-key'] ? { signingKey: values['signing-key'] } : {}),
    ...(values['signing-alg'] ? { signingAlg: values['signing-alg'] } : {}),
    ...(values['key-id'] ? { keyId: values['key-id'] } : {}),
  });
  process.stdout.write(`${JSON.stringify(built, null, 2)}\n`);
  return 0;
}

interface Step {
  readonly name: string;
  readonly command: string;
  readonly args: string[];
  /** Exit code that means "tool not installed": reported, not failed. */
  readonly unavailableCode?: number;
}

/**
 * `suture policy test`: the policy CI. Formatting, strict compilation, Regal lint (when
 * Regal is installed), and the Rego unit tests with a line-coverage floor.
 */
export async function policyTest(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { 'policy-dir': { type: 'string' }, 'coverage-min': { type: 'string' } },
    strict: true,
  });
  const root = repoRoot();
  const policyDir = values['policy-dir'] ?? join(root, 'policies');
  const coverageMin = Number(values['coverage-min'] ?? '95');
  if (!Number.isFinite(coverageMin) || coverageMin < 0 || coverageMin > 100) {
    throw new UsageError(`--coverage-min must be a number from 0 to 100, got ${values['coverage-min']}`);
  }
  const opa = opaCommand(root);
  const steps: Step[] = [
    { name: 'opa fmt --fail', command: opa, args: ['fmt', '--list', '--fail', policyDir] },
    { name: 'opa check --strict', command: opa, args: ['check', '--strict', policyDir] },
    {
      name: 'regal lint',
      command: join(root, 'scripts', 'regal'),
      args: ['lint', policyDir],
      unavailableCode: 3,
    },
    {
      name: 'opa test',
      command: opa,
      args: ['test', '--fail-on-empty', '--timeout', '60s', '--explain', 'fails', policyDir],
    },
  ];
  let failed = false;
  for (const step of steps) {
    const result = spawnSync(step.command, step.args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (step.unavailableCode !== undefined && result.status === step.unavailableCode) {
      process.stdout.write(`- ${step.name}: not run (${result.stderr.trim()})\n`);
      continue;
    }
    const ok = result.status === 0;
    failed ||= !ok;
    const detail = `${result.stdout}${result.stderr}`.trim();
    process.stdout.write(`${ok ? '✓' : '✗'} ${step.name}${ok ? '' : ` (exit ${result.status})`}\n`);
    if (detail && (!ok || step.name === 'opa test'))
      process.stdout.write(`${indent(lastLines(detail, ok ? 2 : 60))}\n`);
  }

  const coverage = spawnSync(opa, ['test', '--coverage', '--timeout', '60s', '--format', 'json', policyDir], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  let percent: number;
  try {
    percent = (JSON.parse(coverage.stdout) as { coverage: number }).coverage;
  } catch {
    process.stdout.write(`✗ coverage: opa test --coverage printed no report (exit ${coverage.status})\n`);
    return 1;
  }
  const coverageOk = percent >= coverageMin;
  failed ||= !coverageOk;
  process.stdout.write(
    `${coverageOk ? '✓' : '✗'} coverage ${percent.toFixed(2)} % (minimum ${coverageMin} %)\n`,
  );
  return failed ? 1 : 0;
}

function lastLines(text: string, count: number): string {
  return text.split('\n').slice(-count).join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
