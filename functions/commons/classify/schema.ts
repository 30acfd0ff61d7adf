import { z } from 'zod';

/**
 * Failure classes, in the order used to break exact ties. They are the classes of the
 * remediation policy (`policies/suture/config/data.json`), so renaming one is a contract change.
 */
export const FAILURE_CLASSES = [
  'test_failure',
  'flaky_test',
  'compile_error',
  'dependency_resolution',
  'transient_network',
  'rate_limited_or_quota',
  'permissions',
  'infra_resource',
  'config_error',
  'deploy_health',
  'timeout',
  'unknown',
] as const;

/** Any class the classifier can return, `unknown` included. */
export const FailureClassSchema = z.enum(FAILURE_CLASSES, {
  error: `class must be one of ${FAILURE_CLASSES.join(', ')}`,
});

/** A class the classifier can return. */
export type FailureClass = z.infer<typeof FailureClassSchema>;

/** Classes that own a signature file: every class except `unknown`, which is the absence of evidence. */
export const SIGNATURE_CLASSES = FAILURE_CLASSES.filter(
  (name): name is Exclude<FailureClass, 'unknown'> => name !== 'unknown',
);

/** A class that owns a signature file. */
export type SignatureClass = Exclude<FailureClass, 'unknown'>;

/** Longest `matched_line` returned, so a classification stays small inside the workflow state. */
export const MATCHED_LINE_MAX_CHARS = 300;

/** The classifier's verdict for one log. */
export const ClassificationSchema = z.object({
  class: FailureClassSchema,
  confidence: z.number().min(0).max(1),
  /** Id of the signature that decided the class; null when the class is `unknown`. */
  signature: z.string().nullable(),
  /** The log line the deciding signature matched, trimmed; null when the class is `unknown`. */
  matched_line: z.string().max(MATCHED_LINE_MAX_CHARS).nullable(),
  /**
   * Who assigned the class: absent or `signature` for the deterministic classifier (and a
   * release-health alarm), `model` for the optional model fallback. The policy never lets a
   * `model` class act without approval.
   */
  source: z.enum(['signature', 'model']).optional(),
});

/** The classifier's verdict for one log. */
export type Classification = z.infer<typeof ClassificationSchema>;

/** Identifier of a record in the `suture classify` JSON Lines stream. */
export const RecordIdSchema = z.union([z.string(), z.number().finite()], {
  error: 'field "id" must be a string or a finite number',
});

/** One input line of `suture classify`. Extra fields are ignored. */
export const ClassifyRecordSchema = z.object({
  id: RecordIdSchema,
  log: z.string({ error: 'field "log" must be a string' }),
});

/** One input line of `suture classify`. */
export type ClassifyRecord = z.infer<typeof ClassifyRecordSchema>;

/** One output line of `suture classify` for a record that was classified. */
export const ClassifyResultLineSchema = z.object({
  id: RecordIdSchema,
  class: FailureClassSchema,
  confidence: z.number().min(0).max(1),
  signature: z.string().nullable(),
});

/** One output line of `suture classify` for a record that was classified. */
export type ClassifyResultLine = z.infer<typeof ClassifyResultLineSchema>;

/** One output line of `suture classify` for an input line that could not be classified. */
export const ClassifyErrorLineSchema = z.object({
  id: RecordIdSchema.optional(),
  error: z.string().min(1),
});

/** One output line of `suture classify` for an input line that could not be classified. */
export type ClassifyErrorLine = z.infer<typeof ClassifyErrorLineSchema>;

/** `g` and `y` are refused: they make `RegExp.test` stateful, and a shared regex must not remember. */
const SIGNATURE_FLAGS = /^(?!.*(.).*\1)[imsu]*$/;

/**
 * Release-plane systems whose own log structure some signatures depend on. A signature with a
 * `context` only counts when the log shows that system (see `CONTEXT_DETECTORS` in index.ts).
 */
export const SIGNATURE_CONTEXTS = ['codebuild'] as const;
export type SignatureContext = (typeof SIGNATURE_CONTEXTS)[number];

