import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { repoRoot } from '../paths';

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

/** Files that make up the policy: Rego modules (tests excluded), data and the manifest. */
function policySourceFiles(policyDir: string): string[] {
  const found: string[] = [];
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (isBundledSource(entry.name)) found.push(path);
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
  const temp = `${options.outFile}.${process.pid}.tmp`;
  const args = [
    'build',
    '-t',
    'wasm',
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
  try {
    execFileSync(opaCommand(), args, { cwd: options.policyDir, maxBuffer: 16 * 1024 * 1024, stdio: 'pipe' });
    renameSync(temp, options.outFile);
  } catch (error) {
    rmSync(temp, { force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`opa build failed for ${options.policyDir}${stderr ? `:\n${stderr}` : ''}`, {
      cause: error,
    });
  }
  const bytes = readFileSync(options.outFile);
  return {
    file: options.outFile,
    revision,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    signed: Boolean(options.signingKey),
  };
}
