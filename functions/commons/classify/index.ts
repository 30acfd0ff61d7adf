/**
 * Deterministic failure classifier: data-driven signatures (one JSON file per class in
 * `./signatures`) matched line by line against a CI/CD failure excerpt.
 *
 * Scoring, in order:
 * 1. Every signature that matches at least one line is a hit; a class scores the weight of its
 *    strongest hit plus {@link EVIDENCE_BONUS} for each further distinct hit (at most
 *    {@link MAX_BONUS_HITS} of them), capped at 1.
 * 2. The best class wins (ties: higher strongest weight, then the order of `FAILURE_CLASSES`).
 * 3. When the best competing class scores within {@link CONFLICT_MARGIN} of the winner, the
 *    confidence drops by up to {@link CONFLICT_PENALTY}: two tools' worth of evidence pointing
 *    at different remediations must not unlock `auto` (the policy's 0.8 bar).
 * 4. `test_failure` is capped at {@link SINGLE_RUN_TEST_CAP}: one log cannot tell a deterministic
 *    failure from a flaky one, so only explicit rerun evidence (a `flaky_test` signature) may
 *    reach the auto threshold.
 * 5. Below the unknown threshold ({@link DEFAULT_UNKNOWN_THRESHOLD} unless overridden) the answer
 *    is `unknown`, which the policy sends to a human.
 *
 * Release-plane structure refines step 1: a `wrapper` signature (a CloudFormation rollback, a
 * resource that failed to create) only scores when no `cause` signature hit, so the message inside
 * the envelope decides the class; a signature with a `context` only counts when the log shows that
 * system; a signature that `supersedes` a more generic one removes that one's hit; and a CodeBuild
 * log's failed phase, phase status code and failing command are read as structured evidence
 * (`./codebuild.ts`).
 */
import { createInterface } from 'node:readline';
import { once } from 'node:events';

import { stripTerminalEscapes } from '../terminal';
import codeBuildRules from './codebuild-rules.json';
import { codeBuildHits, compileCodeBuildRules, type CompiledCodeBuildRule } from './codebuild';
import { requiredLiterals } from './prefilter';
import type { Classification, Signature, SignatureClass, SignatureContext, SignatureRole } from './schema';
import {
  ClassifyRecordSchema,
  MATCHED_LINE_MAX_CHARS,
  SIGNATURE_CLASSES,
  SignatureFileError,
  parseSignatureFile,
} from './schema';
import compileErrorSignatures from './signatures/compile_error.json';
import configErrorSignatures from './signatures/config_error.json';
import dependencyResolutionSignatures from './signatures/dependency_resolution.json';
import deployHealthSignatures from './signatures/deploy_health.json';
import flakyTestSignatures from './signatures/flaky_test.json';
import infraResourceSignatures from './signatures/infra_resource.json';
import permissionsSignatures from './signatures/permissions.json';
import rateLimitedSignatures from './signatures/rate_limited_or_quota.json';
import testFailureSignatures from './signatures/test_failure.json';
import timeoutSignatures from './signatures/timeout.json';
import transientNetworkSignatures from './signatures/transient_network.json';

export type { Classification, FailureClass } from './schema';

/** Below this confidence the classifier answers `unknown`: one weak, generic hit is not a diagnosis. */
export const DEFAULT_UNKNOWN_THRESHOLD = 0.45;
/** Added per extra distinct signature of the winning class: corroboration, never a substitute for a strong hit. */
export const EVIDENCE_BONUS = 0.03;
/** Extra hits that earn {@link EVIDENCE_BONUS}; more repetition of the same story adds nothing. */
export const MAX_BONUS_HITS = 3;
/** A competitor scoring within this distance of the winner is a conflict. */
export const CONFLICT_MARGIN = 0.2;
/** Confidence lost on an exact tie; scales down linearly to 0 at {@link CONFLICT_MARGIN}. */
export const CONFLICT_PENALTY = 0.25;
/** Ceiling for `test_failure`, kept below the policy's 0.8 auto threshold (see the module comment). */
export const SINGLE_RUN_TEST_CAP = 0.75;
/** Only the tail is analysed: the failure is at the end of an excerpt, and it bounds the work per log. */
export const MAX_ANALYSED_CHARS = 64 * 1024;
/** Longest line a regex sees; bounds backtracking on minified or single-line blobs. */
export const MAX_LINE_CHARS = 4096;

