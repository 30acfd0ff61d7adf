/**
 * Excerpt extraction vs `grep -E` on one generated build log, in one run.
 *
 *   npx tsx bench/excerpt/run.ts [--size-mib 1024] [--keep]
 *
 * 1. Streams a realistic build log of the given size to a temp file (never held in memory).
 * 2. Runs `grep -E -n '<FAILURE_PATTERN_ERE>' file` with stdout read through a pipe and
 *    discarded. Not `> /dev/null`: GNU grep notices /dev/null and stops at the first match, which
 *    would time nothing.
 * 3. Runs our extractor in a child process (esbuild bundle of a two-line entry, plain node, so
 *    no TypeScript compile is timed) on the same file, as `suture excerpt --json` would.
 * 4. Prints a table (wall and CPU throughput, ratio to grep, peak RSS) and the machine, checks the
 *    targets (throughput ≥ 50 % of grep, peak RSS ≤ 128 MiB), deletes the temp file.
 *
 * Both processes are wrapped in `/usr/bin/time -v` when it exists, for CPU time and peak RSS
 * measured the same way; otherwise our child reports `process.resourceUsage()` itself.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { FAILURE_PATTERN_ERE } from '../../functions/commons/excerpt/patterns';
import { ESBUILD_TARGET } from '../../modules/functions/runtime';
import { machine, table } from '../common';

const MIB = 1024 * 1024;
const TIME_BINARY = '/usr/bin/time';
const TARGET_RATIO = 0.5;
const TARGET_RSS_MIB = 128;

interface Args {
  readonly sizeMib: number;
  readonly keep: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  let sizeMib = 1024;
  let keep = false;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === '--size-mib') sizeMib = Number(argv[++index]);
    else if (arg === '--keep') keep = true;
    else throw new Error(`unknown argument ${String(arg)} (usage: run.ts [--size-mib N] [--keep])`);
  }
  if (!Number.isFinite(sizeMib) || sizeMib <= 0) throw new Error('--size-mib must be a positive number');
  return { sizeMib, keep };
}

/** mulberry32: small, fast, deterministic, so every run generates the same log. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ESC = '\u001b';
const PACKAGES = [
  'lodash',
  'react',
  'typescript',
  '@aws-sdk/client-s3',
  'jest',
  'esbuild',
  'zod',
  'express',
  'webpack',
];

/** The ordinary lines of a CodeBuild run of a JS monorepo with Java and Docker steps. */
const ORDINARY: ReadonlyArray<(n: number, hex: (length: number) => string) => string> = [
  (n) =>
    `[Container] 2024/05/01 12:${String(Math.floor(n / 3600) % 60).padStart(2, '0')}:${String(Math.floor(n / 60) % 60).padStart(2, '0')}.${String(n % 1_000_000).padStart(6, '0')} Running command npm run build --workspace packages/pkg-${n % 40}`,
  (n) =>
    `  ${ESC}[32m✓${ESC}[39m renders widget ${n % 977} without crashing ${ESC}[2m(${n % 97} ms)${ESC}[22m`,
  (n) =>
    `${ESC}[42m${ESC}[30m PASS ${ESC}[39m${ESC}[49m src/components/widget-${n % 300}.test.tsx (${(n % 50) / 10} s)`,
  (n, hex) => `asset main.${hex(20)}.js 1.2 MiB [emitted] [minimized] (name: main) ${n % 9000} ms`,
  (n) =>
    `[INFO] Downloading from central: https://repo.maven.apache.org/maven2/org/apache/commons/commons-lang3/3.${n % 14}/commons-lang3-3.${n % 14}.pom`,
  (n, hex) => `#${n % 30} sha256:${hex(64)} ${(n % 500) / 10}MB / 45.6MB ${(n % 90) / 10}s`,
  (n) =>
    `npm http fetch GET 200 https://registry.npmjs.org/${PACKAGES[n % PACKAGES.length]}/-/${n % 9}.${n % 17}.${n % 5}.tgz ${n % 400}ms (cache miss)`,
  (n) =>
    `2024-05-01T12:00:00.${String(n % 1000).padStart(3, '0')}Z INFO  [worker-${n % 8}] processed batch ${n} in ${n % 300}ms`,
  (n) =>
    `    at Object.<anonymous> (/codebuild/output/src${n % 999}/src/node_modules/some-lib/lib/index.js:${n % 400}:${n % 80})`,
  (n, hex) => `  dist/chunks/vendor-${hex(8)}.js    ${(n % 9000) / 10} kB │ gzip: ${(n % 3000) / 10} kB`,
];

