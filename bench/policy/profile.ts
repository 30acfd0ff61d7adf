/**
 * Where the in-process policy time goes, case by case, and what a policy change costs.
 *
 * Builds a wasm bundle from each policy directory given (the repository's by default; give
 * `--policies DIR` more than once to compare a candidate with it), then evaluates every
 * benchmark case straight on opa-wasm (no zod, no gate checks), interleaving cases and
 * bundles so that a noisy machine slows every variant alike. Prints, per case, the outcome,
 * the p50 evaluation time under each bundle and how many host builtin calls (each one a JSON
 * round trip between wasm and JavaScript) one evaluation makes; then p10/p50/p90/p99 over all
 * cases per bundle.
 *
 * Usage: npx tsx bench/policy/profile.ts [--policies DIR]… [--rounds N]
 *
 * For policy authors tuning rules. `npm run bench:policy` is the benchmark of record.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildPolicyBundle, defaultBundlePaths } from '../../cli/policy/build';
import { PolicyGate } from '../../functions/commons/policy-gate/gate';
import { wasmBuiltins } from '../../functions/commons/policy-gate/builtins';
import { benchCases, outcomeOf } from './cases';

// opa-wasm dispatches SDK builtins (sprintf, …) through this shared object; wrapping its
// functions counts their calls without changing what they return. The package does not
// export that path, so it is required by file name.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sdkBuiltins = require(
  join(dirname(require.resolve('@open-policy-agent/opa-wasm')), 'builtins', 'index.js'),
) as Record<string, (...args: unknown[]) => unknown>;

const calls = new Map<string, number>();
function counted(name: string, impl: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  return (...args) => {
    calls.set(name, (calls.get(name) ?? 0) + 1);
    return impl(...args);
  };
}
for (const [name, impl] of Object.entries(sdkBuiltins)) sdkBuiltins[name] = counted(name, impl);
const hostBuiltins = wasmBuiltins as unknown as Record<string, (...args: unknown[]) => unknown>;
for (const [name, impl] of Object.entries(hostBuiltins)) hostBuiltins[name] = counted(name, impl);

const USAGE = 'usage: tsx bench/policy/profile.ts [--policies DIR]… [--rounds N]';

function parse(argv: readonly string[]): { policies: string[]; rounds: number } {
  const policies: string[] = [];
  let rounds = 500;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--policies' && argv[i + 1]) policies.push(resolve(argv[++i]!));
    else if (arg === '--rounds') rounds = Number(argv[++i]);
    else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  if (!Number.isInteger(rounds) || rounds < 10) throw new Error(`--rounds needs an integer ≥ 10\n${USAGE}`);
  return { policies: policies.length > 0 ? policies : [defaultBundlePaths().policyDir], rounds };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function table(header: string[], rows: string[][], numericFrom: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string =>
    r.map((cell, i) => (i >= numericFrom ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const { policies, rounds } = parse(process.argv.slice(2));
  const work = mkdtempSync(join(os.tmpdir(), 'suture-policy-profile-'));
  try {
    const gates: PolicyGate[] = [];
    for (const [i, dir] of policies.entries()) {
      const built = buildPolicyBundle({ policyDir: dir, outFile: join(work, `bundle-${i}.tar.gz`) });
      gates.push(await PolicyGate.load({ bundle: built.file, verification: { allowUnsigned: true } }));
    }
    const cases = benchCases();
    const labels = policies.map((dir, i) => `#${i + 1} ${basename(dir)}`);

    // Outcomes and builtin calls of one evaluation, per bundle.
    const described = cases.map((c) =>
      gates.map((gate) => {
        calls.clear();
        const decision = gate.evaluatePolicy(c.input) as { allow: boolean; require_approval: boolean };
        return {
          outcome: outcomeOf(decision),
          builtins: [...calls].map(([name, n]) => `${name}×${n}`).join(' ') || '-',
        };
      }),
    );

    // Warm every case first (the JIT tiers up), then interleave cases and bundles.
    const warmup = Math.min(200, rounds);
    const samples = cases.map(() => gates.map(() => new Float64Array(rounds)));
    for (let round = -warmup; round < rounds; round++) {
      for (const [ci, c] of cases.entries()) {
        for (const [gi, gate] of gates.entries()) {
          const started = performance.now();
          gate.evaluatePolicy(c.input);
          if (round >= 0) samples[ci]![gi]![round] = (performance.now() - started) * 1000;
        }
      }
    }

    const perCase = cases.map((c, ci) => [
      c.name,
      described[ci]!.map((d) => d.outcome).join('/'),
      described[ci]![gates.length - 1]!.builtins,
      ...gates.map((_, gi) => percentile(Float64Array.from(samples[ci]![gi]!).sort(), 0.5).toFixed(1)),
    ]);
    console.log(
      `${rounds} evaluations per case and bundle, interleaved; p50 in µs (opa-wasm evaluate only)\n`,
    );
    console.log(
      table(
        [
          'case',
          'outcome',
          `host builtin calls (${labels[labels.length - 1]})`,
          ...labels.map((l) => `p50 ${l}`),
        ],
        perCase,
        3,
      ),
    );
    const summary = gates.map((_, gi) => {
      const all = Float64Array.from(samples.flatMap((s) => [...s[gi]!])).sort();
      return [
        `${labels[gi]} ${policies[gi]}`,
        ...[0.1, 0.5, 0.9, 0.99].map((p) => percentile(all, p).toFixed(1)),
      ];
    });
    console.log(`\nall cases\n${table(['bundle', 'p10 µs', 'p50 µs', 'p90 µs', 'p99 µs'], summary, 1)}`);
    const cpus = os.cpus();
    console.log(
      `\nnode ${process.version}, ${cpus[0]?.model.trim() ?? 'cpu'} × ${cpus.length}, load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`[bench:policy:profile] ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
