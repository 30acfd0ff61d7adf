import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { verifyChain, type AuditRecord } from '../../functions/commons/audit';
import { DIGEST_FORMAT } from '../../functions/commons/audit/digest';
import { describeIssues, GateInputSchema, type GateInput } from '../../functions/commons/policy-gate';
import { UsageError } from '../errors';
import { outcomeOf, type Outcome } from './compare';

/** One recorded decision moment to decide again. */
export interface ReplayCase {
  /** The incident id (`input.incident.id`); cases are reported in this order. */
  readonly id: string;
  /** Where the case came from: the file relative to the incidents directory, plus `#seq N` or `[i]`. */
  readonly ref: string;
  /** The policy input exactly as recorded (`context.now` included). */
  readonly input: GateInput;
  /** The outcome recorded at the time, when the source holds it (audit exports do). */
  readonly recorded?: Outcome;
}

/** Everything read from an incidents directory. */
export interface LoadedIncidents {
  readonly cases: ReplayCase[];
  /** How many files were read. */
  readonly files: number;
  /** Things worth telling the user that are not errors (skipped files, chains without decisions). */
  readonly notes: string[];
}

const JSON_EXTENSIONS = new Set(['.json', '.jsonl']);
const YAML_EXTENSIONS = new Set(['.yaml', '.yml']);

const SHAPES =
  'expected a policy input {incident, proposal, context}, an audit export (a JSON array or JSON Lines of audit records), a scenario with gate_input or incidents, or a suture simulate scenario (name, failure, …)';

/** A signed audit digest (docs/audit.md): read by `suture audit verify --digest`, not replayed. */
function isAuditDigest(document: unknown): boolean {
  return isObject(document) && document.format === DIGEST_FORMAT;
}

/** A `suture simulate` scenario among the incidents: `file` as found, `ref` relative to the directory. */
export interface ScenarioFile {
  readonly file: string;
  readonly ref: string;
}

/** Runs scenario files through the local loop and returns each file's audit trail (absent: no incident). */
export type ScenarioRecorder = (
  scenarios: readonly ScenarioFile[],
) => Promise<ReadonlyMap<string, readonly AuditRecord[]>>;

/** Options of {@link loadIncidents}. */
export interface LoadIncidentsOptions {
  /**
   * Records the decisions of `suture simulate` scenarios (YAML, or JSON with `name` and
   * `failure`), which hold no policy input of their own. Without it they are skipped with a note.
   */
  readonly recordScenarios?: ScenarioRecorder;
}

/**
 * Reads every `.json` / `.jsonl` file under `dir` (and `.yaml` / `.yml` scenario files;
 * recursively, hidden entries skipped, in sorted order) and turns each into replay cases by
 * its shape. Any file that is not one of the recognised shapes is a {@link UsageError} naming
 * the file.
 */
export async function loadIncidents(
  dir: string,
  options: LoadIncidentsOptions = {},
): Promise<LoadedIncidents> {
  const stats = await stat(dir).catch(() => undefined);
  if (!stats) throw new UsageError(`incidents directory ${dir} does not exist`);
  if (!stats.isDirectory()) throw new UsageError(`--incidents ${dir} is not a directory`);

  const notes: string[] = [];
  const cases: ReplayCase[] = [];
  const scenarios: ScenarioFile[] = [];
  let files = 0;
  for (const file of await listFiles(dir)) {
    const extension = extname(file).toLowerCase();
    const ref = relative(dir, file).split(sep).join('/');
    if (YAML_EXTENSIONS.has(extension)) {
      files += 1;
      scenarios.push({ file, ref });
      continue;
    }
    if (!JSON_EXTENSIONS.has(extension)) continue;
    const document = parseDocument(await readText(file), file);
    // The signed digests `suture simulate --audit-out` writes beside the trails hold no decision.
    if (isAuditDigest(document)) continue;
    files += 1;
    if (isSimulateScenario(document)) scenarios.push({ file, ref });
    else cases.push(...casesOf(document, file, ref, notes));
  }
  const record = options.recordScenarios;
  if (scenarios.length > 0 && !record) {
    for (const { file } of scenarios) {
      notes.push(`${file}: skipped (a simulate scenario; replay the audit export of its run instead)`);
    }
  } else if (scenarios.length > 0 && record) {
    const trails = await record(scenarios);
    for (const { file, ref } of scenarios) {
      const records = trails.get(file);
      if (!records || records.length === 0) {
        notes.push(`${file}: the scenario opened no incident in the local loop; nothing to replay`);
        continue;
      }
      cases.push(...auditCases([...records], file, `${ref} (simulated)`, notes));
    }
  }
  if (files === 0) throw new UsageError(`${dir} holds no .json, .jsonl or scenario (.yaml) files`);
  return { cases, files, notes };
}

