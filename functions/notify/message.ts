import { describeIssues } from '../commons/policy-gate/schema';
import { redactText, redactValue } from '../commons/redact';
import {
  AttemptsSchema,
  CaughtErrorSchema,
  EvidenceSchema,
  ExecutionResultSchema,
  PlanSchema,
  ValidationResultSchema,
  WorkflowClassificationSchema,
  WorkflowIncidentSchema,
  ApprovalResultSchema,
  type Evidence,
  type WorkflowIncident,
} from '../commons/workflow/schema';
import { NotifyInputError } from './errors';
import { DecisionSchema, type NotificationKind } from './schema';

/**
 * Builds the one SNS message of a notification: a subject, a human-readable body and, at the
 * end of the body, the same facts as a JSON document for tools. Everything is redacted first
 * and then bounded, so truncation can never cut a secret in half and leave a prefix the
 * redaction rules no longer recognise.
 */

/** SNS's limit for a whole message (body, subject and attributes), 256 KiB. */
export const SNS_MESSAGE_MAX_BYTES = 256 * 1024;
/** What the body may use; the rest is left for the subject and message attributes. */
export const BODY_MAX_BYTES = SNS_MESSAGE_MAX_BYTES - 8 * 1024;
/** SNS subjects: ASCII, no line breaks, fewer than 100 characters. */
export const SUBJECT_MAX_CHARS = 99;
/** Line that separates the readable text from the JSON document in the body. */
export const DETAILS_MARKER = '--- details (JSON) ---';
/** `format` of the JSON document. */
export const DETAILS_FORMAT = 'suture.notification/v1';

/** Successive bounds tried until the body fits: longest string, longest list. */
const BOUNDS: ReadonlyArray<{ strings: number; items: number }> = [
  { strings: 8192, items: 50 },
  { strings: 2048, items: 20 },
  { strings: 512, items: 10 },
  { strings: 128, items: 5 },
];

/** The approval request part of an approval notification. */
export interface ApprovalRequestInfo {
  readonly approval_id: string;
  /** RFC 3339. */
  readonly expires_at: string;
  /** The approval function URL, when configured. */
  readonly url?: string;
  /** The actions of every step of the plan, in order: one approval covers them all. */
  readonly steps?: readonly string[];
  /** SHA-256 of the plan's steps (actions and parameters) the approval binds to. */
  readonly plan_sha256?: string;
}

/** The sections of the state document a notification shows, each validated on its own. */
export interface StateSections {
  readonly incident: WorkflowIncident;
  readonly sections: Readonly<Record<string, unknown>>;
  /** Sections present in the state but not matching their schema: `name: problem`. */
  readonly unreadable: readonly string[];
}

const SECTION_SCHEMAS = {
  attempts: AttemptsSchema,
  evidence: EvidenceSchema,
  classification: WorkflowClassificationSchema,
  plan: PlanSchema,
  decision: DecisionSchema,
  approval: ApprovalResultSchema,
  execution: ExecutionResultSchema,
  validation: ValidationResultSchema,
  error: CaughtErrorSchema,
} as const;

/**
 * Validates the state document section by section. The incident is required (it names the
 * audit trail); any other section that does not match its schema is left out and listed, so a
 * drifted section still lets the escalation reach a human.
 */
export function readState(state: Readonly<Record<string, unknown>>): StateSections {
  const incident = WorkflowIncidentSchema.safeParse(state.incident);
  if (!incident.success) {
    throw new NotifyInputError(`state.incident is invalid: ${describeIssues(incident.error)}`);
  }
  const sections: Record<string, unknown> = {};
  const unreadable: string[] = [];
  for (const [name, schema] of Object.entries(SECTION_SCHEMAS)) {
    if (state[name] === undefined) continue;
    const parsed = schema.safeParse(state[name]);
    if (parsed.success) sections[name] = parsed.data;
    else unreadable.push(`${name}: ${describeIssues(parsed.error)}`);
  }
  return { incident: incident.data, sections, unreadable };
}

function evidenceSummary(evidence: Evidence): Record<string, unknown> {
  return {
    pipeline_execution: evidence.pipeline_execution,
    failed_actions: evidence.failed_actions,
    ...(evidence.build ? { build: evidence.build } : {}),
    alarms: evidence.alarms,
    rollback_target: evidence.rollback_target,
    recent_failed_validations: evidence.recent_failed_validations,
    stage_protected: evidence.stage_protected,
    excerpt: evidence.excerpt,
    full_evidence: {
      uri: `s3://${evidence.object.bucket}/${evidence.object.key}`,
      sha256: evidence.object.sha256,
      bytes: evidence.object.bytes,
    },
  };
}