/** Lines that mention errors or failures without being failures: they cost the scanner a check. */
const HARMLESS: ReadonlyArray<(n: number) => string> = [
  (n) => `Found 0 errors. Watching for file changes. (${n})`,
  () => '  src/errors/http-error.ts  12.1 kB',
  () => 'jest --ci --fail-fast=false --reporters=default',
  (n) => `npm WARN deprecated inflight@1.0.${n % 9}: This module is not supported, and leaks memory.`,
  () => '[INFO] Tests run: 42, Failures: 0, Errors: 0, Skipped: 1',
];

const FAILURE_BLOCK = [
  `${ESC}[41m${ESC}[1m FAIL ${ESC}[22m${ESC}[49m src/payments/refund.test.ts`,
  '  ● refund › rejects a negative amount',
  '    expect(received).toThrow(expected)',
  "    TypeError: Cannot read properties of undefined (reading 'amount')",
  '      at refund (src/payments/refund.ts:42:17)',
  'Tests:       1 failed, 211 passed, 212 total',
  'npm ERR! code ELIFECYCLE',
  'npm ERR! errno 1',
  '[Container] 2024/05/01 12:10:00.000000 Command did not exit successfully npm test exit status 1',
];

/**
 * Writes `sizeBytes` of log to `file`, streaming 1 MiB batches with backpressure. About 2 % of
 * lines are harmless mentions of errors, ~20 % carry ANSI colour, progress lines repeat, a
 * minified 40 KiB line appears every 32 MiB, and a real failure block every 64 MiB and at the
 * end (grep and the extractor both find these).
 */
