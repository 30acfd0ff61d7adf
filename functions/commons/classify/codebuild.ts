/**
 * CodeBuild's own failure structure, read as features rather than as text: the phase that failed
 * (`Phase complete: INSTALL State: FAILED`), the phase context status code
 * (`COMMAND_EXECUTION_ERROR`, `YAML_FILE_ERROR`, `CLIENT_ERROR`, …) and, for a command failure,
 * the failing command and its exit status. Rules in `codebuild-rules.json` turn that record into
 * evidence, e.g. "a package manager's install command failed in the INSTALL phase" is weak
 * evidence of a dependency problem, and exit status 127 is the shell's "command not found".
 */
import { z } from 'zod';

import type { CompiledSignature, Hit } from './index';
import { FailureClassSchema, SignatureFileError } from './schema';

/** The phases of a CodeBuild build, in order (buildspec reference). */
export const CODEBUILD_PHASES = [
  'SUBMITTED',
  'QUEUED',
  'PROVISIONING',
  'DOWNLOAD_SOURCE',
  'INSTALL',
  'PRE_BUILD',
  'BUILD',
  'POST_BUILD',
  'UPLOAD_ARTIFACTS',
  'FINALIZING',
  'COMPLETED',
] as const;
export type CodeBuildPhase = (typeof CODEBUILD_PHASES)[number];

/** What a CodeBuild log says about its failure; every field is null when the log does not say. */
export interface CodeBuildFailure {
  /** The phase that completed with `State: FAILED` (or `Success: false`), else the last phase entered. */
  readonly phase: CodeBuildPhase | null;
  /** The phase context status code, e.g. `COMMAND_EXECUTION_ERROR`. */
  readonly statusCode: string | null;
  /** The phase context message. */
  readonly message: string | null;
  /** The buildspec command that did not exit successfully. */
  readonly command: string | null;
  readonly exitStatus: number | null;
  /** Normalised line the record rests on (the status code line, else the command line). */
  readonly lineIndex: number;
}

const PHASE_COMPLETE = /^Phase complete: ([A-Z_]{1,30}) (?:State: ([A-Z_]{1,30})|Success: (true|false))/;
const ENTERING_PHASE = /^Entering phase ([A-Z_]{1,30})/;
const STATUS_CODE = /^Phase context status code: ([A-Z_]{0,60}) ?Message: ?(.{0,2000})$/;
const COMMAND_FAILED = /^Command did not exit successfully (.{1,2000}) exit status (\d{1,3})$/;
const EXECUTING_COMMAND = /Error while executing command: (.{1,2000})\. Reason: exit status (\d{1,3})$/;

const isPhase = (value: string): value is CodeBuildPhase =>
  (CODEBUILD_PHASES as readonly string[]).includes(value);

/**
 * Reads the last failure CodeBuild reported in normalised lines (`[Container]` prefixes already
 * removed). Undefined when the lines hold none of CodeBuild's failure lines.
 */
export function readCodeBuildFailure(lines: readonly string[]): CodeBuildFailure | undefined {
  let failedPhase: CodeBuildPhase | null = null;
  let enteredPhase: CodeBuildPhase | null = null;
  let statusCode: string | null = null;
  let message: string | null = null;
  let command: string | null = null;
  let exitStatus: number | null = null;
  let statusLine = -1;
  let commandLine = -1;
  lines.forEach((line, index) => {
    let match = PHASE_COMPLETE.exec(line);
    if (match !== null) {
      const failed = (match[2] !== undefined && match[2] !== 'SUCCEEDED') || match[3] === 'false';
      if (failed && isPhase(match[1] as string)) failedPhase = match[1] as CodeBuildPhase;
      return;
    }
    match = ENTERING_PHASE.exec(line);
    if (match !== null) {
      if (isPhase(match[1] as string)) enteredPhase = match[1] as CodeBuildPhase;
      return;
    }
    match = STATUS_CODE.exec(line);
    if (match !== null && match[1] !== '') {
      statusCode = match[1] as string;
      message = (match[2] as string).trim() || null;
      statusLine = index;
      const inner = EXECUTING_COMMAND.exec(line);
      if (inner !== null) {
        command = (inner[1] as string).trim();
        exitStatus = Number(inner[2]);
      }
      return;
    }
    match = COMMAND_FAILED.exec(line);
    if (match !== null) {
      command = (match[1] as string).trim();
      exitStatus = Number(match[2]);
      commandLine = index;
    }
  });
  if (statusLine < 0 && commandLine < 0 && failedPhase === null) return undefined;
  return {
    phase: failedPhase ?? enteredPhase,
    statusCode,
    message,
    command,
    exitStatus,
    lineIndex: statusLine >= 0 ? statusLine : commandLine >= 0 ? commandLine : 0,
  };
}

const PhaseSchema = z.enum(CODEBUILD_PHASES, {
  error: `phases must be CodeBuild phases (${CODEBUILD_PHASES.join(', ')})`,
});

