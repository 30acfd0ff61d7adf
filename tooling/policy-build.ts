import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { repoRoot } from './paths';

/** Where the repository keeps its policy sources and where builds put the bundle. */
export function defaultBundlePaths(root: string = repoRoot()): { policyDir: string; bundleFile: string } {
  return { policyDir: join(root, 'policies'), bundleFile: join(root, 'build', 'policy', 'bundle.tar.gz') };
}

/** Options for {@link buildPolicyBundle}. */
export interface BuildPolicyBundleOptions {
  /** Folder holding `.manifest`, the Rego packages and their data. */
  readonly policyDir: string;
  /** Where the `.tar.gz` bundle is written (atomically: temp file, then rename). */
  readonly outFile: string;
  /** PEM file of an RSA/ECDSA private key, or an HMAC secret; signs the bundle when set. @default unsigned */
  readonly signingKey?: string;
  /** JWS algorithm for the signature. @default RS256 */
  readonly signingAlg?: string;
  /** Key id written into the signature, matched by verifiers. @default "suture" */
  readonly keyId?: string;
  /**
   * `wasm` compiles the entrypoints to WebAssembly (what the gate loads); `rego` bundles the
   * sources for OPA's own evaluator (`opa run --server`, `opa eval -b`), for comparisons.
   * @default "wasm"
   */
  readonly target?: 'wasm' | 'rego';
}

/** What a build produced. */
export interface BuiltBundle {
  readonly file: string;
  /** Content hash of the policy sources, written as the manifest revision. */
  readonly revision: string;
  /** SHA-256 of the bundle archive itself. */
  readonly sha256: string;
  readonly signed: boolean;
}

/**
 * The roots `.manifest` declares. Packages outside them (e.g. `suture/infra`, the checks of our
 * own infrastructure) share `policies/` for the policy CI but are not part of the bundle.
 */
export function manifestRoots(policyDir: string): string[] {
  const manifest = join(policyDir, '.manifest');
  if (!existsSync(manifest)) return [''];
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { roots?: string[] }).roots ?? [''];
}

/** Whether the folder `path` (relative to the policy folder, `/`-separated) lies under one of `roots`. */
export function underManifestRoot(roots: readonly string[], path: string): boolean {
  return roots.some((root) => root === '' || path === root || path.startsWith(`${root}/`));
}

/** Files that make up the policy: Rego modules (tests excluded) and data under the manifest's roots, and the manifest. */
function policySourceFiles(policyDir: string): string[] {
  const roots = manifestRoots(policyDir);
  const inBundle = (dir: string) => {
    return underManifestRoot(roots, relative(policyDir, dir).split(sep).join('/'));
  };
  const found: string[] = [];
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (
        entry.name === '.manifest' ? dir === policyDir : isBundledSource(entry.name) && inBundle(dir)
      ) {
        found.push(path);
      }
    }
  };
  visit(policyDir);
  return found.sort();
}

function isBundledSource(name: string): boolean {
  if (name === '.manifest') return true;
  if (name.endsWith('_test.rego')) return false;
  return name.endsWith('.rego') || name === 'data.json';
}

/**
 * The bundle revision: SHA-256 over every source file's relative path and bytes, so the
 * same sources always give the same revision and any change to a rule or to data changes it.
 */
export function computeRevision(policyDir: string): string {
  const hash = createHash('sha256');
  for (const file of policySourceFiles(policyDir)) {
    hash.update(relative(policyDir, file).split(sep).join('/'));
    hash.update('\0');
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return `sha256:${hash.digest('hex')}`;
}

/** Path of the OPA wrapper that runs the pinned toolchain. */
export function opaCommand(root: string = repoRoot()): string {
  return join(root, 'scripts', 'opa');
}

/**
 * Compiles the policy to a WebAssembly bundle with `opa build -t wasm`, stamping the
 * content-hash revision and, when a key is given, signing it. Synchronous, so constructs can
 * build the bundle while they synthesise.
 */
export function buildPolicyBundle(options: BuildPolicyBundleOptions): BuiltBundle {
  const revision = computeRevision(options.policyDir);
  mkdirSync(dirname(options.outFile), { recursive: true });
  const temp = resolve(`${options.outFile}.${process.pid}.tmp`);
  const args = [
    'build',
    ...((options.target ?? 'wasm') === 'wasm' ? ['-t', 'wasm'] : []),
    '-b',
    '.',
    '--ignore',
    '*_test.rego',
    '--revision',
    revision,
    '-o',
    temp,
  ];
  if (options.signingKey) {
    args.push('--signing-key', options.signingKey, '--signing-alg', options.signingAlg ?? 'RS256');
    args.push('--verification-key-id', options.keyId ?? 'suture');
  }
  // opa build reads a whole directory: give it exactly the sources the revision covers.
  const stage = mkdtempSync(join(tmpdir(), 'suture-policy-'));
  try {
    for (const file of policySourceFiles(options.policyDir)) {
      const target = join(stage, relative(options.policyDir, file));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(file, target);
    }
    execFileSync(opaCommand(), args, {
      cwd: stage,
      maxBuffer: 16 * 1024 * 1024,
      stdio: 'pipe',
    });
    renameSync(temp, options.outFile);
  } catch (error) {
    rmSync(temp, { force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`opa build failed for ${options.policyDir}${stderr ? `:\n${stderr}` : ''}`, {
      cause: error,
    });
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  const bytes = readFileSync(options.outFile);
  return {
    file: options.outFile,
    revision,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    signed: Boolean(options.signingKey),
  };
}
