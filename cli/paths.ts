// The CLI's view of tooling/paths.ts (the layer modules/ and cli/ share; docs/architecture.md).
export { repoRoot } from '../tooling/paths';
