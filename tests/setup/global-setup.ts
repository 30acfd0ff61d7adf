/**
 * Jest global setup: builds the real policy bundle once per run so every test loads the
 * same WebAssembly that `npm run build` produces.
 */
import { buildPolicyBundle, defaultBundlePaths } from '../../cli/policy/build';

export default async function globalSetup(): Promise<void> {
  const paths = defaultBundlePaths();
  await buildPolicyBundle({ policyDir: paths.policyDir, outFile: paths.bundleFile });
}