function decisionOutcome(decision: { allow: boolean; require_approval: boolean }): string {
  return decision.allow ? 'allow' : decision.require_approval ? 'require_approval' : 'deny';
}

/** The facts of a notification, before redaction: what the JSON document holds. */
export function notificationDetails(
  kind: NotificationKind,
  { incident, sections, unreadable }: StateSections,
  approvalRequest?: ApprovalRequestInfo,
): Record<string, unknown> {
  const plan = sections.plan as { proposal: unknown; then?: unknown[]; fallback_reason?: string } | undefined;
  const decision = sections.decision as
    | { allow: boolean; require_approval: boolean; mode: string; reasons: unknown; bundle_revision: string }
    | undefined;
  const details: Record<string, unknown> = {
    format: DETAILS_FORMAT,
    kind,
    incident: {
      id: incident.id,
      source: incident.source,
      state: incident.state,
      pipeline: incident.pipeline,
      stage: incident.stage,
      action: incident.action,
      execution_id: incident.execution_id,
      account: incident.account,
      region: incident.region,
      event_time: incident.event_time,
      detected_at: incident.detected_at,
      ...(incident.error_code ? { error_code: incident.error_code } : {}),
      ...(incident.summary ? { summary: incident.summary } : {}),
      ...(incident.alarm_name ? { alarm_name: incident.alarm_name } : {}),
      fingerprint: incident.fingerprint,
    },
  };
  if (sections.attempts) details.attempts = sections.attempts;
  if (sections.classification) details.classification = sections.classification;
  if (plan) {
    details.proposal = plan.proposal;
    if (plan.then && plan.then.length > 0) details.then = plan.then;
    if (plan.fallback_reason) details.fallback_reason = plan.fallback_reason;
  }
  if (decision) {
    details.decision = {
      outcome: decisionOutcome(decision),
      mode: decision.mode,
      reasons: decision.reasons,
      bundle_revision: decision.bundle_revision,
    };
  }
  if (sections.approval) details.approval = sections.approval;
  if (sections.execution) details.execution = sections.execution;
  if (sections.validation) details.validation = sections.validation;
  if (sections.error) details.error = sections.error;
  if (sections.evidence) details.evidence = evidenceSummary(sections.evidence as Evidence);
  if (approvalRequest) details.approval_request = approvalRequest;
  if (unreadable.length > 0) details.unreadable_sections = unreadable;
  return details;
}

/** Cuts strings, lists and objects down to the given sizes, saying what was cut. */
export function boundValue(value: unknown, bounds: { strings: number; items: number }): unknown {
  if (typeof value === 'string') {
    return value.length <= bounds.strings
      ? value
      : `${value.slice(0, bounds.strings)}… [${value.length - bounds.strings} more characters]`;
  }
  if (Array.isArray(value)) {
    const kept = value.slice(0, bounds.items).map((item) => boundValue(item, bounds));
    return value.length > bounds.items ? [...kept, `… [${value.length - bounds.items} more items]`] : kept;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    const limit = bounds.items * 2;
    const kept = entries.slice(0, limit).map(([key, item]) => [key, boundValue(item, bounds)]);
    if (entries.length > limit) kept.push(['…', `[${entries.length - limit} more keys]`]);
    return Object.fromEntries(kept);
  }
  return value;
}

type Json = Record<string, unknown>;
const asObject = (value: unknown): Json | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const asText = (value: unknown): string =>
  typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value);
const joined = (...parts: unknown[]): string =>
  parts
    .map(asText)
    .filter((part) => part !== '')
    .join(' ');

function approvalInstructions(request: Json): string[] {
  const id = asText(request.approval_id);
  const url = asText(request.url) || '<approval function URL>';
  const steps = asList(request.steps).map(asText);
  const scope =
    steps.length > 1
      ? [
          `One decision covers every step of the plan, in order: ${steps.map((step, i) => `${i + 1}. ${step}`).join(', ')}`,
          `(plan sha256 ${asText(request.plan_sha256)}); approving it approves them all, and nothing else.`,
        ]
      : [];
  return [
    ...scope,
    'To decide, run one of these with your own AWS credentials (the approval records your IAM identity):',
    `  suture approve ${id} --approve --url ${url} [--reason "why"]`,
    `  suture approve ${id} --reject --reason "why" --url ${url}`,
    `or POST {"approval_id": "${id}", "decision": "approve" | "reject", "reason": "…"} to the approval`,
    'function URL, signed with SigV4 (AuthType AWS_IAM).',
    `This request expires at ${asText(request.expires_at)}; without a decision the incident is escalated.`,
  ];
}

