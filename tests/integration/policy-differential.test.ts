import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { buildPolicyBundle, computeRevision, defaultBundlePaths, opaCommand } from '../../cli/policy/build';
import { readTarGz } from '../../functions/commons/policy-gate/bundle';
import type { PolicyGate } from '../../functions/commons/policy-gate';
import { malformedInputArbitrary, planInputArbitrary, policyInputArbitrary } from '../helpers/arbitraries';
import { loadBuiltGate, transientRetryInput } from '../helpers/policy';

const run = promisify(execFile);

interface PolicyCase {
  name: string;
  input: unknown;
}

const fixtureFile = join(__dirname, '..', 'fixtures', 'policy-cases.json');

/** The shared fixtures plus seeded samples of well-formed and malformed inputs. */
function differentialInputs(): { name: string; input: unknown }[] {
  const fixtures: PolicyCase[] = existsSync(fixtureFile)
    ? (JSON.parse(readFileSync(fixtureFile, 'utf8')) as PolicyCase[])
    : [];
  const wellFormed = fc.sample(policyInputArbitrary, { seed: 20261123, numRuns: 400 });
  const malformed = fc.sample(malformedInputArbitrary, { seed: 1123, numRuns: 100 });
  const plans = fc.sample(planInputArbitrary, { seed: 20261204, numRuns: 150 });
  return [
    ...fixtures.map((c) => ({ name: `fixture ${c.name}`, input: c.input })),
    ...wellFormed.map((input, i) => ({ name: `sample ${i}`, input })),
    ...malformed.map((input, i) => ({ name: `malformed ${i}`, input })),
    ...plans.map((input, i) => ({ name: `plan ${i}`, input })),
  ];
}

/** JSON with object keys sorted, so documents compare by content whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

describe('compiled wasm policy vs opa eval on the Rego source', () => {
  let gate: PolicyGate;

  beforeAll(async () => {
    gate = await loadBuiltGate();
  });

  it('decides every shared fixture and sampled input identically, reasons and messages included', async () => {
    // Prepare: one opa process evaluates all inputs, keyed by index so an undefined decision shows as a gap.
    const cases = differentialInputs();
    expect(cases.length).toBeGreaterThanOrEqual(500);
    const dir = await mkdtemp(join(tmpdir(), 'suture-differential-'));
    const inputFile = join(dir, 'inputs.json');
    await writeFile(inputFile, JSON.stringify(cases.map((c) => c.input)));

    // Act
    const { stdout } = await run(
      opaCommand(),
      [
        'eval',
        '--format',
        'json',
        '-d',
        defaultBundlePaths().policyDir,
        '-i',
        inputFile,
        '{k: d | some i, x in input; k := sprintf("%d", [i]); d := data.suture.remediation.decision with input as x}',
      ],
      { maxBuffer: 256 * 1024 * 1024 },
    );
    const byIndex = (
      JSON.parse(stdout) as { result: { expressions: { value: Record<string, unknown> }[] }[] }
    ).result[0]!.expressions[0]!.value;

    // Assess
    const mismatches = cases.flatMap((c, i) => {
      const wasm = gate.evaluatePolicy(c.input);
      const rego = byIndex[String(i)];
      return canonical(wasm) === canonical(rego) ? [] : [{ name: c.name, input: c.input, wasm, rego }];
    });
    expect(mismatches.slice(0, 3)).toEqual([]);
  });

  it('a Rego bundle of the same sources (for OPA server comparisons) has the same revision, data and decisions', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'suture-rego-bundle-'));
    const { policyDir } = defaultBundlePaths();
    const input = transientRetryInput();
    await writeFile(join(dir, 'input.json'), JSON.stringify(input));

    // Act
    const built = buildPolicyBundle({ policyDir, outFile: join(dir, 'rego.tar.gz'), target: 'rego' });
    const { stdout } = await run(opaCommand(), [
      'eval',
      '--format',
      'json',
      '-b',
      built.file,
      '-i',
      join(dir, 'input.json'),
      'data.suture.remediation.decision',
    ]);

    // Assess: the manifest's roots only (policies/ also holds checks of Suture's own infrastructure).
    const files = readTarGz(readFileSync(built.file));
    expect(built.revision).toBe(computeRevision(policyDir));
    // Every source of the remediation package, no test file, nothing from the infra checks.
    const sources = readdirSync(join(policyDir, 'suture', 'remediation'))
      .filter((name) => name.endsWith('.rego') && !name.endsWith('_test.rego'))
      .map((name) => `suture/remediation/${name}`)
      .sort();
    expect(sources).toContain('suture/remediation/decision.rego');
    expect([...files.keys()].filter((name) => name.endsWith('.rego')).sort()).toEqual(sources);
    expect(files.has('policy.wasm')).toBe(false);
    const decision = (JSON.parse(stdout) as { result: { expressions: { value: unknown }[] }[] }).result[0]!
      .expressions[0]!.value;
    expect(canonical(decision)).toBe(canonical(gate.evaluatePolicy(input)));
  });
});
