import { AssetType, TerraformAsset } from 'cdktf';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { Construct } from 'constructs';
import {
  buildPolicyBundle,
  defaultBundlePaths,
  manifestRoots,
  underManifestRoot,
} from '../tooling/policy-build';
import { parseBundle } from '../functions/commons/policy-gate/bundle';

/** Props of {@link PolicyBundle}. */
export interface PolicyBundleProps {
  /**
   * A bundle archive built (and signed) elsewhere, e.g. by a release pipeline. When set, nothing
   * is compiled at synth; the archive is read once to check it and take its manifest revision.
   * @default the bundle is compiled from `policyDir` at synth
   */
  readonly prebuiltBundle?: string;
  /** Folder of the Rego sources compiled at synth. @default the repository's `policies/` */
  readonly policyDir?: string;
  /** Where the synth-time build writes the archive. @default `build/policy/bundle.tar.gz` */
  readonly outFile?: string;
}

/**
 * The remediation policy as a deployable asset: compiled to WebAssembly by `opa build` at
 * synth (or taken prebuilt), copied into the synthesised module by its content hash.
 */
export class PolicyBundle extends Construct {
  /** The archive as a Terraform asset; its `path` is what the gate Lambda packages. */
  readonly asset: TerraformAsset;
  /** The revision in the bundle manifest (`sha256:<hex>` of the policy sources for bundles built here). */
  readonly revision: string;
  /** Local path of the archive (what the functions that evaluate policy package). */
  readonly file: string;
  /** SHA-256 (hex) of the archive, which the gate can pin (`SUTURE_POLICY_BUNDLE_SHA256`). */
  readonly sha256: string;

  constructor(scope: Construct, id: string, props: PolicyBundleProps = {}) {
    super(scope, id);
    let file: string;
    if (props.prebuiltBundle) {
      file = props.prebuiltBundle;
      this.revision = parseBundle(readFileSync(file)).manifest.revision;
    } else {
      const defaults = defaultBundlePaths();
      const outFile = props.outFile ?? defaults.bundleFile;
      const policyDir = manifestRootsOnly(
        props.policyDir ?? defaults.policyDir,
        join(dirname(outFile), 'src'),
      );
      const built = buildPolicyBundle({ policyDir, outFile });
      file = built.file;
      this.revision = built.revision;
    }
    this.file = file;
    this.sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
    this.asset = new TerraformAsset(this, 'archive', { path: file, type: AssetType.FILE });
  }
}

/**
 * The folder to compile: `policyDir` itself when every Rego file lies under a root of its
 * `.manifest`, else a copy of just the manifest and its roots in `stageDir`. Other packages
 * (e.g. `suture/infra`, the checks of our own infrastructure) share `policies/` for the policy
 * CI but are not part of the remediation bundle; `opa build` refuses them, and they must not
 * change the bundle's revision.
 */
export function manifestRootsOnly(policyDir: string, stageDir: string): string {
  const manifestFile = join(policyDir, '.manifest');
  if (!existsSync(manifestFile)) return policyDir;
  const roots = manifestRoots(policyDir);
  const outside = listFiles(policyDir).filter(
    (path) =>
      (path.endsWith('.rego') || path.endsWith('.json')) && !underManifestRoot(roots, dirnamePosix(path)),
  );
  if (outside.length === 0) return policyDir;
  rmSync(stageDir, { recursive: true, force: true });
  mkdirSync(stageDir, { recursive: true });
  cpSync(manifestFile, join(stageDir, '.manifest'));
  for (const root of roots) {
    const source = join(policyDir, ...root.split('/'));
    if (existsSync(source)) cpSync(source, join(stageDir, ...root.split('/')), { recursive: true });
  }
  return stageDir;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'));
}

function dirnamePosix(path: string): string {
  const index = path.lastIndexOf('/');
  return index < 0 ? '' : path.slice(0, index);
}