function headline(kind: NotificationKind, details: Json): string {
  const incident = asObject(details.incident) ?? {};
  const where = [incident.pipeline, incident.stage].map(asText).filter(Boolean).join('/');
  const action = [
    asObject(details.proposal)?.action,
    ...asList(details.then).map((step) => asObject(step)?.action),
  ]
    .map(asText)
    .filter(Boolean)
    .join(' then ');
  if (kind === 'approval') return `Approval needed: ${action || 'remediation'} on ${where}`;
  if (kind === 'resolved') return `Resolved: ${where}${action ? ` by ${action}` : ''}`;
  const failureClass = asText(asObject(details.classification)?.class);
  return `Escalated: ${where}${failureClass ? ` (${failureClass})` : ''} needs a human`;
}

const INTRO: Readonly<Record<NotificationKind, string>> = {
  approval: 'Suture proposes a repair that its policy allows only with a human approval.',
  escalation: 'Suture will not repair this failure automatically; a human owns it now.',
  resolved: 'Suture repaired this failure and the validation found the pipeline healthy.',
};

/** The readable part of the body, from redacted and bounded details. */
function renderText(kind: NotificationKind, details: Json): string {
  const lines: string[] = [headline(kind, details), '', INTRO[kind], ''];
  const incident = asObject(details.incident) ?? {};
  lines.push(
    `Incident:   ${asText(incident.id)}`,
    `Pipeline:   ${joined(incident.pipeline, incident.stage && `stage ${asText(incident.stage)}`, incident.action && `action ${asText(incident.action)}`)}`,
    `Execution:  ${joined(incident.execution_id, `(${asText(incident.source)} ${asText(incident.state)})`, 'in', incident.account, incident.region)}`,
  );
  if (incident.error_code || incident.summary)
    lines.push(`Failure:    ${joined(incident.error_code, incident.summary)}`);
  if (incident.alarm_name) lines.push(`Alarm:      ${asText(incident.alarm_name)}`);
  lines.push(`Detected:   ${asText(incident.detected_at)} (event at ${asText(incident.event_time)})`);
  const attempts = asObject(details.attempts);
  if (attempts) {
    lines.push(
      `Attempts:   ${asText(attempts.fingerprint_24h)} for this failure in 24 h, ${asText(attempts.pipeline_1h)} on this pipeline in 1 h`,
    );
  }
  const classification = asObject(details.classification);
  if (classification) {
    lines.push(
      '',
      `Classification: ${asText(classification.class)} (confidence ${asText(classification.confidence)}${classification.signature ? `, signature ${asText(classification.signature)}` : ''})`,
    );
    if (classification.matched_line) lines.push(`  matched: ${asText(classification.matched_line)}`);
  }
  const proposal = asObject(details.proposal);
  if (proposal) {
    lines.push(
      '',
      `Proposal:   ${asText(proposal.action)} (${asText(proposal.source)}, confidence ${asText(proposal.confidence)})`,
      `  rationale:  ${asText(proposal.rationale)}`,
      `  parameters: ${asText(proposal.parameters)}`,
    );
  }
  for (const [i, item] of asList(details.then).entries()) {
    const step = asObject(item);
    if (!step) continue;
    lines.push(
      `Then (step ${i + 2}): ${asText(step.action)} (${asText(step.source)}, confidence ${asText(step.confidence)})`,
      `  rationale:  ${asText(step.rationale)}`,
      `  parameters: ${asText(step.parameters)}`,
    );
  }
  if (details.fallback_reason) lines.push(`  fallback:   ${asText(details.fallback_reason)}`);
  const decision = asObject(details.decision);
  if (decision) {
    lines.push(
      '',
      `Policy decision: ${asText(decision.outcome)} (mode ${asText(decision.mode)}, bundle ${asText(decision.bundle_revision)})`,
      ...asList(decision.reasons).map((reason) => {
        const r = asObject(reason);
        return r ? `  - ${asText(r.code)}: ${asText(r.msg)}` : `  ${asText(reason)}`;
      }),
    );
  }
  const approval = asObject(details.approval);
  if (approval) {
    lines.push(
      `Approval:   ${approval.approved ? 'approved' : 'not approved'} by ${asText(approval.approver)} at ${asText(approval.at)}`,
    );
  }
  const execution = asObject(details.execution);
  if (execution) {
    const steps = asList(execution.steps).map(asObject);
    const performed = steps.length > 0 && steps.every(Boolean) ? (steps as Json[]) : [execution];
    for (const [i, step] of performed.entries()) {
      lines.push(
        `${performed.length > 1 ? `Step ${i + 1}:    ` : 'Repair:     '}${joined(step.action, step.outcome, step.pipeline_execution_id && `(execution ${asText(step.pipeline_execution_id)})`, 'at', step.at)}`,
      );
    }
  }
  const validation = asObject(details.validation);
  if (validation) {
    lines.push(
      `Validation: ${validation.healthy ? 'healthy' : 'NOT healthy'} at ${asText(validation.checked_at)}`,
      `  observed: ${asText(validation.observed)}`,
    );
  }
  const error = asObject(details.error);
  if (error) lines.push('', `Error:      ${asText(error.Error)}`, `  cause: ${asText(error.Cause)}`);
  const request = asObject(details.approval_request);
  if (request) lines.push('', ...approvalInstructions(request));
  const evidence = asObject(details.evidence);
  if (evidence) {
    lines.push('', 'Evidence (redacted):');
    for (const failed of asList(evidence.failed_actions)) {
      const f = asObject(failed);
      lines.push(
        f
          ? `  failed: ${joined(`${asText(f.stage)}/${asText(f.action)}`, f.status, f.error_code, f.summary)}`
          : `  ${asText(failed)}`,
      );
    }
    const build = asObject(evidence.build);
    if (build) lines.push(`  build: ${joined(build.id, build.status)}`);
    for (const alarm of asList(evidence.alarms)) {
      const a = asObject(alarm);
      lines.push(a ? `  alarm: ${joined(a.name, a.state, a.reason)}` : `  ${asText(alarm)}`);
    }
    const rollback = asObject(evidence.rollback_target);
    lines.push(`  rollback target: ${rollback ? asText(rollback.execution_id) : 'none'}`);
    lines.push(`  stage protected: ${asText(evidence.stage_protected)}`);
    const full = asObject(evidence.full_evidence);
    if (full) lines.push(`  full evidence: ${joined(full.uri, `(sha256 ${asText(full.sha256)})`)}`);
    const excerpt = asText(evidence.excerpt);
    if (excerpt) {
      lines.push('  log excerpt:', ...excerpt.split('\n').map((line) => `    | ${line}`));
    }
  }
  const unreadable = asList(details.unreadable_sections);
  if (unreadable.length > 0) {
    lines.push('', 'State sections left out (they do not match their schema):');
    lines.push(...unreadable.map((entry) => `  - ${asText(entry)}`));
  }
  return lines.join('\n');
}

