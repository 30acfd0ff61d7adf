import type { GateDecision, PolicyGate } from '../../functions/commons/policy-gate';
import type { ReplayCase } from './incidents';

/** What a decision lets Suture do: act now, act once a human approves, or nothing. */
export type Outcome = 'allow' | 'approval' | 'deny';

/** More autonomy ranks higher: a candidate outcome above the baseline's widens autonomy. */
export const OUTCOME_RANK: Readonly<Record<Outcome, number>> = { deny: 0, approval: 1, allow: 2 };

/** The outcome of a decision (both flags false is a deny). */
export function outcomeOf(decision: Pick<GateDecision, 'allow' | 'require_approval'>): Outcome {
  return decision.allow ? 'allow' : decision.require_approval ? 'approval' : 'deny';
}

/** The parts of a decision replay compares. */
export interface DecisionSummary {
  readonly outcome: Outcome;
  readonly mode: string;
  /** Distinct reason codes, sorted. */
  readonly codes: string[];
}

/**
 * How the candidate's decision differs from the baseline's: `wider` and `narrower` change the
 * outcome (more or less autonomy), `reasons` keeps the outcome but changes the reason codes or
 * the mode.
 */
export type ChangeKind = 'wider' | 'narrower' | 'reasons' | 'unchanged';

/** One case decided by both bundles. */
export interface ReplayResult {
  readonly id: string;
  readonly ref: string;
  readonly action: string;
  readonly baseline: DecisionSummary;
  readonly candidate: DecisionSummary;
  readonly kind: ChangeKind;
  /** Codes the candidate gives that the baseline does not. */
  readonly added: string[];
  /** Codes the baseline gives that the candidate does not. */
  readonly removed: string[];
  readonly recorded?: Outcome;
}

/** Counts of a replay. */
export interface ReplaySummary {
  readonly decisions: number;
  readonly wider: number;
  readonly narrower: number;
  readonly reasons: number;
  readonly unchanged: number;
}

function summarise(decision: GateDecision): DecisionSummary {
  return {
    outcome: outcomeOf(decision),
    mode: decision.mode,
    codes: [...new Set(decision.reasons.map((reason) => reason.code))].sort(),
  };
}

/** Decides one case with both bundles and classifies the difference. */
export function replayCase(replay: ReplayCase, baseline: PolicyGate, candidate: PolicyGate): ReplayResult {
  const before = summarise(baseline.decide(replay.input));
  const after = summarise(candidate.decide(replay.input));
  const added = after.codes.filter((code) => !before.codes.includes(code));
  const removed = before.codes.filter((code) => !after.codes.includes(code));
  const rankDelta = OUTCOME_RANK[after.outcome] - OUTCOME_RANK[before.outcome];
  const kind: ChangeKind =
    rankDelta > 0
      ? 'wider'
      : rankDelta < 0
        ? 'narrower'
        : added.length > 0 || removed.length > 0 || before.mode !== after.mode
          ? 'reasons'
          : 'unchanged';
  return {
    id: replay.id,
    ref: replay.ref,
    action: replay.input.proposal.action,
    baseline: before,
    candidate: after,
    kind,
    added,
    removed,
    ...(replay.recorded ? { recorded: replay.recorded } : {}),
  };
}

/** Replays every case, ordered by incident id, then by where it was recorded. */
export function replayAll(
  cases: readonly ReplayCase[],
  baseline: PolicyGate,
  candidate: PolicyGate,
): ReplayResult[] {
  return [...cases]
    .sort((a, b) => compareText(a.id, b.id) || compareText(a.ref, b.ref))
    .map((replay) => replayCase(replay, baseline, candidate));
}

/** Counts the results by kind. */
export function summariseResults(results: readonly ReplayResult[]): ReplaySummary {
  const count = (kind: ChangeKind) => results.filter((result) => result.kind === kind).length;
  return {
    decisions: results.length,
    wider: count('wider'),
    narrower: count('narrower'),
    reasons: count('reasons'),
    unchanged: count('unchanged'),
  };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
