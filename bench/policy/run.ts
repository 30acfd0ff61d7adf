/**
 * Policy decision benchmark: the same inputs decided three ways in one run.
 *
 *   1. in-process: `PolicyGate.decide` on the WebAssembly bundle (what the Lambdas do),
 *   2. REST: an `opa run --server` on 127.0.0.1, started and stopped by this script,
 *   3. `opa eval`: one OPA process per decision.
 *
 * Also measures the cold bundle load (`PolicyGate.load`) in fresh child processes.
 *
 * Usage: npx tsx bench/policy/run.ts [--iterations N] [--rest-requests N] [--eval-runs N]
 *                                    [--load-runs N] [--json]
 *
 * The OPA CLI has no WebAssembly engine (`opa version`: "WebAssembly: unavailable") and the
 * `.rego` that `opa build -t wasm` puts in the wasm bundle has the entrypoint rule compiled
 * out, so the server and `opa eval` use a Rego bundle built from the same sources with the
 * same revision. The run aborts if the sources change between the two builds, and before any
 * timing it checks that all three methods give the same allow/require_approval for every input.
 *
 * Exits 0 when a target is missed (this is a measurement, not a test); non-zero when the
 * benchmark itself cannot run or the methods disagree.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { buildPolicyBundle, computeRevision, defaultBundlePaths, opaCommand } from '../../cli/policy/build';
import { repoRoot } from '../../cli/paths';
import { readTarGz } from '../../functions/commons/policy-gate/bundle';
import { PolicyGate } from '../../functions/commons/policy-gate/gate';
import type { GateDecision } from '../../functions/commons/policy-gate/schema';

const execFileAsync = promisify(execFile);

const TARGETS = { inProcessP99Us: 100, restOverInProcessP50: 20, bundleLoadMs: 50 } as const;
const ENTRYPOINT_PATH = 'suture/remediation/decision';
const ENTRYPOINT_QUERY = 'data.suture.remediation.decision';

// ---------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------

interface Options {
  iterations: number;
  restRequests: number;
  evalRuns: number;
  loadRuns: number;
  json: boolean;
}

const USAGE =
  'usage: tsx bench/policy/run.ts [--iterations N] [--rest-requests N] [--eval-runs N] [--load-runs N] [--json]';

function parseOptions(argv: readonly string[]): Options {
  const options: Options = {
    iterations: 20_000,
    restRequests: 2_000,
    evalRuns: 30,
    loadRuns: 10,
    json: false,
  };
  const numeric: Record<string, keyof Omit<Options, 'json'>> = {
    '--iterations': 'iterations',
    '--rest-requests': 'restRequests',
    '--eval-runs': 'evalRuns',
    '--load-runs': 'loadRuns',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') {
      options.json = true;
      continue;
    }
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    const [flag, inline] = arg.split('=', 2) as [string, string | undefined];
    const key = numeric[flag];
    if (!key) throw new Error(`unknown argument ${arg}\n${USAGE}`);
    const raw = inline ?? argv[++i];
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > 10_000_000) {
      throw new Error(`${flag} needs an integer between 1 and 10,000,000, got ${raw ?? '(nothing)'}`);
    }
    options[key] = value;
  }
  return options;
}

import { benchCases, outcomeOf, type BenchCase, type Outcome } from './cases';

// ---------------------------------------------------------------------------------------
// Statistics and formatting
// ---------------------------------------------------------------------------------------

interface LatencyStats {
  samples: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  meanUs: number;
  /** Operations per second over the whole timed loop (timer overhead included). */
  throughputPerS: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

function stats(samplesNs: Float64Array, wallNs: number): LatencyStats {
  const sorted = Float64Array.from(samplesNs).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    samples: sorted.length,
    p50Us: percentile(sorted, 50) / 1000,
    p99Us: percentile(sorted, 99) / 1000,
    maxUs: sorted[sorted.length - 1]! / 1000,
    meanUs: sum / sorted.length / 1000,
    throughputPerS: sorted.length / (wallNs / 1e9),
  };
}

function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

function fmtUs(us: number): string {
  if (us < 1000) return `${us.toFixed(1)} µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(2)} ms`;
  return `${(us / 1_000_000).toFixed(2)} s`;
}

function fmtRate(perS: number): string {
  return `${Math.round(perS).toLocaleString('en-US')}/s`;
}

function fmtMs(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}

