/**
 * The promises the loop keeps whatever fails around it, checked on one simulated incident
 * from what the emulators and fakes saw (never from what a handler says it did):
 *
 * 1. it ends in a terminal state a human can see;
 * 2. no mutating CodePipeline, SSM, Step Functions or Git call is performed twice for one
 *    approved step (nor any without one);
 * 3. the audit chain verifies;
 * 4. no seeded secret appears in any output;
 * 5. a workflow that failed part-way, once redriven, ends without repeating a completed mutation.
 */

/** Outcomes a human sees: the incident is closed one way or another, on record. */
export const TERMINAL_OUTCOMES = [
  'resolved',
  'escalated',
  'duplicate',
  'ignored',
  'loop_detected',
  'dead_lettered',
] as const;

/** What the executor's actions do at the services, by action. */
export const MUTATION_OF_ACTION: Readonly<Record<string, string>> = {
  retry_stage: 'codepipeline:RetryStageExecution',
  rollback_stage: 'codepipeline:RollbackStage',
  start_pipeline_execution: 'codepipeline:StartPipelineExecution',
  stop_pipeline_execution: 'codepipeline:StopPipelineExecution',
  revert_parameter: 'ssm:PutParameter',
  redrive_execution: 'states:RedriveExecution',
  open_patch_proposal: 'git:pull request',
  revert_commit: 'git:pull request',
};

/** Outcomes whose last audit record was written by a function that seals the chain. */
const SEALED_OUTCOMES: readonly string[] = ['resolved', 'escalated', 'loop_detected'];

/** One step a policy decision allowed (or sent for approval), as the audit trail records it. */
export interface ApprovedStep {
  readonly action: string;
  readonly parameters: unknown;
}

/** The facts of one simulated incident that the invariants are checked on. */
export interface IncidentFacts {
  /** The outcome after any redrive. */
  readonly outcome: string;
  /** The workflow's status and the last state it ran (when a workflow ran), for the detail. */
  readonly workflow?: { readonly status: string; readonly lastState: string };
  /** The audit steps of the incident, in order. */
  readonly auditSteps: readonly string[];
  /** Whether the incident's audit chain verifies (true when there is no trail). */
  readonly chainOk: boolean;
  /** Whether the trail holds against its signed digests (false when there is none). */
  readonly sealed?: boolean;
  /** Steps the policy allowed or sent for approval, over every decision of the incident. */
  readonly approvedSteps: readonly ApprovedStep[];
  /** Mutations performed, counted at the emulators and fakes, by kind (MUTATION_OF_ACTION's values). */
  readonly mutations: Readonly<Record<string, number>>;
  /** Seeded secrets found in any output (logs, notifications, audit, evidence, prompts, pull requests). */
  readonly secretsFound: number;
  /** Redrives of the incident's failed workflow, with the mutations counted before the first. */
  readonly redrive?: {
    readonly count: number;
    readonly mutationsBefore: Readonly<Record<string, number>>;
  };
}

/** One invariant on one incident. */
export interface InvariantResult {
  readonly name: 'terminal_visible' | 'mutations_once' | 'audit_chain' | 'no_secrets' | 'redrive_safe';
  readonly ok: boolean;
  readonly detail: string;
}

function key(step: ApprovedStep): string {
  return JSON.stringify([step.action, step.parameters]);
}

/** How many distinct approved steps each kind of mutation may serve. */
export function allowedMutations(steps: readonly ApprovedStep[]): Record<string, number> {
  const distinct = new Map(steps.map((step) => [key(step), step]));
  const allowed: Record<string, number> = {};
  for (const step of distinct.values()) {
    const kind = MUTATION_OF_ACTION[step.action];
    if (kind) allowed[kind] = (allowed[kind] ?? 0) + 1;
  }
  return allowed;
}

/** Checks the five invariants on one incident. */
export function checkInvariants(facts: IncidentFacts): InvariantResult[] {
  const results: InvariantResult[] = [];
  const terminal = (TERMINAL_OUTCOMES as readonly string[]).includes(facts.outcome);
  const workflowEnded =
    !['resolved', 'escalated'].includes(facts.outcome) ||
    facts.auditSteps.includes(facts.outcome === 'resolved' ? 'resolved' : 'escalation');
  results.push({
    name: 'terminal_visible',
    ok: terminal && workflowEnded,
    detail: !terminal
      ? `ended ${facts.outcome}, not a terminal state`
      : !workflowEnded
        ? `ended ${facts.outcome} without its notification on the audit trail${
            facts.workflow ? ` (workflow ${facts.workflow.status} at ${facts.workflow.lastState})` : ''
          }; audit steps: ${facts.auditSteps.join(' → ') || 'none'}`
        : facts.outcome,
  });

  const allowed = allowedMutations(facts.approvedSteps);
  const excess = Object.entries(facts.mutations)
    .filter(([kind, count]) => count > (allowed[kind] ?? 0))
    .map(([kind, count]) => `${kind} ×${count} for ${allowed[kind] ?? 0} approved step(s)`);
  const performed = Object.entries(facts.mutations)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${kind} ×${count}`);
  results.push({
    name: 'mutations_once',
    ok: excess.length === 0,
    detail: excess.length > 0 ? excess.join('; ') : performed.join(', ') || 'no mutation',
  });

  // An incident that ended with a record (the workflow's notification, or loop_detected) was
  // sealed by the function that wrote it: its trail must hold against the signed digest.
  const sealRequired = facts.sealed !== undefined && SEALED_OUTCOMES.includes(facts.outcome);
  const sealOk = !sealRequired || facts.sealed === true;
  results.push({
    name: 'audit_chain',
    ok: facts.chainOk && sealOk,
    detail: !facts.chainOk
      ? 'the chain is broken'
      : !sealOk
        ? `ended ${facts.outcome} without a signed digest its trail holds against`
        : sealRequired
          ? 'verifies, and holds against its signed digest'
          : 'verifies',
  });
  results.push({
    name: 'no_secrets',
    ok: facts.secretsFound === 0,
    detail: facts.secretsFound === 0 ? 'none found' : `${facts.secretsFound} seeded secret(s) found`,
  });

  if (facts.redrive) {
    const repeated = Object.entries(facts.mutations)
      .filter(([kind, count]) => {
        const before = facts.redrive!.mutationsBefore[kind] ?? 0;
        return before > 0 && count > before;
      })
      .map(([kind]) => kind);
    results.push({
      name: 'redrive_safe',
      ok: terminal && repeated.length === 0,
      detail: !terminal
        ? `still ${facts.outcome} after ${facts.redrive.count} redrive(s)`
        : repeated.length > 0
          ? `the redrive repeated ${repeated.join(', ')}`
          : `ended ${facts.outcome} after ${facts.redrive.count} redrive(s), nothing repeated`,
    });
  }
  return results;
}