function renderBody(kind: NotificationKind, details: Json): string {
  return `${renderText(kind, details)}\n\n${DETAILS_MARKER}\n${JSON.stringify(details, null, 2)}\n`;
}

/** An SNS subject: redacted, printable ASCII, one line, under 100 characters. */
export function snsSubject(text: string): string {
  const ascii = redactText(text)
    .text.replace(/[^\x20-\x7E]/g, '?')
    .trim();
  return ascii.length <= SUBJECT_MAX_CHARS ? ascii : `${ascii.slice(0, SUBJECT_MAX_CHARS - 3)}...`;
}

/** A composed notification. */
export interface ComposedMessage {
  readonly subject: string;
  readonly body: string;
  /** The redacted details as they were published (before bounding). */
  readonly details: Json;
  /** Number of values redaction replaced. */
  readonly redactions: number;
  /** True when the first bounds did not fit and tighter ones cut more to stay under SNS's limit. */
  readonly truncated: boolean;
}

/**
 * Redacts the details, then renders subject and body under {@link BODY_MAX_BYTES}, cutting
 * long strings and lists harder on each pass. The approval instructions are never cut: the
 * last resort keeps them with the incident's identity only.
 */
export function composeMessage(kind: NotificationKind, rawDetails: Json): ComposedMessage {
  const { value, report } = redactValue(rawDetails);
  const details = value as Json;
  const subject = snsSubject(`[Suture] ${headline(kind, details)}`);
  for (const [pass, bounds] of BOUNDS.entries()) {
    const bounded = boundValue(details, bounds) as Json;
    const body = renderBody(kind, bounded);
    if (Buffer.byteLength(body, 'utf8') <= BODY_MAX_BYTES) {
      return { subject, body, details, redactions: report.total, truncated: pass > 0 };
    }
  }
  const incident = asObject(details.incident) ?? {};
  const minimal: Json = {
    format: DETAILS_FORMAT,
    kind,
    incident: { id: incident.id, pipeline: incident.pipeline, stage: incident.stage },
    ...(details.approval_request ? { approval_request: details.approval_request } : {}),
    truncated: 'the details did not fit an SNS message; see the audit trail and the evidence object',
  };
  const body = renderBody(kind, minimal);
  return { subject, body, details, redactions: report.total, truncated: true };
}