/**
 * Classes whose evidence overlaps by nature: a flaky test also prints the failing assertion, so
 * flaky and test failure evidence in one log is not a conflict.
 */
const COMPATIBLE_CLASSES: ReadonlyArray<readonly [SignatureClass, SignatureClass]> = [
  ['flaky_test', 'test_failure'],
];

/** One signature ready to run. */
export interface CompiledSignature {
  readonly id: string;
  readonly className: SignatureClass;
  readonly weight: number;
  /** `wrapper` hits only count when no `cause` hit was found. */
  readonly role: SignatureRole;
  /** When set, the signature only counts in logs that show this system. */
  readonly context?: SignatureContext;
  /** Ids of the signatures whose hits this one's hit removes. */
  readonly supersedes: readonly string[];
  /**
   * Fixed strings one of which every match contains (`./prefilter.ts`); the regex only runs on a
   * text holding one. Lower-case, for the lower-cased text, when `literalsLowerCase`.
   */
  readonly literals?: readonly string[];
  readonly literalsLowerCase?: boolean;
  /** Run against one normalised line. */
  readonly lineRegex: RegExp;
  /** The same pattern with `m`, run once over the whole text so that most signatures skip the line scan. */
  readonly textRegex: RegExp;
}

/** A validated, compiled set of signatures. */
export interface SignatureSet {
  readonly signatures: readonly CompiledSignature[];
  /** Structured CodeBuild evidence (`./codebuild.ts`); none when absent. */
  readonly codeBuildRules?: readonly CompiledCodeBuildRule[];
}

/** Raw content of one signature file, as read from disk or imported. */
export interface SignatureFileInput {
  readonly className: SignatureClass;
  /** Used in error messages only. */
  readonly fileName: string;
  readonly data: unknown;
}

/** Options of {@link classifyLog}. */
export interface ClassifyOptions {
  /**
   * Confidence below which the answer is `unknown`.
   * @default DEFAULT_UNKNOWN_THRESHOLD
   */
  readonly unknownThreshold?: number;
  /**
   * Signatures to use instead of the bundled ones (tests, experiments).
   * @default the signature files in ./signatures
   */
  readonly signatureSet?: SignatureSet;
}

/**
 * Validates and compiles signature files.
 *
 * @throws SignatureFileError naming the file and the signature id when a file is malformed, a
 *   pattern does not compile or an id is used twice.
 */
export function compileSignatureFiles(files: readonly SignatureFileInput[]): SignatureSet {
  const owner = new Map<string, string>();
  const signatures: CompiledSignature[] = [];
  for (const file of files) {
    const parsed: Signature[] = parseSignatureFile(file.fileName, file.data);
    for (const signature of parsed) {
      const previous = owner.get(signature.id);
      if (previous !== undefined) {
        throw new SignatureFileError(
          `invalid signature file ${file.fileName}: signature "${signature.id}" is already defined in ${previous}`,
        );
      }
      owner.set(signature.id, file.fileName);
      const flags = signature.flags ?? '';
      const literals = requiredLiterals(signature.pattern, flags);
      signatures.push({
        ...(literals === undefined ? {} : { literals, literalsLowerCase: flags.includes('i') }),
        id: signature.id,
        className: file.className,
        weight: signature.weight,
        role: signature.role ?? 'cause',
        ...(signature.context === undefined ? {} : { context: signature.context }),
        supersedes: signature.supersedes ?? [],
        lineRegex: new RegExp(signature.pattern, flags),
        textRegex: new RegExp(signature.pattern, flags.includes('m') ? flags : `${flags}m`),
      });
    }
  }
  for (const signature of signatures) {
    for (const id of signature.supersedes) {
      if (!owner.has(id)) {
        throw new SignatureFileError(
          `invalid signature file ${owner.get(signature.id) ?? '?'}: signature "${signature.id}" supersedes "${id}", which no file defines`,
        );
      }
    }
  }
  return { signatures };
}

