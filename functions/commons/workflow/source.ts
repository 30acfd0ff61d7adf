import type { SourceEvidence } from './schema';

/** `input.context.source` of the policy (docs/policy.md): the facts its source-control rules read. */
export interface SourceContext {
  readonly provider: string;
  readonly repository?: string;
  readonly branch?: string;
  readonly revision?: string;
  readonly last_success_revision?: string;
}

/** The policy's view of `$.evidence.source`; undefined when the evidence has none. */
export function sourceContext(source: SourceEvidence | null | undefined): SourceContext | undefined {
  if (!source) return undefined;
  return {
    provider: source.provider,
    ...(source.repository ? { repository: source.repository } : {}),
    ...(source.branch ? { branch: source.branch } : {}),
    ...(source.revision ? { revision: source.revision } : {}),
    ...(source.last_success ? { last_success_revision: source.last_success.revision } : {}),
  };
}
