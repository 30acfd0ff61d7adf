import { AssetType, TerraformAsset } from 'cdktf';
import { readFileSync } from 'node:fs';
import { Construct } from 'constructs';
import { buildPolicyBundle, defaultBundlePaths } from '../cli/policy/build';
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

  constructor(scope: Construct, id: string, props: PolicyBundleProps = {}) {
    super(scope, id);
    let file: string;
    if (props.prebuiltBundle) {
      file = props.prebuiltBundle;
      this.revision = parseBundle(readFileSync(file)).manifest.revision;
    } else {
      const defaults = defaultBundlePaths();
      const policyDir = props.policyDir ?? defaults.policyDir;
      const built = buildPolicyBundle({ policyDir, outFile: props.outFile ?? defaults.bundleFile });
      file = built.file;
      this.revision = built.revision;
    }
    this.asset = new TerraformAsset(this, 'archive', { path: file, type: AssetType.FILE });
  }
}