const BUNDLED_FILES: Readonly<Record<SignatureClass, unknown>> = {
  test_failure: testFailureSignatures,
  flaky_test: flakyTestSignatures,
  compile_error: compileErrorSignatures,
  dependency_resolution: dependencyResolutionSignatures,
  transient_network: transientNetworkSignatures,
  rate_limited_or_quota: rateLimitedSignatures,
  permissions: permissionsSignatures,
  infra_resource: infraResourceSignatures,
  config_error: configErrorSignatures,
  deploy_health: deployHealthSignatures,
  timeout: timeoutSignatures,
};

/**
 * The bundled signatures, compiled once per process at module load so that a bad file fails the
 * cold start (and the test run) instead of the first incident.
 */
export const DEFAULT_SIGNATURE_SET: SignatureSet = {
  ...compileSignatureFiles(
    SIGNATURE_CLASSES.map((className) => ({
      className,
      fileName: `signatures/${className}.json`,
      data: BUNDLED_FILES[className],
    })),
  ),
  codeBuildRules: compileCodeBuildRules('codebuild-rules.json', codeBuildRules),
};

/**
 * Decorations CI systems put in front of a tool's own output. Removing them lets signatures
 * anchor on what the tool printed (`^FAILED`, `^--- FAIL:`) whatever the CI system.
 */
const LINE_PREFIXES: readonly RegExp[] = [
  /^\s+/,
  /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\s*/, // ISO time (GitHub, Azure)
  /^\[?\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?:\s?[AP]M)?\]?:?\s+/, // clock time (Jenkins timestamper)
  /^\[Container\] \d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?\s+/, // CodeBuild
  /^#\d+(?: \d+\.\d+)?\s+/, // BuildKit step and elapsed time
  /^\d+\s+\|\s?/, // console line-number gutter
  /^[│┃]\s?/, // Terraform diagnostic box
  /^##\[(?:error|warning|group|endgroup|section|command|debug)\]/i, // Actions / Azure annotations
  /^\[(?:INFO|ERROR|WARNING|WARN|DEBUG|FATAL)\]\s+/, // Maven log level
  /^@[\w.-]{1,100}\/[\w.-]{1,100}: /, // lerna/nx --stream prefix: the scoped package name
];

/** How each signature context is recognised in the raw (ANSI-free) text. */
const CONTEXT_DETECTORS: Readonly<Record<SignatureContext, RegExp>> = {
  // CodeBuild prefixes its own lines with `[Container] yyyy/mm/dd hh:mm:ss` and builds under /codebuild/output.
  codebuild: /\[Container\] \d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}|\/codebuild\/output\/src\d/,
};

