import { App, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { PolicyBundle } from './modules';

/** Example root stack: today it ships the compiled policy bundle and reports its revision. */
class SutureExampleStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const bundle = new PolicyBundle(this, 'policy');
    new TerraformOutput(this, 'policy_bundle_revision', {
      value: bundle.revision,
      description: 'SHA-256 of the policy sources compiled into the bundle',
    });
    new TerraformOutput(this, 'policy_bundle_path', {
      value: bundle.asset.path,
      description: 'Path of the compiled policy bundle inside the synthesised module',
    });
  }
}

const app = new App();
new SutureExampleStack(app, 'suture-example');
app.synth();
