import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import type { AuditRecord } from '../../functions/commons/audit';
import type { AuditDigest } from '../../functions/commons/audit/digest';
import type { UnusedGrant } from '../../local/iam/replay';
import type { Scenario } from '../../local/simulate/scenario';
import { loadLocalLoop } from '../development';
import { UsageError } from '../errors';
import { repoRoot } from '../paths';

function scenarioFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const path of paths) {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      throw new UsageError(`scenario ${path} does not exist`);
    }
    if (stat.isDirectory()) {
      files.push(
        ...readdirSync(path)
          .filter((name) => /\.(ya?ml|json)$/.test(name))
          .sort()
          .map((name) => join(path, name)),
      );
    } else files.push(path);
  }
  if (files.length === 0) throw new UsageError('no scenario files given (.yaml, .yml or .json)');
  return files;
}

/** `--faults RATE [--seed N] [--runs K]` as simulation options (undefined without `--faults`). */
export function faultOptions(
  rate: string | undefined,
  seed: string | undefined,
  runs: string | undefined,
): { rate: number; seeds: number[] } | undefined {
  if (rate === undefined) {
    if (seed !== undefined || runs !== undefined)
      throw new UsageError('--seed and --runs only apply with --faults RATE');
    return undefined;
  }
  const parsedRate = Number(rate);
  if (rate.trim() === '' || !Number.isFinite(parsedRate) || parsedRate < 0 || parsedRate > 1)
    throw new UsageError(`--faults takes a probability per call from 0 to 1, got "${rate}"`);
  const integer = (text: string | undefined, name: string, fallback: number, min: number) => {
    if (text === undefined) return fallback;
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < min)
      throw new UsageError(`${name} takes a whole number ≥ ${min}, got "${text}"`);
    return Number(text);
  };
  const first = integer(seed, '--seed', 1, 0);
  const count = integer(runs, '--runs', 1, 1);
  if (count > 1000) throw new UsageError(`--runs is at most 1000, got ${count}`);
  return { rate: parsedRate, seeds: Array.from({ length: count }, (_, i) => first + i) };
}

/**
 * `<scenario>.audit.jsonl` for a scenario file, or `<scenario>-2.audit.jsonl`, `-3`, … when an
 * earlier trail of this run took that name (the same scenario given twice, or two files of one
 * name in different directories), so no trail overwrites another.
 */
export function auditFileName(file: string, taken: Set<string>): string {
  const stem = basename(file).replace(/\.(ya?ml|json)$/, '');
  let name = `${stem}.audit.jsonl`;
  for (let n = 2; taken.has(name); n += 1) name = `${stem}-${n}.audit.jsonl`;
  taken.add(name);
  return name;
}

/**
 * `suture simulate [SCENARIO|DIR …] [--json] [--report FILE.html] [--audit-out DIR] [--grants-out FILE]`:
 * runs scenarios through the whole loop on this machine, each on the module synthesised from
 * this checkout (or `--module DIR`): its workflow, event patterns, function environments, and
 * IAM, which every AWS call is replayed against. The text report ends with the grants no call
 * used, per function; `--grants-out` writes them as JSON.
 * `--audit-out` writes each scenario's audit trail as `<scenario>.audit.jsonl` (see
 * {@link auditFileName}) and, when the incident was sealed, its newest signed digest as
 * `<scenario>.digest.json`; `suture replay` and `suture audit verify [--digest]` read them. Exit 0 when every expectation holds, 1
 * otherwise, 2 on an unusable scenario.
 *
 * `--faults RATE [--seed N] [--runs K]` injects faults (throttling, 5xx, resets, timeouts, lost
 * responses, dying invocations, late duplicates) with probability RATE per call, deterministically
 * for each of the K seeds N, N+1, …, and checks the loop's invariants on every run instead of
 * the scenarios' expectations (docs/simulate.md). The figures end the report (`--json`: the
 * `faults` member); exit 1 on any broken invariant, each printed with the seed that reproduces it.
 */
export async function simulateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      report: { type: 'string' },
      module: { type: 'string' },
      'audit-out': { type: 'string' },
      'grants-out': { type: 'string' },
      faults: { type: 'string' },
      seed: { type: 'string' },
      runs: { type: 'string' },
    },
  });
  const faults = faultOptions(values.faults, values.seed, values.runs);
  const {
    faultFigures,
    faultReport,
    htmlReport,
    loadScenario,
    moduleSimulation,
    ScenarioError,
    simulateScenarios,
    textReport,
    unusedGrantsReport,
  } = await loadLocalLoop('suture simulate');
  const files = scenarioFiles(positionals.length ? positionals : [join(repoRoot(), 'scenarios')]);
  const scenarios: { file: string; scenario: Scenario }[] = [];
  for (const file of files) {
    try {
      scenarios.push({ file: relative(process.cwd(), file) || file, scenario: loadScenario(file) });
    } catch (error) {
      if (error instanceof ScenarioError) throw new UsageError(error.message);
      throw error;
    }
  }

  const progress = values.json ? undefined : (line: string) => process.stderr.write(`${line}\n`);
  const auditOut = values['audit-out'];
  if (auditOut) mkdirSync(auditOut, { recursive: true });
  const written = new Set<string>();
  const simulation = moduleSimulation(scenarios, {
    ...(values.module ? { moduleDir: values.module } : {}),
    ...(progress ? { progress } : {}),
  });
  let unused: readonly UnusedGrant[] = [];
  try {
    const results = await simulateScenarios(scenarios, {
      onUnusedGrants: (grants) => {
        unused = grants;
      },
      moduleDir: simulation.moduleDir,
      variables: simulation.variables,
      matches: simulation.matches,
      ...(faults ? { faults } : {}),
      ...(progress ? { progress } : {}),
      ...(auditOut
        ? {
            onAuditTrail: (
              file: string,
              records: readonly AuditRecord[],
              digests: readonly AuditDigest[],
            ) => {
              const name = auditFileName(file, written);
              writeFileSync(
                join(auditOut, name),
                records.map((record) => JSON.stringify(record)).join('\n') + '\n',
              );
              // The newest digest (the highest record count): `suture audit verify --digest` reads it.
              const newest = digests.at(-1);
              if (newest)
                writeFileSync(
                  join(auditOut, name.replace(/\.audit\.jsonl$/, '.digest.json')),
                  JSON.stringify(newest, null, 2) + '\n',
                );
            },
          }
        : {}),
    });
    if (values.report) writeFileSync(values.report, htmlReport(results));
    const figures = faults
      ? faultFigures(results, {
          ...faults,
          // The whole run again: the same scenarios in the same order, from the same first seed.
          command: [
            'suture simulate',
            ...files,
            '--faults',
            String(faults.rate),
            '--seed',
            String(faults.seeds[0]),
            '--runs',
            String(faults.seeds.length),
          ].join(' '),
        })
      : undefined;
    process.stdout.write(
      values.json
        ? `${JSON.stringify(figures ? { faults: figures, results } : results, null, 2)}\n`
        : textReport(results),
    );
    if (!values.json) process.stdout.write(unusedGrantsReport(unused));
    if (figures && !values.json) process.stdout.write(faultReport(figures));
    if (values['grants-out'])
      writeFileSync(values['grants-out'], `${JSON.stringify({ unused_grants: unused }, null, 2)}\n`);
    if (values.report && !values.json) process.stdout.write(`report: ${values.report}\n`);
    return results.every((r) => r.passed) ? 0 : 1;
  } finally {
    simulation.dispose();
  }
}
