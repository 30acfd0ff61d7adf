import { createHash } from 'node:crypto';
import type { Plan, PlanStepSummary, Proposal } from './schema';

/**
 * A plan's steps and the digest that binds an approval to them. A plan is its proposal (the
 * first step) and the follow-up steps in `then`, run in that order; one approval covers them
 * all, so the approval carries each step's action and exact parameters (and their SHA-256),
 * and neither the policy nor the executor accepts it for any other plan.
 */

/** Every step of `plan`, in the order they run. */
export function planSteps(plan: Pick<Plan, 'proposal' | 'then'>): Proposal[] {
  return [plan.proposal, ...(plan.then ?? [])];
}

/** What an approval binds of each step: the action and its exact parameters. */
export function planSummary(plan: Pick<Plan, 'proposal' | 'then'>): PlanStepSummary[] {
  return planSteps(plan).map((step) => ({ action: step.action, parameters: step.parameters }));
}

/** JSON with object keys sorted at every depth, so equal values always serialise alike. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(
          Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : item,
  );
}

/** SHA-256 (hex) of the canonical JSON of a plan's steps: the digest an approval records. */
export function planDigest(steps: readonly PlanStepSummary[]): string {
  return createHash('sha256').update(canonicalJson(steps)).digest('hex');
}