/** One rule of `codebuild-rules.json`: every condition given must hold. */
export const CodeBuildRuleSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^codebuild(?:-[a-z0-9]+)+$/, 'id must be "codebuild-" followed by lower-case words'),
    description: z.string().min(1, 'description must not be empty'),
    class: FailureClassSchema.exclude(['unknown'], {
      error: 'class must be a failure class other than unknown',
    }),
    weight: z.number().min(0, 'weight must be ≥ 0').max(1, 'weight must be ≤ 1'),
    phases: z.array(PhaseSchema).min(1).optional(),
    statusCodes: z
      .array(z.string().regex(/^[A-Z_]+$/, 'status codes are upper-case words'))
      .min(1)
      .optional(),
    /** Regular expression (source) the failing command must match. */
    command: z.string().min(1).optional(),
    /** Regular expression (source, case-insensitive) the phase context message must match. */
    message: z.string().min(1).optional(),
    exitStatus: z.array(z.number().int().min(0).max(255)).min(1).optional(),
    exitStatusNot: z.array(z.number().int().min(0).max(255)).min(1).optional(),
  })
  .superRefine((rule, ctx) => {
    for (const field of ['command', 'message'] as const) {
      const source = rule[field];
      if (source === undefined) continue;
      try {
        new RegExp(source);
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `${field} does not compile: ${error instanceof Error ? error.message : String(error)}`,
        });
      }
    }
    if (
      rule.phases === undefined &&
      rule.statusCodes === undefined &&
      rule.command === undefined &&
      rule.message === undefined &&
      rule.exitStatus === undefined
    ) {
      ctx.addIssue({
        code: 'custom',
        message: 'a rule needs at least one of phases, statusCodes, command, message, exitStatus',
      });
    }
  });
export type CodeBuildRule = z.infer<typeof CodeBuildRuleSchema>;

/** A validated rule ready to run. */
export interface CompiledCodeBuildRule {
  readonly rule: CodeBuildRule;
  readonly command?: RegExp;
  readonly message?: RegExp;
  readonly signature: CompiledSignature;
}

const NEVER = /(?!)/;

/**
 * Validates and compiles the CodeBuild rules.
 *
 * @throws SignatureFileError naming the file and the rule id when the data is malformed.
 */
export function compileCodeBuildRules(fileName: string, data: unknown): CompiledCodeBuildRule[] {
  const parsed = z.array(CodeBuildRuleSchema).safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const [index, ...field] = issue.path;
      const entry: unknown = Array.isArray(data) && typeof index === 'number' ? data[index] : undefined;
      const id =
        typeof entry === 'object' && entry !== null && typeof (entry as { id?: unknown }).id === 'string'
          ? `rule "${(entry as { id: string }).id}"`
          : `rule #${String(index)}`;
      return `${id}${field.length > 0 ? ` field ${field.join('.')}` : ''}: ${issue.message}`;
    });
    throw new SignatureFileError(`invalid CodeBuild rule file ${fileName}: ${problems.join('; ')}`, {
      cause: parsed.error,
    });
  }
  return parsed.data.map((rule) => ({
    rule,
    ...(rule.command === undefined ? {} : { command: new RegExp(rule.command) }),
    ...(rule.message === undefined ? {} : { message: new RegExp(rule.message, 'i') }),
    signature: {
      id: rule.id,
      className: rule.class,
      weight: rule.weight,
      role: 'cause',
      supersedes: [],
      lineRegex: NEVER,
      textRegex: NEVER,
    },
  }));
}

function matches(compiled: CompiledCodeBuildRule, failure: CodeBuildFailure): boolean {
  const { rule } = compiled;
  if (rule.phases !== undefined && (failure.phase === null || !rule.phases.includes(failure.phase)))
    return false;
  if (
    rule.statusCodes !== undefined &&
    (failure.statusCode === null || !rule.statusCodes.includes(failure.statusCode))
  )
    return false;
  if (compiled.command !== undefined && (failure.command === null || !compiled.command.test(failure.command)))
    return false;
  if (compiled.message !== undefined && (failure.message === null || !compiled.message.test(failure.message)))
    return false;
  if (
    rule.exitStatus !== undefined &&
    (failure.exitStatus === null || !rule.exitStatus.includes(failure.exitStatus))
  )
    return false;
  if (
    rule.exitStatusNot !== undefined &&
    failure.exitStatus !== null &&
    rule.exitStatusNot.includes(failure.exitStatus)
  )
    return false;
  return true;
}

/** The evidence the rules draw from a CodeBuild log's failure record (none when it has no record). */
export function codeBuildHits(lines: readonly string[], rules: readonly CompiledCodeBuildRule[]): Hit[] {
  if (rules.length === 0) return [];
  const failure = readCodeBuildFailure(lines);
  if (failure === undefined) return [];
  return rules
    .filter((rule) => matches(rule, failure))
    .map((rule) => ({ signature: rule.signature, lineIndex: failure.lineIndex }));
}
