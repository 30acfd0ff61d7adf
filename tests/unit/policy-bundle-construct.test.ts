import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TerraformOutput, TerraformStack, Testing } from 'cdktf';
import { computeRevision, defaultBundlePaths } from '../../cli/policy/build';
import { PolicyBundle } from '../../modules';

describe('PolicyBundle construct', () => {
  it('compiles the policy at synth and ships the archive as an asset named by its content', () => {
    // Prepare
    const app = Testing.app();
    const stack = new TerraformStack(app, 'test');
    const bundle = new PolicyBundle(stack, 'policy');
    new TerraformOutput(stack, 'revision', { value: bundle.revision });

    // Act
    const outdir = Testing.fullSynth(stack);

    // Assess
    expect(bundle.revision).toBe(computeRevision(defaultBundlePaths().policyDir));
    const assetsDir = join(outdir, 'stacks', 'test', 'assets');
    expect(existsSync(assetsDir)).toBe(true);
    const shipped = readdirSync(assetsDir, { recursive: true }).map(String);
    expect(shipped.some((path) => path.endsWith('bundle.tar.gz'))).toBe(true);
  });

  it('takes a prebuilt archive without compiling anything and reports its manifest revision', () => {
    // Prepare
    const app = Testing.app();
    const stack = new TerraformStack(app, 'prebuilt');

    // Act
    const bundle = new PolicyBundle(stack, 'policy', { prebuiltBundle: defaultBundlePaths().bundleFile });

    // Assess
    expect(bundle.revision).toBe(computeRevision(defaultBundlePaths().policyDir));
    expect(bundle.asset.path).toContain('bundle.tar.gz');
  });
});