async function generateLog(file: string, sizeBytes: number): Promise<void> {
  const next = random(20261123);
  const hex = (length: number): string => {
    let out = '';
    for (let index = 0; index < length; index++) out += '0123456789abcdef'[Math.floor(next() * 16)];
    return out;
  };
  const out = createWriteStream(file);
  let written = 0;
  let lineNumber = 0;
  let nextFailure = 64 * MIB;
  let nextLongLine = 32 * MIB;
  while (written < sizeBytes) {
    const lines: string[] = [];
    let batchBytes = 0;
    while (batchBytes < MIB) {
      lineNumber++;
      const roll = next();
      let line: string;
      if (roll < 0.02) line = HARMLESS[Math.floor(next() * HARMLESS.length)]?.(lineNumber) ?? '';
      else if (roll < 0.025)
        line = Array.from({ length: 12 }, () => 'Waiting for the build container to be ready...').join('\n');
      else line = ORDINARY[Math.floor(next() * ORDINARY.length)]?.(lineNumber, hex) ?? '';
      lines.push(line);
      batchBytes += line.length + 1;
    }
    written += batchBytes;
    if (written >= nextLongLine) {
      lines.push(`!function(e){${'var a=e.map(function(t){return t*2});'.repeat(1100)}}(window);`);
      nextLongLine += 32 * MIB;
    }
    if (written >= nextFailure || written >= sizeBytes) {
      lines.push(...FAILURE_BLOCK);
      nextFailure += 64 * MIB;
    }
    if (!out.write(`${lines.join('\n')}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

interface Measured {
  readonly wallSeconds: number;
  readonly cpuSeconds: number | undefined;
  readonly peakRssMib: number | undefined;
  readonly stdout: string;
}

function parseTimeReport(text: string): { cpuSeconds: number; peakRssMib: number } | undefined {
  const field = (name: string) => Number(new RegExp(`${name}: ([0-9.]+)`).exec(text)?.[1]);
  const user = field('User time \\(seconds\\)');
  const system = field('System time \\(seconds\\)');
  const rssKib = field('Maximum resident set size \\(kbytes\\)');
  if (![user, system, rssKib].every(Number.isFinite)) return undefined;
  return { cpuSeconds: user + system, peakRssMib: rssKib / 1024 };
}

/** Our child prints its own `process.resourceUsage()` as the last stderr line (used without /usr/bin/time). */
function selfReport(stderr: string): { cpuSeconds: number; peakRssMib: number } | undefined {
  const last = stderr.trim().split('\n').at(-1) ?? '';
  if (!last.startsWith('{')) return undefined;
  const usage = JSON.parse(last) as { maxRssKib: number; cpuMicros: number };
  return { cpuSeconds: usage.cpuMicros / 1e6, peakRssMib: usage.maxRssKib / 1024 };
}

/** Runs a command (under /usr/bin/time -v when present), reading all of stdout through a pipe. */
async function measure(
  command: string,
  args: readonly string[],
  workDir: string,
  env: NodeJS.ProcessEnv,
): Promise<Measured> {
  const timeFile = join(workDir, `time-${Date.now()}.txt`);
  const useTime = existsSync(TIME_BINARY);
  const [file, argv] = useTime
    ? [TIME_BINARY, ['-v', '-o', timeFile, command, ...args]]
    : [command, [...args]];
  const started = process.hrtime.bigint();
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  let keptBytes = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    // Keep only the start: grep's output is small here, and ours is one JSON document.
    if (keptBytes < 64 * MIB) chunks.push(chunk);
    keptBytes += chunk.length;
  });
  const [code] = (await once(child, 'close')) as [number | null];
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0 && !(command === 'grep' && code === 1)) {
    throw new Error(`${command} exited with ${String(code)}: ${stderr}`);
  }
  const report = useTime ? parseTimeReport(await readFile(timeFile, 'utf8')) : selfReport(stderr);
  return {
    wallSeconds,
    cpuSeconds: report?.cpuSeconds,
    peakRssMib: report?.peakRssMib,
    stdout: Buffer.concat(chunks).toString('utf8'),
  };
}

/** Bundles the extractor CLI entry for plain `node`, as the Lambda bundle would be built. */
async function bundleExtractor(workDir: string): Promise<string> {
  const outfile = join(workDir, 'excerpt-cli.cjs');
  const excerptModule = resolve(__dirname, '../../cli/log-streams.ts');
  await build({
    stdin: {
      contents: [
        `import { createReadStream } from 'node:fs';`,
        `import { excerptCli } from ${JSON.stringify(excerptModule)};`,
        `const input = createReadStream(process.argv[2], { highWaterMark: 1024 * 1024 });`,
        `excerptCli(input, process.stdout, { json: true }).then(() => {`,
        `  const usage = process.resourceUsage();`,
        `  process.stderr.write(JSON.stringify({ maxRssKib: usage.maxRSS, cpuMicros: usage.userCPUTime + usage.systemCPUTime }) + '\\n');`,
        `});`,
      ].join('\n'),
      resolveDir: workDir,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    target: ESBUILD_TARGET,
    format: 'cjs',
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const workDir = await mkdtemp(join(tmpdir(), 'suture-bench-excerpt-'));
  const logFile = join(workDir, 'build.log');
  try {
    const loadBefore = loadavg();
    const generatedAt = process.hrtime.bigint();
    await generateLog(logFile, args.sizeMib * MIB);
    const bytes = (await stat(logFile)).size;
    const generateSeconds = Number(process.hrtime.bigint() - generatedAt) / 1e9;
    const bundle = await bundleExtractor(workDir);
    const grepVersion = await measure('grep', ['--version'], workDir, process.env);

    const grep = await measure('grep', ['-E', '-n', FAILURE_PATTERN_ERE, logFile], workDir, {
      ...process.env,
      LC_ALL: 'C',
    });
    const ours = await measure(process.execPath, [bundle, logFile], workDir, process.env);
    const loadAfter = loadavg();

    const grepLines = grep.stdout.split('\n').filter(Boolean);
    const grepLineNumbers = new Set(grepLines.map((line) => Number(line.slice(0, line.indexOf(':')))));
    const result = JSON.parse(ours.stdout) as {
      totalLines: number;
      totalBytes: number;
      regions: Array<{ triggerLine: number }>;
      omittedRegions: number;
      excerpt: string;
    };
    if (result.totalBytes !== bytes) throw new Error(`extractor read ${result.totalBytes} of ${bytes} bytes`);
    const unconfirmed = result.regions.filter((region) => !grepLineNumbers.has(region.triggerLine));

    const mibps = (seconds: number | undefined) =>
      seconds === undefined ? 'n/a' : (bytes / MIB / seconds).toFixed(0);
    const ratioWall = grep.wallSeconds / ours.wallSeconds;
    const ratioCpu =
      grep.cpuSeconds !== undefined && ours.cpuSeconds !== undefined
        ? grep.cpuSeconds / ours.cpuSeconds
        : undefined;
    const rss = (value: number | undefined) => (value === undefined ? 'n/a' : `${value.toFixed(1)} MiB`);
    const rows = [
      [
        'method',
        'wall s',
        'CPU s',
        'MiB/s (wall)',
        'MiB/s (CPU)',
        'vs grep (wall)',
        'vs grep (CPU)',
        'peak RSS',
        'found',
      ],
      [
        '`grep -E -n` (LC_ALL=C)',
        grep.wallSeconds.toFixed(2),
        grep.cpuSeconds?.toFixed(2) ?? 'n/a',
        mibps(grep.wallSeconds),
        mibps(grep.cpuSeconds),
        '100 %',
        '100 %',
        rss(grep.peakRssMib),
        `${grepLines.length} lines`,
      ],
      [
        'extractExcerpt (node, bundled)',
        ours.wallSeconds.toFixed(2),
        ours.cpuSeconds?.toFixed(2) ?? 'n/a',
        mibps(ours.wallSeconds),
        mibps(ours.cpuSeconds),
        `${(ratioWall * 100).toFixed(0)} %`,
        ratioCpu === undefined ? 'n/a' : `${(ratioCpu * 100).toFixed(0)} %`,
        rss(ours.peakRssMib),
        `${result.regions.length + result.omittedRegions} regions`,
      ],
    ];

    const lines = [
      `Excerpt extraction vs grep -E, one run, ${new Date().toISOString().slice(0, 10)}`,
      '',
      `log: ${(bytes / MIB).toFixed(0)} MiB, ${result.totalLines.toLocaleString('en-US')} lines, generated in ${generateSeconds.toFixed(1)} s (page cache warm for both runs)`,
      ...machine(),
      `${grepVersion.stdout.split('\n')[0] ?? 'grep'}; load average before ${loadBefore.map((v) => v.toFixed(2)).join(' ')}, after ${loadAfter.map((v) => v.toFixed(2)).join(' ')}`,
      '',
      table(rows),
      '',
      `excerpt: ${Buffer.byteLength(result.excerpt)} bytes, ${result.regions.length} regions shown, ${result.omittedRegions} omitted; ` +
        `${unconfirmed.length === 0 ? 'every' : `${result.regions.length - unconfirmed.length} of ${result.regions.length}`} shown trigger line also found by grep`,
      '',
      `${ratioWall >= TARGET_RATIO ? 'PASS' : 'FAIL'} throughput ≥ ${TARGET_RATIO * 100} % of grep (wall): ${(ratioWall * 100).toFixed(0)} %`,
      `${ours.peakRssMib !== undefined && ours.peakRssMib <= TARGET_RSS_MIB ? 'PASS' : 'FAIL'} peak RSS ≤ ${TARGET_RSS_MIB} MiB: ${rss(ours.peakRssMib)}`,
    ];
    console.log(lines.join('\n'));
  } finally {
    if (args.keep) console.log(`kept ${workDir}`);
    else await rm(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
