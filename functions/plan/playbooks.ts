/**
 * Playbooks: one deterministic remediation per failure class, as data (`playbooks.json`).
 * Parameter values may hold `{{variable}}` placeholders filled from the state document; a
 * placeholder whose value is missing or empty makes the playbook inapplicable (the plan then
 * escalates), so a playbook never proposes a half-filled action.
 */
import { describeIssues } from '../commons/policy-gate/schema';
import type { FailureClass } from '../commons/classify/schema';
import { classActions, isKnownAction, typedParametersSchema } from './actions';
import { PlaybookFileError } from './errors';
import playbookData from './playbooks.json';
import { PlaybookFileSchema, type PlanInput, type Playbook, type PlaybookFile } from './schema';

const PLACEHOLDER = /\{\{\s*([a-z_.]+)\s*\}\}/g;

/** The facts a playbook may refer to, by placeholder name. */
export function playbookVariables(input: PlanInput): Readonly<Record<string, string | undefined>> {
  return {
    'incident.pipeline': input.incident.pipeline,
    'incident.stage': input.incident.stage,
    'incident.action': input.incident.action,
    'incident.execution_id': input.incident.execution_id,
    'evidence.rollback_target.execution_id': input.evidence.rollback_target?.execution_id,
    'classification.class': input.classification.class,
  };
}

const VARIABLE_NAMES: ReadonlySet<string> = new Set([
  'incident.pipeline',
  'incident.stage',
  'incident.action',
  'incident.execution_id',
  'evidence.rollback_target.execution_id',
  'classification.class',
]);

function placeholders(value: unknown): string[] {
  return typeof value === 'string' ? [...value.matchAll(PLACEHOLDER)].map((match) => match[1]!) : [];
}

/**
 * Validates a playbook file against itself and the policy data: every class has a playbook,
 * every action exists and is allowed for its class, every placeholder is known, and the
 * literal parameters (with placeholders standing in for valid strings) fit the action's schema.
 *
 * @throws PlaybookFileError naming the class and the problem.
 */
export function parsePlaybooks(data: unknown): PlaybookFile {
  const parsed = PlaybookFileSchema.safeParse(data);
  if (!parsed.success) throw new PlaybookFileError(`invalid playbooks: ${describeIssues(parsed.error)}`);
  const problems: string[] = [];
  for (const [failureClass, playbook] of Object.entries(parsed.data) as Array<[FailureClass, Playbook]>) {
    if (!isKnownAction(playbook.action)) {
      problems.push(`${failureClass}: action ${playbook.action} is not an action of the policy data`);
      continue;
    }
    if (!classActions(failureClass).includes(playbook.action)) {
      problems.push(`${failureClass}: the policy does not allow ${playbook.action} for this class`);
    }
    for (const [name, value] of Object.entries(playbook.parameters)) {
      for (const variable of placeholders(value)) {
        if (!VARIABLE_NAMES.has(variable))
          problems.push(`${failureClass}: parameter ${name} uses unknown {{${variable}}}`);
      }
    }
    const sample = Object.fromEntries(
      Object.entries(playbook.parameters).map(([name, value]) => [
        name,
        typeof value === 'string' ? value.replace(PLACEHOLDER, 'x') : value,
      ]),
    );
    const checked = typedParametersSchema(playbook.action).safeParse(sample);
    if (!checked.success) problems.push(`${failureClass}: ${describeIssues(checked.error)}`);
  }
  if (problems.length > 0) throw new PlaybookFileError(`invalid playbooks: ${problems.join('; ')}`);
  return parsed.data;
}

/** The playbooks shipped with the function, validated when the module loads. */
export const PLAYBOOKS: PlaybookFile = parsePlaybooks(playbookData);

/** A playbook filled in for one incident, or the fact it needs and does not have. */
export type ResolvedPlaybook =
  | { readonly ok: true; readonly action: string; readonly parameters: Record<string, unknown> }
  | { readonly ok: false; readonly missing: string };

/** Fills a playbook's placeholders from the state document. */
export function resolvePlaybook(playbook: Playbook, input: PlanInput): ResolvedPlaybook {
  const variables = playbookVariables(input);
  const parameters: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(playbook.parameters)) {
    if (typeof value !== 'string') {
      parameters[name] = value;
      continue;
    }
    for (const variable of placeholders(value)) {
      const filled = variables[variable];
      if (filled === undefined || filled === '') return { ok: false, missing: variable };
    }
    parameters[name] = value.replace(PLACEHOLDER, (_match, variable: string) => variables[variable]!);
  }
  return { ok: true, action: playbook.action, parameters };
}