/**
 * What a signature's hit says. A `cause` names why the run failed. A `wrapper` is the envelope a
 * deploy tool puts around a cause (CloudFormation `UPDATE_FAILED`, `ROLLBACK_COMPLETE`, a
 * `Resource handler returned message`): it only decides the class when no cause was found, and
 * it never counts as conflicting evidence against one.
 */
export const SIGNATURE_ROLES = ['cause', 'wrapper'] as const;
export type SignatureRole = (typeof SIGNATURE_ROLES)[number];

/** One signature: a regular expression over a single log line and the weight of its evidence. */
export const SignatureSchema = z
  .strictObject({
    id: z
      .string({ error: 'id must be a string' })
      .regex(/^[a-z0-9]+(?:[.-][a-z0-9]+)*$/, 'id must be lower-case words joined by "-" or "."'),
    description: z.string({ error: 'description must be a string' }).min(1, 'description must not be empty'),
    pattern: z.string({ error: 'pattern must be a string' }).min(1, 'pattern must not be empty'),
    flags: z
      .string({ error: 'flags must be a string' })
      .regex(SIGNATURE_FLAGS, 'flags may only hold i, m, s, u, each at most once')
      .optional(),
    weight: z
      .number({ error: 'weight must be a number' })
      .min(0, 'weight must be ≥ 0')
      .max(1, 'weight must be ≤ 1'),
    ecosystem: z
      .string({ error: 'ecosystem must be a string' })
      .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'ecosystem must be a lower-case slug'),
    role: z.enum(SIGNATURE_ROLES, { error: `role must be one of ${SIGNATURE_ROLES.join(', ')}` }).optional(),
    context: z
      .enum(SIGNATURE_CONTEXTS, { error: `context must be one of ${SIGNATURE_CONTEXTS.join(', ')}` })
      .optional(),
    /**
     * Ids of more generic signatures this one refines: when both hit, theirs is dropped (for
     * example "Docker daemon unreachable" inside CodeBuild is the project's privileged mode).
     */
    supersedes: z
      .array(z.string({ error: 'supersedes must hold signature ids' }), {
        error: 'supersedes must be an array of signature ids',
      })
      .min(1, 'supersedes must not be empty')
      .optional(),
  })
  .superRefine((signature, ctx) => {
    try {
      new RegExp(signature.pattern, signature.flags);
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        path: ['pattern'],
        message: `pattern does not compile: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  });

/** One signature. */
export type Signature = z.infer<typeof SignatureSchema>;

/** A signature file: the signatures of one class. */
export const SignatureFileSchema = z
  .array(SignatureSchema, { error: 'a signature file must hold a JSON array of signatures' })
  .min(1, 'a signature file must hold at least one signature');

/** A signature file: the signatures of one class. */
export type SignatureFile = z.infer<typeof SignatureFileSchema>;

/** A signature file is malformed; the message names the file and, where known, the signature id. */
export class SignatureFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SignatureFileError';
  }
}

/**
 * Validates one signature file. Each problem is reported with the file name and the id of the
 * signature it is in (or its index when the id itself is missing), because a file can hold
 * dozens of signatures and "invalid input" alone sends a maintainer hunting.
 *
 * @throws SignatureFileError when the file does not satisfy {@link SignatureFileSchema}.
 */
export function parseSignatureFile(fileName: string, data: unknown): SignatureFile {
  const parsed = SignatureFileSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const [index, ...field] = issue.path;
    if (typeof index !== 'number') return issue.message;
    const entry: unknown = Array.isArray(data) ? data[index] : undefined;
    const id =
      typeof entry === 'object' && entry !== null && typeof (entry as { id?: unknown }).id === 'string'
        ? `signature "${(entry as { id: string }).id}"`
        : `signature #${index}`;
    const where = field.length > 0 ? ` field ${field.join('.')}` : '';
    return `${id}${where}: ${issue.message}`;
  });
  throw new SignatureFileError(`invalid signature file ${fileName}: ${problems.join('; ')}`, {
    cause: parsed.error,
  });
}