const sinceNs = (start: bigint): number => Number(process.hrtime.bigint() - start);

// ---------------------------------------------------------------------------------------
// OPA binary and bundles
// ---------------------------------------------------------------------------------------

interface OpaBinary {
  path: string;
  version: string;
  goVersion: string;
  /** How the binary was found. */
  via: string;
}

async function opaVersion(binary: string): Promise<{ version: string; goVersion: string } | undefined> {
  try {
    const { stdout } = await execFileAsync(binary, ['version'], { timeout: 10_000 });
    const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(stdout)?.[1]?.trim() ?? '';
    return { version: field('Version'), goVersion: field('Go Version') };
  } catch {
    return undefined;
  }
}

/**
 * The binary `scripts/opa` would exec, resolved once so that `opa eval` timings do not include
 * the wrapper's own version checks. Falls back to the wrapper when nothing matches the pin.
 */
async function resolveOpa(root: string): Promise<OpaBinary> {
  const goMod = readFileSync(join(root, 'tools', 'go.mod'), 'utf8');
  const pin = /^\s*github\.com\/open-policy-agent\/opa\s+v?(\S+)/m.exec(goMod)?.[1];
  const candidates: Array<{ path: string; via: string }> = [];
  if (process.env.SUTURE_OPA) candidates.push({ path: process.env.SUTURE_OPA, via: 'SUTURE_OPA' });
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'opa'))) {
      candidates.push({ path: join(dir, 'opa'), via: 'PATH' });
      break;
    }
  }
  candidates.push({ path: join(root, '.tools', 'bin', 'opa'), via: '.tools/bin (built by scripts/opa)' });
  for (const candidate of candidates) {
    if (candidate.via !== 'SUTURE_OPA' && !existsSync(candidate.path)) continue;
    const v = await opaVersion(candidate.path);
    if (v && (candidate.via === 'SUTURE_OPA' || v.version === pin)) return { ...candidate, ...v };
  }
  const wrapper = opaCommand(root);
  const v = await opaVersion(wrapper);
  if (!v) throw new Error(`cannot run OPA: neither a binary at the pinned ${pin} nor ${wrapper} works`);
  return { path: wrapper, via: 'scripts/opa wrapper (its version checks are timed too)', ...v };
}

interface Bundles {
  wasm: string;
  rego: string;
  revision: string;
  sha256: string;
}

/** Builds the wasm bundle (as `suture policy build` does) and a Rego bundle of the same revision. */
async function buildBundles(workDir: string): Promise<Bundles> {
  const { policyDir, bundleFile } = defaultBundlePaths();
  const built = buildPolicyBundle({ policyDir, outFile: bundleFile });
  const rego = join(workDir, 'rego-bundle.tar.gz');
  // Same staged sources (the manifest's roots only) as the wasm build, same revision stamp.
  const regoBuilt = buildPolicyBundle({ policyDir, outFile: rego, target: 'rego' });
  const after = computeRevision(policyDir);
  if (after !== built.revision || regoBuilt.revision !== built.revision) {
    throw new Error(
      `the policy sources changed while the bundles were built (${built.revision} → ${after}); run the benchmark again`,
    );
  }
  // The Rego bundle must carry the same data as the wasm bundle.
  const [wasmFiles, regoFiles] = await Promise.all([
    readTarGz(readFileSync(bundleFile)),
    readTarGz(readFileSync(rego)),
  ]);
  const wasmData = wasmFiles.get('data.json')?.toString('utf8');
  const regoData = regoFiles.get('data.json')?.toString('utf8');
  if (!wasmData || wasmData !== regoData)
    throw new Error('the wasm and Rego bundles carry different data.json');
  return { wasm: bundleFile, rego, revision: built.revision, sha256: built.sha256 };
}

// ---------------------------------------------------------------------------------------
// (1) Bundle load in fresh processes
// ---------------------------------------------------------------------------------------

interface ChildLoadReport {
  loadMs: number;
  /** From the child's process start (performance.timeOrigin) to a loaded gate. */
  readyMs: number;
  firstDecisionUs: number;
}

