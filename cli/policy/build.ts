// The CLI's view of tooling/policy-build.ts (the layer modules/ and cli/ share; docs/architecture.md).
export {
  buildPolicyBundle,
  computeRevision,
  defaultBundlePaths,
  opaCommand,
  type BuildPolicyBundleOptions,
  type BuiltBundle,
} from '../../tooling/policy-build';
