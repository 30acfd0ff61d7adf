/**
 * Jest global setup: builds the real policy bundle once per run, so every test loads the same
 * WebAssembly that `npm run build` produces; synthesises the Terraform module once, for the
 * tests that deploy it to the local loop; and starts the local AWS emulator (moto) that the
 * integration tests' real AWS SDK clients talk to.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPolicyBundle, defaultBundlePaths } from '../../cli/policy/build';
import { startMoto } from '../../local/moto/server';
import { synthesizeModule } from '../../modules/module-synth';

export default async function globalSetup(): Promise<void> {
  const paths = defaultBundlePaths();
  buildPolicyBundle({ policyDir: paths.policyDir, outFile: paths.bundleFile });
  const scratch = mkdtempSync(join(tmpdir(), 'suture-test-module-'));
  const moto = await startMoto();
  // Workers are started after global setup and inherit this environment.
  process.env.SUTURE_TEST_AWS_ENDPOINT = moto.endpoint;
  process.env.SUTURE_TEST_MOTO_PID = String(moto.pid);
  process.env.SUTURE_TEST_MODULE_SCRATCH = scratch;
  process.env.SUTURE_TEST_MODULE_DIR = synthesizeModule(join(scratch, 'module')).dir;
}
