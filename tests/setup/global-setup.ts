/**
 * Jest global setup: builds the real policy bundle once per run, so every test loads the same
 * WebAssembly that `npm run build` produces, and starts the local AWS emulator (moto) that the
 * integration tests' real AWS SDK clients talk to.
 */
import { buildPolicyBundle, defaultBundlePaths } from '../../cli/policy/build';
import { startMoto } from '../../local/moto/server';

export default async function globalSetup(): Promise<void> {
  const paths = defaultBundlePaths();
  buildPolicyBundle({ policyDir: paths.policyDir, outFile: paths.bundleFile });
  const moto = await startMoto();
  // Workers are started after global setup and inherit this environment.
  process.env.SUTURE_TEST_AWS_ENDPOINT = moto.endpoint;
  process.env.SUTURE_TEST_MOTO_PID = String(moto.pid);
}