/** Child mode: load the gate cold, decide once, report as one JSON line. */
async function childLoad(bundle: string): Promise<void> {
  const gate = await PolicyGate.load({ bundle, verification: { allowUnsigned: true } });
  const readyMs = performance.now();
  const input = benchCases()[0]!.input;
  const start = process.hrtime.bigint();
  gate.decide(input);
  const firstDecisionUs = sinceNs(start) / 1000;
  const report: ChildLoadReport = { loadMs: gate.loadMs, readyMs, firstDecisionUs };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

interface LoadResult {
  runs: number;
  gateLoadMs: { median: number; max: number; min: number };
  processReadyMs: { median: number; max: number };
  childWallMs: { median: number; max: number };
  firstDecisionUs: { median: number; max: number };
}

function runChild(bundle: string): Promise<ChildLoadReport & { wallMs: number }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, [...process.execArgv, __filename, '--child-load', bundle], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const wallMs = sinceNs(start) / 1e6;
      if (code !== 0) {
        reject(new Error(`bundle-load child exited with ${code}: ${stderr.trim()}`));
        return;
      }
      try {
        resolve({ ...(JSON.parse(stdout.trim()) as ChildLoadReport), wallMs });
      } catch (error) {
        reject(new Error(`bundle-load child printed ${JSON.stringify(stdout)}`, { cause: error }));
      }
    });
  });
}

async function measureLoad(bundle: string, runs: number): Promise<LoadResult> {
  const reports: Array<ChildLoadReport & { wallMs: number }> = [];
  for (let i = 0; i < runs; i++) reports.push(await runChild(bundle));
  const pick = (f: (r: ChildLoadReport & { wallMs: number }) => number) => reports.map(f);
  const loads = pick((r) => r.loadMs);
  return {
    runs,
    gateLoadMs: { median: median(loads), max: Math.max(...loads), min: Math.min(...loads) },
    processReadyMs: { median: median(pick((r) => r.readyMs)), max: Math.max(...pick((r) => r.readyMs)) },
    childWallMs: { median: median(pick((r) => r.wallMs)), max: Math.max(...pick((r) => r.wallMs)) },
    firstDecisionUs: {
      median: median(pick((r) => r.firstDecisionUs)),
      max: Math.max(...pick((r) => r.firstDecisionUs)),
    },
  };
}

// ---------------------------------------------------------------------------------------
// (2) In-process
// ---------------------------------------------------------------------------------------

interface InProcessResult extends LatencyStats {
  warmup: number;
  /** Percentiles of the gate's own `evaluation_us` (policy.evaluate only, no zod, µs resolution). */
  evaluationOnly: { p50Us: number; p99Us: number };
}

function measureInProcess(gate: PolicyGate, inputs: readonly unknown[], iterations: number): InProcessResult {
  const warmup = Math.min(5_000, Math.max(1_000, Math.floor(iterations / 4)));
  let sink = 0;
  for (let i = 0; i < warmup; i++) sink += gate.decide(inputs[i % inputs.length]).allow ? 1 : 0;
  const samples = new Float64Array(iterations);
  const evaluation = new Float64Array(iterations);
  const loopStart = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    const decision = gate.decide(inputs[i % inputs.length]);
    samples[i] = Number(process.hrtime.bigint() - start);
    evaluation[i] = decision.evaluation_us;
    sink += decision.allow ? 1 : 0;
  }
  const wallNs = sinceNs(loopStart);
  if (sink < 0) console.error(sink); // keeps the results observable
  evaluation.sort();
  return {
    ...stats(samples, wallNs),
    warmup,
    evaluationOnly: { p50Us: percentile(evaluation, 50), p99Us: percentile(evaluation, 99) },
  };
}

// ---------------------------------------------------------------------------------------
// (3) REST server
// ---------------------------------------------------------------------------------------

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

interface HttpResult {
  status: number;
  body: string;
}

