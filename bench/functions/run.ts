/**
 * Function bundles: size and cold init.
 *
 * Builds every Lambda function of the loop exactly as the module does (`bundleFunctions`:
 * esbuild, minified, CommonJS for the functions' Node.js 24 runtime, deterministic zip; the functions that evaluate policy
 * ship the policy bundle compiled the way the module compiles it), into a temp directory so the
 * module's cache is neither used nor touched. For each function it reports the zip size, the
 * unzipped `index.js` size, and the time of `require('index.js')` in N fresh `node` processes
 * (`performance.now()` around the `require`, nothing else in the process beforehand), and the
 * CPU time the process spent in it (`process.cpuUsage()`, all threads: less moved by other load
 * on the machine than the wall time, but it counts V8's background compile threads too).
 * Target: cold init (median) ≤ 120 ms per function.
 *
 * `--compare-node PATH` also times each `require` with another Node binary (e.g. the previous
 * runtime's), alternating the two process by process so that the shared machine's load hits both
 * alike, and adds its median and the ratio to the table; the verdicts stay this Node's.
 *
 *   npx tsx bench/functions/run.ts [--runs N] [--compare-node PATH]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildPolicyBundle, defaultBundlePaths } from '../../cli/policy/build';
import { bundleFunctions } from '../../modules/functions/bundle';
import { LOOP_FUNCTION_NAMES, LOOP_FUNCTIONS } from '../../modules/functions/catalog';
import { manifestRootsOnly } from '../../modules/policy-bundle';
import { machine, quantile, table } from '../common';

const TARGET_MS = 120;
const MARKER = '__bench_require_ms__';

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

function option(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  if (index < 0) return undefined;
  const value = process.argv[index + 1];
  if (!value || value.startsWith('--')) throw new Error(`${name} needs a value`);
  return value;
}

/** The version a Node binary reports, e.g. `v24.22.3`. */
function nodeVersion(node: string): string {
  const run = spawnSync(node, ['--version'], { encoding: 'utf8' });
  if (run.status !== 0)
    throw new Error(`--compare-node ${node} does not run: ${run.error?.message ?? run.stderr}`);
  return run.stdout.trim();
}

/** One cold `require`: its wall time, and the CPU time (all threads) the process spent in it. */
interface RequireTime {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** Runs `require(file)` in a fresh `node` process and returns the time the require took. */
function coldRequire(node: string, file: string, env: NodeJS.ProcessEnv): RequireTime {
  const script = [
    `const c0 = process.cpuUsage();`,
    `const t0 = performance.now();`,
    `require(${JSON.stringify(file)});`,
    `const ms = performance.now() - t0;`,
    `const cpu = process.cpuUsage(c0);`,
    `process.stdout.write('\\n${MARKER}' + ms + ' ' + (cpu.user + cpu.system) / 1000 + '\\n');`,
  ].join('\n');
  const child = spawnSync(node, ['-e', script], {
    cwd: dirname(file),
    env,
    encoding: 'utf8',
  });
  const line = child.stdout.split('\n').find((text) => text.startsWith(MARKER));
  if (child.status !== 0 || !line) throw new Error(`require(${file}) failed:\n${child.stderr}`);
  const [wallMs, cpuMs] = line.slice(MARKER.length).split(' ').map(Number);
  return { wallMs: wallMs!, cpuMs: cpuMs! };
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function main(): void {
  const runs = argument('--runs', 7);
  const other = option('--compare-node');
  const otherVersion = other ? nodeVersion(other) : undefined;
  const scratch = mkdtempSync(join(tmpdir(), 'bench-functions-'));
  try {
    // The policy bundle, compiled as the module's PolicyBundle construct compiles it.
    const defaults = defaultBundlePaths();
    const policyBundleFile = join(scratch, 'policy', 'bundle.tar.gz');
    const policyDir = manifestRootsOnly(defaults.policyDir, join(scratch, 'policy', 'src'));
    buildPolicyBundle({ policyDir, outFile: policyBundleFile });

    const outDir = join(scratch, 'zips');
    const bundleStarted = performance.now();
    const bundled = bundleFunctions({ functions: LOOP_FUNCTION_NAMES, policyBundleFile, outDir });
    const bundleSeconds = (performance.now() - bundleStarted) / 1000;

    // Only what Node itself needs: no AWS or Suture variables (handlers read them lazily).
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
    const rows: string[][] = [
      [
        'function',
        'zip',
        'index.js',
        'policy bundle',
        'require median',
        'require max',
        'CPU median',
        `≤ ${TARGET_MS} ms`,
        ...(otherVersion ? [`median on ${otherVersion}`, 'this / that'] : []),
      ],
    ];
    const verdicts: string[] = [];
    let zipTotal = 0;
    for (const name of LOOP_FUNCTION_NAMES) {
      const fn = bundled.get(name)!;
      const unpacked = join(scratch, 'unpacked', name);
      mkdirSync(unpacked, { recursive: true });
      execFileSync('unzip', ['-q', '-o', fn.zipFile, '-d', unpacked]);
      const indexFile = join(unpacked, 'index.js');
      const zipBytes = statSync(fn.zipFile).size;
      zipTotal += zipBytes;
      const samples: RequireTime[] = [];
      const otherTimes: number[] = [];
      for (let i = 0; i < runs; i += 1) {
        if (other && i % 2 === 1) otherTimes.push(coldRequire(other, indexFile, env).wallMs);
        samples.push(coldRequire(process.execPath, indexFile, env));
        if (other && i % 2 === 0) otherTimes.push(coldRequire(other, indexFile, env).wallMs);
      }
      const times = samples.map((sample) => sample.wallMs).sort((a, b) => a - b);
      const cpuTimes = samples.map((sample) => sample.cpuMs).sort((a, b) => a - b);
      otherTimes.sort((a, b) => a - b);
      const median = quantile(times, 0.5);
      const max = times[times.length - 1]!;
      const ok = median <= TARGET_MS;
      verdicts.push(
        `${ok ? 'PASS' : 'FAIL'} ${name}: cold require median ${median.toFixed(1)} ms ≤ ${TARGET_MS} ms (max ${max.toFixed(1)} ms)`,
      );
      rows.push([
        name,
        kib(zipBytes),
        kib(statSync(indexFile).size),
        LOOP_FUNCTIONS[name].policyBundle ? 'yes' : '',
        `${median.toFixed(1)} ms`,
        `${max.toFixed(1)} ms`,
        `${quantile(cpuTimes, 0.5).toFixed(1)} ms`,
        ok ? 'PASS' : 'FAIL',
        ...(other
          ? [`${quantile(otherTimes, 0.5).toFixed(1)} ms`, (median / quantile(otherTimes, 0.5)).toFixed(2)]
          : []),
      ]);
    }

    console.log(`Function bundles: size and cold init (bench/functions/run.ts, ${runs} processes each)\n`);
    console.log(table(rows));
    console.log(
      `\nesbuild + zip of all ${LOOP_FUNCTION_NAMES.length} functions: ${bundleSeconds.toFixed(2)} s; zips total ${kib(zipTotal)}`,
    );
    console.log(`\n${verdicts.join('\n')}`);
    console.log(`\n${machine().join('\n')}`);
    if (otherVersion)
      console.log(`compared with node ${otherVersion} (${other}), alternating process by process`);
    if (verdicts.some((line) => line.startsWith('FAIL'))) process.exitCode = 1;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main();