async function listFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const visit = async (current: string): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true });
    for (const entry of entries.sort((a, b) => compare(a.name, b.name))) {
      if (entry.name.startsWith('.')) continue;
      const path = join(current, entry.name);
      if (entry.isDirectory()) await visit(path);
      else if (entry.isFile()) found.push(path);
    }
  };
  await visit(dir);
  return found;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

/** JSON, or JSON Lines (one audit record per line, as `suture audit verify` reads). */
function parseDocument(text: string, file: string): unknown {
  const lines = () => text.split('\n').filter((line) => line.trim() !== '');
  if (extname(file).toLowerCase() === '.jsonl') return parseLines(lines(), file);
  try {
    return JSON.parse(text);
  } catch (error) {
    const all = lines();
    if (all.length > 1 && isJsonObject(all[0]!)) return parseLines(all, file);
    throw new UsageError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}

function parseLines(lines: string[], file: string): unknown[] {
  return lines.map((line, index) => {
    try {
      return JSON.parse(line) as unknown;
    } catch (error) {
      throw new UsageError(`${file} line ${index + 1} is not valid JSON: ${(error as Error).message}`);
    }
  });
}

function isJsonObject(line: string): boolean {
  try {
    return isObject(JSON.parse(line));
  } catch {
    return false;
  }
}

function casesOf(document: unknown, file: string, ref: string, notes: string[]): ReplayCase[] {
  if (Array.isArray(document)) {
    if (document.length === 0) throw new UsageError(`${file} is an empty array: ${SHAPES}`);
    const bad = document.findIndex((item) => !isAuditRecord(item));
    if (bad !== -1) {
      throw new UsageError(
        `${file} is not a recorded incident: element ${bad} is not an audit record {incident_id, seq, step, data}; ${SHAPES}`,
      );
    }
    return auditCases(document as AuditRecord[], file, ref, notes);
  }
  if (!isObject(document)) throw new UsageError(`${file} is not a recorded incident: ${SHAPES}`);
  if ('gate_input' in document) {
    return [gateInputCase(document.gate_input, `${file} gate_input`, ref)];
  }
  if ('incidents' in document) {
    if (!Array.isArray(document.incidents) || document.incidents.length === 0) {
      throw new UsageError(`${file} incidents must be a non-empty array of policy inputs`);
    }
    return document.incidents.map((input, index) =>
      gateInputCase(input, `${file} incidents[${index}]`, `${ref}[${index}]`),
    );
  }
  if (isAuditRecord(document)) return auditCases([document], file, ref, notes);
  if ('incident' in document || 'proposal' in document || 'context' in document) {
    return [gateInputCase(document, file, ref)];
  }
  throw new UsageError(`${file} is not a recorded incident: ${SHAPES}`);
}

/** A `suture simulate` scenario (it has a name and a failure, and no policy input of its own). */
function isSimulateScenario(document: unknown): boolean {
  return (
    isObject(document) &&
    'name' in document &&
    'failure' in document &&
    !('gate_input' in document) &&
    !('incidents' in document)
  );
}

function gateInputCase(value: unknown, source: string, ref: string): ReplayCase {
  const parsed = GateInputSchema.safeParse(value);
  if (!parsed.success) {
    throw new UsageError(`${source} is not a usable policy input: ${describeIssues(parsed.error)}`);
  }
  return { id: parsed.data.incident.id, ref, input: parsed.data };
}

/**
 * One case per `policy_decision` record. Its data holds `{decision, proposal, context}` and,
 * when the gate recorded it, `incident`; otherwise the incident is rebuilt the way the plan
 * function builds it: the `triage` record's incident with the `classify` record's class,
 * confidence and signature.
 */
function auditCases(records: AuditRecord[], file: string, ref: string, notes: string[]): ReplayCase[] {
  const byIncident = new Map<string, AuditRecord[]>();
  for (const record of records) {
    byIncident.set(record.incident_id, [...(byIncident.get(record.incident_id) ?? []), record]);
  }
  const cases: ReplayCase[] = [];
  for (const [incidentId, chain] of [...byIncident].sort(([a], [b]) => compare(a, b))) {
    const ordered = [...chain].sort((a, b) => a.seq - b.seq);
    const verification = verifyChain(ordered);
    if (!verification.ok) {
      notes.push(
        `${file}: the audit chain of ${incidentId} is broken (${verification.breaks
          .map((item) => `seq ${item.seq}: ${item.reason}`)
          .join('; ')}); replayed as recorded`,
      );
    }
    const decisions = ordered.filter((record) => record.step === 'policy_decision');
    if (decisions.length === 0) {
      notes.push(`${file}: incident ${incidentId} has no policy_decision record; nothing to replay`);
      continue;
    }
    for (const record of decisions) {
      const where = `${file} policy_decision (incident ${incidentId}, seq ${record.seq})`;
      const before = ordered.filter((other) => other.seq < record.seq);
      const data = isObject(record.data) ? record.data : {};
      const input = {
        incident: data.incident ?? rebuildIncident(before, where),
        proposal: data.proposal ?? latestData(before, 'plan')?.proposal,
        ...(data.then !== undefined ? { then: data.then } : {}),
        context: data.context,
      };
      const replayCase = gateInputCase(input, where, `${ref}#seq ${record.seq}`);
      const recorded = recordedOutcome(data.decision);
      cases.push(recorded ? { ...replayCase, recorded } : replayCase);
    }
  }
  return cases;
}

/** Incident fields the plan function puts into the policy input, in its order. */
const GATE_INCIDENT_FIELDS = [
  'id',
  'source',
  'pipeline',
  'stage',
  'action',
  'execution_id',
  'account',
  'region',
  'class',
  'confidence',
  'signature',
  'fingerprint',
  'event_time',
  'detected_at',
  'error_code',
  'provider',
  'category',
  'alarm_name',
] as const;

function rebuildIncident(before: AuditRecord[], where: string): Record<string, unknown> {
  const triage = latestData(before, 'triage')?.incident;
  const classification = latestData(before, 'classify')?.classification;
  if (!isObject(triage) || !isObject(classification)) {
    const missing = !isObject(triage) ? 'triage' : 'classify';
    throw new UsageError(
      `${where} records no incident, and the chain has no earlier ${missing} record to rebuild it from (export the whole chain)`,
    );
  }
  const merged: Record<string, unknown> = {
    ...triage,
    ...pick(classification, ['class', 'confidence', 'signature']),
  };
  return pick(merged, GATE_INCIDENT_FIELDS);
}

function latestData(records: AuditRecord[], step: string): Record<string, unknown> | undefined {
  const found = records.filter((record) => record.step === step).at(-1);
  return found && isObject(found.data) ? found.data : undefined;
}

function recordedOutcome(decision: unknown): Outcome | undefined {
  if (
    !isObject(decision) ||
    typeof decision.allow !== 'boolean' ||
    typeof decision.require_approval !== 'boolean'
  )
    return undefined;
  return outcomeOf({ allow: decision.allow, require_approval: decision.require_approval });
}

function pick(source: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((key) => source[key] !== undefined).map((key) => [key, source[key]]));
}

function isAuditRecord(value: unknown): value is AuditRecord {
  return (
    isObject(value) &&
    typeof value.incident_id === 'string' &&
    typeof value.seq === 'number' &&
    typeof value.step === 'string' &&
    'data' in value
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