function post(agent: http.Agent, port: number, path: string, body: string): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: 10_000,
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (data += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`POST ${path} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: 1_000, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

interface OpaServer {
  port: number;
  process: ChildProcess;
  startMs: number;
  stderr: () => string;
}

async function startServer(opa: OpaBinary, bundle: string): Promise<OpaServer> {
  const port = await freePort();
  const started = process.hrtime.bigint();
  const child = spawn(
    opa.path,
    ['run', '--server', '--addr', `127.0.0.1:${port}`, '--log-level', 'error', bundle],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const server: OpaServer = { port, process: child, startMs: 0, stderr: () => stderr };
  const deadline = Date.now() + 15_000;
  for (let attempt = 0; attempt < 600 && Date.now() < deadline; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`opa run --server exited with ${child.exitCode ?? child.signalCode}: ${stderr.trim()}`);
    }
    if ((await get(port, '/health?bundles')) === 200) {
      server.startMs = sinceNs(started) / 1e6;
      return server;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  await stopServer(server);
  throw new Error(`opa run --server on 127.0.0.1:${port} was not healthy within 15 s: ${stderr.trim()}`);
}

async function stopServer(server: OpaServer): Promise<void> {
  const child = server.process;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

interface RestResult extends LatencyStats {
  warmup: number;
  serverStartMs: number;
  /**
   * OPA's own timers from a separate, untimed pass with `?metrics=true`: Rego evaluation and the
   * whole server handler (input parse + evaluation + encoding), p50 in µs. Shows how much of
   * the REST latency is the interpreter rather than HTTP.
   */
  serverSide: { samples: number; evalP50Us: number; handlerP50Us: number };
}

type PolicyResult = {
  allow: boolean;
  require_approval: boolean;
  mode: string;
  reasons: Array<{ code: string }>;
};

function restDecision(result: HttpResult, name: string): PolicyResult {
  if (result.status !== 200) throw new Error(`REST ${name}: HTTP ${result.status} ${result.body}`);
  const parsed = JSON.parse(result.body) as { result?: PolicyResult };
  if (!parsed.result) throw new Error(`REST ${name}: decision undefined (${result.body})`);
  return parsed.result;
}

async function measureRest(
  server: OpaServer,
  agent: http.Agent,
  bodies: readonly string[],
  requests: number,
): Promise<RestResult> {
  const path = `/v1/data/${ENTRYPOINT_PATH}`;
  const warmup = Math.min(500, Math.max(100, Math.floor(requests / 10)));
  for (let i = 0; i < warmup; i++) await post(agent, server.port, path, bodies[i % bodies.length]!);
  const samples = new Float64Array(requests);
  const loopStart = process.hrtime.bigint();
  for (let i = 0; i < requests; i++) {
    const start = process.hrtime.bigint();
    const result = await post(agent, server.port, path, bodies[i % bodies.length]!);
    const decision = restDecision(result, `request ${i}`); // a client has to parse the answer too
    samples[i] = Number(process.hrtime.bigint() - start);
    if (typeof decision.allow !== 'boolean') throw new Error(`REST request ${i}: malformed decision`);
  }
  const timed = stats(samples, sinceNs(loopStart));
  const metricSamples = Math.min(200, requests);
  const evalNs = new Float64Array(metricSamples);
  const handlerNs = new Float64Array(metricSamples);
  for (let i = 0; i < metricSamples; i++) {
    const result = await post(agent, server.port, `${path}?metrics=true`, bodies[i % bodies.length]!);
    const metrics = (JSON.parse(result.body) as { metrics?: Record<string, number> }).metrics ?? {};
    evalNs[i] = metrics.timer_rego_query_eval_ns ?? Number.NaN;
    handlerNs[i] = metrics.timer_server_handler_ns ?? Number.NaN;
  }
  evalNs.sort();
  handlerNs.sort();
  return {
    ...timed,
    warmup,
    serverStartMs: server.startMs,
    serverSide: {
      samples: metricSamples,
      evalP50Us: percentile(evalNs, 50) / 1000,
      handlerP50Us: percentile(handlerNs, 50) / 1000,
    },
  };
}

// ---------------------------------------------------------------------------------------
// (4) opa eval, one process per decision
// ---------------------------------------------------------------------------------------

function opaEval(opa: OpaBinary, bundle: string, input: string): Promise<PolicyResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(opa.path, ['eval', '-b', bundle, '-I', ENTRYPOINT_QUERY], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`opa eval exited with ${code}: ${stderr.trim() || stdout.trim()}`));
        return;
      }
      const parsed = JSON.parse(stdout) as {
        result?: Array<{ expressions: Array<{ value: PolicyResult }> }>;
      };
      const value = parsed.result?.[0]?.expressions[0]?.value;
      if (!value) reject(new Error(`opa eval: decision undefined (${stdout.trim()})`));
      else resolve(value);
    });
    child.stdin.end(input);
  });
}

interface EvalResult extends LatencyStats {
  warmup: number;
  binary: string;
}

async function measureEval(opa: OpaBinary, bundle: string, inputs: readonly string[], runs: number) {
  const warmup = 3;
  for (let i = 0; i < warmup; i++) await opaEval(opa, bundle, inputs[i % inputs.length]!);
  const samples = new Float64Array(runs);
  const loopStart = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await opaEval(opa, bundle, inputs[i % inputs.length]!);
    samples[i] = Number(process.hrtime.bigint() - start);
  }
  const result: EvalResult = { ...stats(samples, sinceNs(loopStart)), warmup, binary: opa.path };
  return result;
}

// ---------------------------------------------------------------------------------------
// Parity check
// ---------------------------------------------------------------------------------------

interface Parity {
  cases: number;
  outcomes: Record<Outcome, number>;
  /** Cases whose outcome differs from what the case was written to exercise (policy changed?). */
  unexpected: string[];
  /** Same flags, but a different mode or set of reason codes between methods. */
  warnings: string[];
}

const codesOf = (d: { reasons: ReadonlyArray<{ code: string }> }) =>
  d.reasons
    .map((r) => r.code)
    .sort()
    .join(',');

async function checkParity(
  gate: PolicyGate,
  cases: readonly BenchCase[],
  server: OpaServer,
  agent: http.Agent,
  opa: OpaBinary,
  regoBundle: string,
): Promise<Parity> {
  const parity: Parity = {
    cases: cases.length,
    outcomes: { allow: 0, approval: 0, deny: 0 },
    unexpected: [],
    warnings: [],
  };
  const mismatches: string[] = [];
  for (const [i, benchCase] of cases.entries()) {
    const body = JSON.stringify({ input: benchCase.input });
    const wasm: GateDecision = gate.decide(benchCase.input);
    if (wasm.reasons.some((r) => r.code.startsWith('gate_'))) {
      throw new Error(
        `case ${i} "${benchCase.name}": the gate did not evaluate the policy: ${JSON.stringify(wasm.reasons)}`,
      );
    }
    const rest = restDecision(
      await post(agent, server.port, `/v1/data/${ENTRYPOINT_PATH}`, body),
      benchCase.name,
    );
    const evaluated = await opaEval(opa, regoBundle, JSON.stringify(benchCase.input));
    const flags = (d: { allow: boolean; require_approval: boolean }) =>
      `allow=${d.allow} require_approval=${d.require_approval}`;
    if (flags(wasm) !== flags(rest) || flags(wasm) !== flags(evaluated)) {
      mismatches.push(
        `case ${i} "${benchCase.name}": wasm ${flags(wasm)} | REST ${flags(rest)} | opa eval ${flags(evaluated)}`,
      );
      continue;
    }
    const detail = (d: PolicyResult | GateDecision) => `mode=${d.mode} reasons=${codesOf(d)}`;
    if (detail(wasm) !== detail(rest) || detail(wasm) !== detail(evaluated)) {
      parity.warnings.push(
        `case ${i} "${benchCase.name}": wasm ${detail(wasm)} | REST ${detail(rest)} | opa eval ${detail(evaluated)}`,
      );
    }
    const outcome = outcomeOf(wasm);
    parity.outcomes[outcome] += 1;
    if (outcome !== benchCase.expect) {
      parity.unexpected.push(
        `case ${i} "${benchCase.name}": expected ${benchCase.expect}, got ${outcome} (${codesOf(wasm)})`,
      );
    }
  }
  if (mismatches.length > 0) {
    throw new Error(
      `PARITY FAILURE: the three methods disagree on ${mismatches.length} of ${cases.length} inputs; ` +
        `no timings were taken.\n  ${mismatches.join('\n  ')}`,
    );
  }
  return parity;
}

// ---------------------------------------------------------------------------------------
// Machine
// ---------------------------------------------------------------------------------------

interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  opa: string;
  opaGo: string;
  opaWasmSdk: string;
  /** 1-minute load average before and after the timed part: other work on the machine skews results. */
  loadAverage: { start: number; end: number };
}

function machine(opa: OpaBinary, root: string, loadAtStart: number): Machine {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
    if (model) cpu = model.trim();
  } catch {
    // not Linux: keep os.cpus()
  }
  let sdk = 'unknown';
  try {
    const pkg = join(root, 'node_modules', '@open-policy-agent', 'opa-wasm', 'package.json');
    sdk = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  } catch {
    // keep unknown
  }
  return {
    cpu,
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    opa: opa.version,
    opaGo: opa.goVersion,
    opaWasmSdk: sdk,
    loadAverage: { start: loadAtStart, end: Math.round(os.loadavg()[0]! * 100) / 100 },
  };
}

// ---------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------

interface Results {
  date: string;
  options: Omit<Options, 'json'>;
  bundle: { revision: string; sha256: string; wasmBundle: string; opaBinary: string; opaBinaryVia: string };
  machine: Machine;
  parity: Parity;
  load: LoadResult;
  inProcess: InProcessResult;
  rest: RestResult;
  eval: EvalResult;
  ratios: { restP50OverInProcessP50: number; evalP50OverInProcessP50: number };
  targets: Array<{ name: string; target: string; measured: string; pass: boolean }>;
}

function targetsOf(r: Omit<Results, 'targets'>): Results['targets'] {
  return [
    {
      name: 'in-process p99',
      target: `≤ ${TARGETS.inProcessP99Us} µs`,
      measured: fmtUs(r.inProcess.p99Us),
      pass: r.inProcess.p99Us <= TARGETS.inProcessP99Us,
    },
    {
      name: 'REST p50 / in-process p50',
      target: `≥ ${TARGETS.restOverInProcessP50}×`,
      measured: `${r.ratios.restP50OverInProcessP50.toFixed(1)}×`,
      pass: r.ratios.restP50OverInProcessP50 >= TARGETS.restOverInProcessP50,
    },
    {
      name: 'bundle load (median gate.loadMs, cold)',
      target: `≤ ${TARGETS.bundleLoadMs} ms`,
      measured: fmtMs(r.load.gateLoadMs.median),
      pass: r.load.gateLoadMs.median <= TARGETS.bundleLoadMs,
    },
  ];
}

function printReport(r: Results): void {
  const lines: string[] = [];
  const row = (cells: string[]) => lines.push(`| ${cells.join(' | ')} |`);
  row(['method', 'p50', 'p99', 'max', 'throughput', 'samples']);
  row(['---', '---:', '---:', '---:', '---:', '---:']);
  const add = (name: string, s: LatencyStats) =>
    row([
      name,
      fmtUs(s.p50Us),
      fmtUs(s.p99Us),
      fmtUs(s.maxUs),
      fmtRate(s.throughputPerS),
      s.samples.toLocaleString('en-US'),
    ]);
  add('in-process wasm (`PolicyGate.decide`)', r.inProcess);
  add('OPA REST server, 127.0.0.1 keep-alive', r.rest);
  add('`opa eval`, one process per decision', r.eval);
  lines.push('');
  const l = r.load;
  lines.push(
    `Bundle load (${l.runs} fresh processes): gate.loadMs median ${fmtMs(l.gateLoadMs.median)}, max ${fmtMs(l.gateLoadMs.max)}; ` +
      `process start → gate ready median ${fmtMs(l.processReadyMs.median)}, max ${fmtMs(l.processReadyMs.max)}; ` +
      `child wall time median ${fmtMs(l.childWallMs.median)}, max ${fmtMs(l.childWallMs.max)}; ` +
      `first decision median ${fmtUs(l.firstDecisionUs.median)}, max ${fmtUs(l.firstDecisionUs.max)}.`,
  );
  lines.push(
    `In-process policy evaluation only (gate's evaluation_us, no input validation): p50 ${fmtUs(r.inProcess.evaluationOnly.p50Us)}, p99 ${fmtUs(r.inProcess.evaluationOnly.p99Us)}.`,
  );
  lines.push(
    `OPA server: start → healthy ${fmtMs(r.rest.serverStartMs)}; its own timers (p50 of ${r.rest.serverSide.samples} ` +
      `untimed requests with ?metrics=true): Rego evaluation ${fmtUs(r.rest.serverSide.evalP50Us)}, ` +
      `whole handler ${fmtUs(r.rest.serverSide.handlerP50Us)}.`,
  );
  lines.push(
    `Ratios: REST p50 / in-process p50 = ${r.ratios.restP50OverInProcessP50.toFixed(1)}×; ` +
      `opa eval p50 / in-process p50 = ${Math.round(r.ratios.evalP50OverInProcessP50).toLocaleString('en-US')}×.`,
  );
  lines.push('');
  lines.push('Targets:');
  for (const t of r.targets) lines.push(`- ${t.pass ? 'PASS' : 'FAIL'} ${t.name} ${t.target}: ${t.measured}`);
  lines.push('');
  const o = r.parity.outcomes;
  lines.push(
    `Inputs: ${r.parity.cases} (allow ${o.allow}, require_approval ${o.approval}, deny ${o.deny}); ` +
      `all three methods agree on allow/require_approval for every input.`,
  );
  for (const w of r.parity.warnings) lines.push(`  WARNING mode/reasons differ: ${w}`);
  for (const u of r.parity.unexpected) lines.push(`  NOTE outcome changed: ${u}`);
  lines.push('');
  const m = r.machine;
  lines.push('```');
  lines.push(`date        ${r.date}`);
  lines.push(`cpu         ${m.cpu}`);
  lines.push(`cores       ${m.cores}`);
  lines.push(`memory      ${m.memoryGiB} GiB`);
  lines.push(`os          ${m.os}`);
  lines.push(`node        ${m.node}`);
  lines.push(`opa         ${m.opa} (${m.opaGo}), binary ${r.bundle.opaBinary} via ${r.bundle.opaBinaryVia}`);
  lines.push(`opa-wasm    ${m.opaWasmSdk}`);
  lines.push(
    `loadavg 1m  ${m.loadAverage.start.toFixed(2)} at start, ${m.loadAverage.end.toFixed(2)} at end of the timed part`,
  );
  lines.push(`bundle      ${r.bundle.revision}`);
  lines.push(
    `iterations  in-process ${r.options.iterations}, REST ${r.options.restRequests}, opa eval ${r.options.evalRuns}, loads ${r.options.loadRuns}`,
  );
  lines.push('```');
  console.log(lines.join('\n'));
}

