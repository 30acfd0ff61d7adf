import { buildSync, version as esbuildVersion, type BuildOptions } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { repoRoot } from '../../tooling/paths';
import { LOOP_FUNCTIONS, type LoopFunctionName } from './catalog';
import { ESBUILD_TARGET } from './runtime';
import { deterministicZip, type ZipEntry } from './zip';

/** Where the compiled policy bundle sits inside the zip of a function that evaluates policy. */
export const POLICY_BUNDLE_ENTRY = 'policy/bundle.tar.gz';

/** Options of {@link bundleFunctions}. */
export interface BundleFunctionsOptions {
  /** Functions to bundle; each must have `functions/<name>/index.ts`. */
  readonly functions: readonly LoopFunctionName[];
  /** The policy bundle archive; required when a listed function ships it. */
  readonly policyBundleFile?: string;
  /** Repository root (holds `functions/`). @default the repository this file is in */
  readonly root?: string;
  /** Where the zips and their cache records go. @default `<root>/build/functions` */
  readonly outDir?: string;
}

/** One function's deployment package. */
export interface BundledFunction {
  readonly name: LoopFunctionName;
  /** Absolute path of the zip. */
  readonly zipFile: string;
  /** SHA-256 (hex) of the zip bytes. */
  readonly sha256: string;
  /** True when the zip of an earlier synth was reused because no input changed. */
  readonly fromCache: boolean;
}

/** A function folder or its handler is missing. */
export class MissingFunctionSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingFunctionSourceError';
  }
}

/** Bumped when the packaging below changes, so older cache records stop matching. */
const PACKAGING_VERSION = 2;

/**
 * esbuild settings: one CommonJS file per function for the function runtime (`LAMBDA_RUNTIME`), minified, no
 * source maps (nothing time- or machine-dependent in the output), legal comments kept at the end.
 * Packages' ES module builds are preferred (`module` before `main`): esbuild can drop what a
 * function does not import from them (the AWS SDK clients' unused commands and schemas), which
 * cuts each client's cold `require` by about a third (bench/functions).
 */
function buildOptions(root: string, entryPoints: Record<string, string>): BuildOptions {
  return {
    absWorkingDir: root,
    entryPoints,
    outdir: join(root, 'build', 'functions', '.esbuild'),
    bundle: true,
    platform: 'node',
    target: ESBUILD_TARGET,
    format: 'cjs',
    mainFields: ['module', 'main'],
    minify: true,
    sourcemap: false,
    legalComments: 'eof',
    charset: 'utf8',
    write: false,
    metafile: true,
    logLevel: 'silent',
  };
}

interface CacheRecord {
  readonly key: string;
  /** Files esbuild read, relative to the root, sorted. */
  readonly inputs: readonly string[];
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The cache key: packaging, esbuild, settings, every input's content and the policy bundle. */
function cacheKey(
  root: string,
  name: string,
  inputs: readonly string[],
  policyBundle?: Buffer,
): string | undefined {
  const hash = createHash('sha256');
  hash.update(`${PACKAGING_VERSION}\0${esbuildVersion}\0${name}\0`);
  hash.update(JSON.stringify(buildOptions(root, {})));
  for (const input of inputs) {
    const file = join(root, input);
    if (!existsSync(file)) return undefined;
    hash.update(`${input}\0${sha256(readFileSync(file))}\0`);
  }
  hash.update(policyBundle ? sha256(policyBundle) : '-');
  return hash.digest('hex');
}

/** Writes atomically so parallel synths (e.g. jest workers) never see half a file. */
function writeAtomically(file: string, data: Buffer | string): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, data);
  renameSync(temp, file);
}

function readCache(recordFile: string): CacheRecord | undefined {
  try {
    return JSON.parse(readFileSync(recordFile, 'utf8')) as CacheRecord;
  } catch {
    return undefined;
  }
}

/**
 * Bundles each function with esbuild (all stale ones in one build) into a deterministic zip:
 * `index.js` (+ `policy/bundle.tar.gz` for the functions that evaluate policy). A function whose
 * inputs (every file esbuild read, the settings and the policy bundle) are unchanged since the
 * last synth keeps its zip, so warm synths skip esbuild entirely.
 */
export function bundleFunctions(
  options: BundleFunctionsOptions,
): ReadonlyMap<LoopFunctionName, BundledFunction> {
  const root = resolve(options.root ?? repoRoot());
  const outDir = resolve(options.outDir ?? join(root, 'build', 'functions'));
  mkdirSync(outDir, { recursive: true });

  const missing = options.functions.filter((name) => !existsSync(join(root, 'functions', name, 'index.ts')));
  if (missing.length > 0) {
    throw new MissingFunctionSourceError(
      `no handler for ${missing.map((name) => `functions/${name}/index.ts`).join(', ')}`,
    );
  }
  const needsPolicy = options.functions.filter((name) => LOOP_FUNCTIONS[name].policyBundle);
  if (needsPolicy.length > 0 && !options.policyBundleFile) {
    throw new Error(`policyBundleFile is required to package ${needsPolicy.join(', ')}`);
  }
  const policyBundle = needsPolicy.length > 0 ? readFileSync(options.policyBundleFile as string) : undefined;
  const policyFor = (name: LoopFunctionName) =>
    LOOP_FUNCTIONS[name].policyBundle ? policyBundle : undefined;

  const result = new Map<LoopFunctionName, BundledFunction>();
  const stale: LoopFunctionName[] = [];
  for (const name of options.functions) {
    const zipFile = join(outDir, `${name}.zip`);
    const record = readCache(join(outDir, `${name}.inputs.json`));
    const key = record && cacheKey(root, name, record.inputs, policyFor(name));
    if (record && key === record.key && existsSync(zipFile)) {
      result.set(name, { name, zipFile, sha256: sha256(readFileSync(zipFile)), fromCache: true });
    } else {
      stale.push(name);
    }
  }
  if (stale.length === 0) return order(options.functions, result);

  const entryPoints = Object.fromEntries(stale.map((name) => [name, `functions/${name}/index.ts`]));
  const built = buildSync(buildOptions(root, entryPoints));
  const metafile = built.metafile;
  if (!metafile) throw new Error('esbuild returned no metafile');
  for (const name of stale) {
    const output = (built.outputFiles ?? []).find((file) => file.path.endsWith(`${sep}${name}.js`));
    const meta = Object.values(metafile.outputs).find((entry) => entry.entryPoint === entryPoints[name]);
    if (!output || !meta) throw new Error(`esbuild produced no output for ${name}`);
    const entries: ZipEntry[] = [{ name: 'index.js', data: Buffer.from(output.contents) }];
    const policy = policyFor(name);
    if (policy) entries.push({ name: POLICY_BUNDLE_ENTRY, data: policy });
    const zip = deterministicZip(entries);
    const zipFile = join(outDir, `${name}.zip`);
    writeAtomically(zipFile, zip);
    const inputs = Object.keys(meta.inputs)
      .map((input) => relative(root, resolve(root, input)).split(sep).join('/'))
      .sort();
    const record: CacheRecord = { key: cacheKey(root, name, inputs, policy) as string, inputs };
    writeAtomically(join(outDir, `${name}.inputs.json`), `${JSON.stringify(record, null, 2)}\n`);
    result.set(name, { name, zipFile, sha256: sha256(zip), fromCache: false });
  }
  return order(options.functions, result);
}

function order(
  names: readonly LoopFunctionName[],
  bundled: Map<LoopFunctionName, BundledFunction>,
): ReadonlyMap<LoopFunctionName, BundledFunction> {
  return new Map(names.map((name) => [name, bundled.get(name) as BundledFunction]));
}