/** Every decoration in {@link LINE_PREFIXES} starts with one of these; other lines skip the prefix scan. */
const PREFIX_START = /^[\s\d[#│┃@]/;

function normaliseLine(line: string): string {
  let rest = line.length > MAX_LINE_CHARS ? line.slice(0, MAX_LINE_CHARS) : line;
  for (let round = 0; round < 8 && PREFIX_START.test(rest); round += 1) {
    const prefix = LINE_PREFIXES.find((candidate) => candidate.test(rest));
    if (prefix === undefined) break;
    const stripped = rest.replace(prefix, '');
    if (stripped.length === rest.length) break;
    rest = stripped;
  }
  return rest.trimEnd();
}

/** One piece of evidence: a signature (or a structured CodeBuild rule) and the line it rests on. */
export interface Hit {
  readonly signature: CompiledSignature;
  readonly lineIndex: number;
}

interface ClassScore {
  readonly className: SignatureClass;
  readonly score: number;
  readonly best: Hit;
}

/** Index of the line holding character `offset` of the joined text (`starts` ascending, starts[0] = 0). */
function lineAt(starts: readonly number[], offset: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if ((starts[middle] as number) <= offset) low = middle;
    else high = middle - 1;
  }
  return low;
}

/**
 * The first line a signature matches. The whole-text match starts at or before that line (a
 * line match is a text match under `m`), so when the line holding the text match passes the
 * line regex it is the answer; only a match that spans lines (`\s` crossing a newline) falls
 * back to the line scan.
 */
function firstMatchingLine(
  signature: CompiledSignature,
  lines: readonly string[],
  starts: readonly number[],
  offset: number,
): number {
  const candidate = lineAt(starts, offset);
  if (signature.lineRegex.test(lines[candidate] as string)) return candidate;
  return lines.findIndex((line) => signature.lineRegex.test(line));
}

function findHits(lines: readonly string[], text: string, rawText: string, set: SignatureSet): Hit[] {
  const hits: Hit[] = [];
  let starts: number[] | undefined;
  const contexts = new Map<SignatureContext, boolean>();
  const inContext = (context: SignatureContext) => {
    let seen = contexts.get(context);
    if (seen === undefined) {
      seen = CONTEXT_DETECTORS[context].test(rawText);
      contexts.set(context, seen);
    }
    return seen;
  };
  let superseded: Set<string> | undefined;
  let lowerText: string | undefined;
  for (const signature of set.signatures) {
    if (signature.literals !== undefined) {
      let haystack = text;
      if (signature.literalsLowerCase === true) haystack = lowerText ??= text.toLowerCase();
      if (!signature.literals.some((literal) => haystack.includes(literal))) continue;
    }
    const match = signature.textRegex.exec(text);
    if (match === null) continue;
    if (signature.context !== undefined && !inContext(signature.context)) continue;
    if (starts === undefined) {
      starts = [];
      let offset = 0;
      for (const line of lines) {
        starts.push(offset);
        offset += line.length + 1;
      }
    }
    const lineIndex = firstMatchingLine(signature, lines, starts, match.index);
    if (lineIndex < 0) continue;
    hits.push({ signature, lineIndex });
    if (signature.supersedes.length > 0) {
      superseded ??= new Set();
      for (const id of signature.supersedes) superseded.add(id);
    }
  }
  if (set.codeBuildRules !== undefined && inContext('codebuild')) {
    hits.push(...codeBuildHits(lines, set.codeBuildRules));
  }
  return superseded === undefined ? hits : hits.filter((hit) => !superseded.has(hit.signature.id));
}

function scoreClasses(allHits: readonly Hit[]): ClassScore[] {
  // The cause inside a deploy tool's envelope decides; the envelope alone is weak evidence.
  const causes = allHits.filter((hit) => hit.signature.role === 'cause');
  const hits = causes.length > 0 ? causes : allHits;
  const byClass = new Map<SignatureClass, Hit[]>();
  for (const hit of hits) {
    const list = byClass.get(hit.signature.className) ?? [];
    list.push(hit);
    byClass.set(hit.signature.className, list);
  }
  const scores: ClassScore[] = [];
  for (const [className, classHits] of byClass) {
    // Heaviest first; equal weights fall back to the earliest line, then the id, so the result never depends on file order.
    const ordered = [...classHits].sort(
      (a, b) =>
        b.signature.weight - a.signature.weight ||
        a.lineIndex - b.lineIndex ||
        a.signature.id.localeCompare(b.signature.id),
    );
    const best = ordered[0] as Hit;
    const bonus = EVIDENCE_BONUS * Math.min(ordered.length - 1, MAX_BONUS_HITS);
    scores.push({ className, score: Math.min(1, best.signature.weight + bonus), best });
  }
  const rank = (name: SignatureClass) => SIGNATURE_CLASSES.indexOf(name);
  return scores.sort(
    (a, b) =>
      b.score - a.score ||
      b.best.signature.weight - a.best.signature.weight ||
      rank(a.className) - rank(b.className),
  );
}

function compatible(a: SignatureClass, b: SignatureClass): boolean {
  return COMPATIBLE_CLASSES.some(([x, y]) => (x === a && y === b) || (x === b && y === a));
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;

function unknown(confidence: number): Classification {
  return { class: 'unknown', confidence: round3(confidence), signature: null, matched_line: null };
}

/**
 * Classifies one CI/CD failure excerpt. Pure and deterministic: the same log and options always
 * give the same answer. For `unknown`, `confidence` is that of the best candidate that fell short
 * of the threshold (0 when nothing matched) and `signature`/`matched_line` are null.
 */
export function classifyLog(log: string, options: ClassifyOptions = {}): Classification {
  const threshold = options.unknownThreshold ?? DEFAULT_UNKNOWN_THRESHOLD;
  const set = options.signatureSet ?? DEFAULT_SIGNATURE_SET;
  const tail = log.length > MAX_ANALYSED_CHARS ? log.slice(-MAX_ANALYSED_CHARS) : log;
  const rawText = stripTerminalEscapes(tail);
  const rawLines = rawText.split(/\r\n|\r|\n/);
  const lines = rawLines.map(normaliseLine);
  const ranked = scoreClasses(findHits(lines, lines.join('\n'), rawText, set));

  const winner = ranked[0];
  if (winner === undefined) return unknown(0);
  const competitor = ranked.find(
    (candidate) =>
      candidate.className !== winner.className && !compatible(candidate.className, winner.className),
  );
  const gap = competitor === undefined ? Number.POSITIVE_INFINITY : winner.score - competitor.score;
  const penalty = gap < CONFLICT_MARGIN ? (CONFLICT_PENALTY * (CONFLICT_MARGIN - gap)) / CONFLICT_MARGIN : 0;
  let confidence = Math.max(0, Math.min(1, winner.score - penalty));
  if (winner.className === 'test_failure') confidence = Math.min(confidence, SINGLE_RUN_TEST_CAP);
  if (confidence < threshold) return unknown(confidence);

  const line = stripTerminalEscapes(rawLines[winner.best.lineIndex] ?? '').trim();
  return {
    class: winner.className,
    confidence: round3(confidence),
    signature: winner.best.signature.id,
    matched_line: line.slice(0, MATCHED_LINE_MAX_CHARS),
  };
}

/** Totals of one {@link classifyJsonLines} run. */
export interface ClassifyStreamSummary {
  /** Input lines read, blank ones included. */
  readonly lines: number;
  /** Lines answered with an `error` record. */
  readonly errors: number;
}

function idOf(value: unknown): string | number | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const id = (value as { id?: unknown }).id;
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : undefined;
}

function describeLine(raw: string, lineNumber: number): Record<string, unknown> {
  if (raw.trim() === '') return { error: `line ${lineNumber}: empty line, expected a JSON object {id, log}` };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { error: `line ${lineNumber}: not valid JSON (${reason})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      error: `line ${lineNumber}: expected a JSON object {id, log}, got ${Array.isArray(value) ? 'an array' : typeof value}`,
    };
  }
  const record = ClassifyRecordSchema.safeParse(value);
  const id = idOf(value);
  if (!record.success) {
    const problems = record.error.issues.map((issue) => issue.message).join('; ');
    return id === undefined
      ? { error: `line ${lineNumber}: ${problems}` }
      : { id, error: `line ${lineNumber}: ${problems}` };
  }
  const result = classifyLog(record.data.log);
  return {
    id: record.data.id,
    class: result.class,
    confidence: result.confidence,
    signature: result.signature,
  };
}

/**
 * The `suture classify` contract: reads JSON Lines `{id, log}` and writes one line per input line,
 * either `{id, class, confidence, signature}` or `{id?, error}`. Malformed lines are answered, not
 * dropped, so output line N always belongs to input line N.
 */
export async function classifyJsonLines(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): Promise<ClassifyStreamSummary> {
  const reader = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lines = 0;
  let errors = 0;
  for await (const raw of reader) {
    lines += 1;
    const answer = describeLine(raw, lines);
    if ('error' in answer) errors += 1;
    // Respect back-pressure: a large batch must not buffer every answer in memory.
    if (!output.write(`${JSON.stringify(answer)}\n`)) await once(output, 'drain');
  }
  return { lines, errors };
}