// ---------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child-load') {
    await childLoad(argv[1] ?? defaultBundlePaths().bundleFile);
    return;
  }
  const options = parseOptions(argv);
  const log = (msg: string) => process.stderr.write(`[bench:policy] ${msg}\n`);
  const root = repoRoot();
  const opa = await resolveOpa(root);
  const workDir = await mkdtemp(join(os.tmpdir(), 'suture-bench-policy-'));
  let server: OpaServer | undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    log(`building bundles with ${opa.path} (OPA ${opa.version})`);
    const bundles = await buildBundles(workDir);
    const cases = benchCases();
    const inputs = cases.map((c) => c.input);
    const bodies = inputs.map((input) => JSON.stringify({ input }));
    const evalInputs = inputs.map((input) => JSON.stringify(input));

    const gate = await PolicyGate.load({ bundle: bundles.wasm, verification: { allowUnsigned: true } });
    log(`starting opa run --server on 127.0.0.1`);
    server = await startServer(opa, bundles.rego);
    log(`checking that wasm, REST and opa eval agree on ${cases.length} inputs`);
    const parity = await checkParity(gate, cases, server, agent, opa, bundles.rego);

    const loadAtStart = Math.round(os.loadavg()[0]! * 100) / 100;
    log(`bundle load: ${options.loadRuns} fresh processes`);
    const load = await measureLoad(bundles.wasm, options.loadRuns);
    log(`in-process: ${options.iterations} decisions`);
    const inProcess = measureInProcess(gate, inputs, options.iterations);
    log(`REST: ${options.restRequests} sequential requests`);
    const rest = await measureRest(server, agent, bodies, options.restRequests);
    await stopServer(server);
    server = undefined;
    log(`opa eval: ${options.evalRuns} processes`);
    const evalResult = await measureEval(opa, bundles.rego, evalInputs, options.evalRuns);

    const partial: Omit<Results, 'targets'> = {
      date: new Date().toISOString().slice(0, 10),
      options: {
        iterations: options.iterations,
        restRequests: options.restRequests,
        evalRuns: options.evalRuns,
        loadRuns: options.loadRuns,
      },
      bundle: {
        revision: bundles.revision,
        sha256: bundles.sha256,
        wasmBundle: bundles.wasm,
        opaBinary: opa.path,
        opaBinaryVia: opa.via,
      },
      machine: machine(opa, root, loadAtStart),
      parity,
      load,
      inProcess,
      rest,
      eval: evalResult,
      ratios: {
        restP50OverInProcessP50: rest.p50Us / inProcess.p50Us,
        evalP50OverInProcessP50: evalResult.p50Us / inProcess.p50Us,
      },
    };
    const results: Results = { ...partial, targets: targetsOf(partial) };
    if (options.json) console.log(JSON.stringify(results, null, 2));
    else printReport(results);
  } finally {
    agent.destroy();
    if (server) await stopServer(server);
    await rm(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`[bench:policy] ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
