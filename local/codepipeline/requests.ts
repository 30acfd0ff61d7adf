/**
 * Request validation of the CodePipeline fake, with the real service's constraints (from the
 * CodePipeline API reference) and its message format:
 * `1 validation error detected: Value null at 'pipelineName' failed to satisfy constraint: Member must not be null`.
 * A request that breaks one is refused with a `ValidationException` naming each field.
 */
import { CodePipelineErrorType, CodePipelineServiceError } from './errors';

/** The operations the fake implements. */
export const CODEPIPELINE_OPERATIONS = [
  'GetPipeline',
  'GetPipelineState',
  'GetPipelineExecution',
  'ListPipelineExecutions',
  'ListActionExecutions',
  'ListTagsForResource',
  'RetryStageExecution',
  'StartPipelineExecution',
  'StopPipelineExecution',
  'RollbackStage',
] as const;
/** One implemented operation name. */
export type CodePipelineOperation = (typeof CODEPIPELINE_OPERATIONS)[number];

/** Operations that change the world; each call is recorded in the fake's mutation log. */
export const MUTATING_OPERATIONS: ReadonlySet<CodePipelineOperation> = new Set([
  'RetryStageExecution',
  'StartPipelineExecution',
  'StopPipelineExecution',
  'RollbackStage',
]);

interface FieldRule {
  readonly path: string;
  readonly type: 'string' | 'integer' | 'boolean' | 'object' | 'array';
  readonly required?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: RegExp;
  readonly values?: readonly string[];
}

const NAME = { type: 'string', min: 1, max: 100, pattern: /^[A-Za-z0-9.@\-_]+$/ } as const;
const EXECUTION_ID = {
  type: 'string',
  pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
} as const;
const NEXT_TOKEN = { type: 'string', min: 1, max: 2048 } as const;
const MAX_RESULTS = { type: 'integer', min: 1, max: 100 } as const;

const RULES: Readonly<Record<CodePipelineOperation, readonly FieldRule[]>> = {
  GetPipeline: [
    { path: 'name', required: true, ...NAME },
    { path: 'version', type: 'integer', min: 1 },
  ],
  GetPipelineState: [{ path: 'name', required: true, ...NAME }],
  GetPipelineExecution: [
    { path: 'pipelineName', required: true, ...NAME },
    { path: 'pipelineExecutionId', required: true, ...EXECUTION_ID },
  ],
  ListPipelineExecutions: [
    { path: 'pipelineName', required: true, ...NAME },
    { path: 'maxResults', ...MAX_RESULTS },
    { path: 'nextToken', ...NEXT_TOKEN },
    { path: 'filter', type: 'object' },
    { path: 'filter.succeededInStage', type: 'object' },
    { path: 'filter.succeededInStage.stageName', ...NAME },
  ],
  ListActionExecutions: [
    { path: 'pipelineName', required: true, ...NAME },
    { path: 'maxResults', ...MAX_RESULTS },
    { path: 'nextToken', ...NEXT_TOKEN },
    { path: 'filter', type: 'object' },
    { path: 'filter.pipelineExecutionId', ...EXECUTION_ID },
    { path: 'filter.latestInPipelineExecution', type: 'object' },
    { path: 'filter.latestInPipelineExecution.pipelineExecutionId', required: true, ...EXECUTION_ID },
    {
      path: 'filter.latestInPipelineExecution.startTimeRange',
      required: true,
      type: 'string',
      values: ['Latest', 'All'],
    },
  ],
  ListTagsForResource: [
    {
      path: 'resourceArn',
      required: true,
      type: 'string',
      min: 1,
      max: 1011,
      pattern: /^arn:aws(-[\w]+)*:codepipeline:.+:[0-9]{12}:.+$/,
    },
    { path: 'maxResults', ...MAX_RESULTS },
    { path: 'nextToken', ...NEXT_TOKEN },
  ],
  RetryStageExecution: [
    { path: 'pipelineName', required: true, ...NAME },
    { path: 'stageName', required: true, ...NAME },
    { path: 'pipelineExecutionId', required: true, ...EXECUTION_ID },
    { path: 'retryMode', required: true, type: 'string', values: ['FAILED_ACTIONS', 'ALL_ACTIONS'] },
  ],
  StartPipelineExecution: [
    { path: 'name', required: true, ...NAME },
    { path: 'clientRequestToken', type: 'string', min: 1, max: 128, pattern: /^[a-zA-Z0-9-]+$/ },
    { path: 'variables', type: 'array', min: 1, max: 50 },
    { path: 'sourceRevisions', type: 'array', min: 0, max: 50 },
  ],
  StopPipelineExecution: [
    { path: 'pipelineName', required: true, ...NAME },
    { path: 'pipelineExecutionId', required: true, ...EXECUTION_ID },
    { path: 'abandon', type: 'boolean' },
    { path: 'reason', type: 'string', max: 200 },
  ],
  RollbackStage: [
    { path: 'pipelineName', required: true, ...NAME },
    { path: 'stageName', required: true, ...NAME },
    { path: 'targetPipelineExecutionId', required: true, ...EXECUTION_ID },
  ],
};

const VARIABLE_NAME = /^[A-Za-z0-9@\-_]+$/;

/** Value at a dotted path; `undefined` when a parent is missing (its own rule reports that). */
function valueAt(input: Record<string, unknown>, path: string): { parentPresent: boolean; value: unknown } {
  const parts = path.split('.');
  let node: unknown = input;
  for (const part of parts.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return { parentPresent: false, value: undefined };
    node = (node as Record<string, unknown>)[part];
  }
  if (typeof node !== 'object' || node === null) return { parentPresent: false, value: undefined };
  return { parentPresent: true, value: (node as Record<string, unknown>)[parts[parts.length - 1]!] };
}

function show(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

function check(rule: FieldRule, value: unknown): string | undefined {
  const at = `at '${rule.path}' failed to satisfy constraint:`;
  if (value === undefined || value === null) {
    return rule.required ? `Value null ${at} Member must not be null` : undefined;
  }
  const typeOk =
    rule.type === 'string'
      ? typeof value === 'string'
      : rule.type === 'integer'
        ? Number.isInteger(value)
        : rule.type === 'boolean'
          ? typeof value === 'boolean'
          : rule.type === 'array'
            ? Array.isArray(value)
            : typeof value === 'object' && !Array.isArray(value);
  if (!typeOk) return `Value ${show(value)} ${at} Member must be of type ${rule.type}`;
  if (rule.values && !rule.values.includes(value as string)) {
    return `Value ${show(value)} ${at} Member must satisfy enum value set: [${rule.values.join(', ')}]`;
  }
  const size =
    typeof value === 'string' ? value.length : Array.isArray(value) ? value.length : (value as number);
  const unit = rule.type === 'integer' ? 'value' : 'length';
  if (rule.min !== undefined && size < rule.min) {
    return `Value ${show(value)} ${at} Member must have ${unit} greater than or equal to ${rule.min}`;
  }
  if (rule.max !== undefined && size > rule.max) {
    return `Value ${show(value)} ${at} Member must have ${unit} less than or equal to ${rule.max}`;
  }
  if (rule.pattern && !rule.pattern.test(value as string)) {
    return `Value ${show(value)} ${at} Member must satisfy regular expression pattern: ${rule.pattern.source}`;
  }
  return undefined;
}

function variableProblems(input: Record<string, unknown>): string[] {
  const variables = input.variables;
  if (!Array.isArray(variables)) return [];
  return variables.flatMap((variable: unknown, index) => {
    const entry = (typeof variable === 'object' && variable !== null ? variable : {}) as Record<
      string,
      unknown
    >;
    const base = `variables.${index + 1}`;
    const problems: string[] = [];
    const name = check(
      { path: `${base}.member.name`, required: true, type: 'string', min: 1, max: 128 },
      entry.name,
    );
    if (name) problems.push(name);
    else if (!VARIABLE_NAME.test(entry.name as string)) {
      problems.push(
        `Value ${show(entry.name)} at '${base}.member.name' failed to satisfy constraint: Member must satisfy regular expression pattern: ${VARIABLE_NAME.source}`,
      );
    }
    const value = check(
      { path: `${base}.member.value`, required: true, type: 'string', min: 1, max: 1000 },
      entry.value,
    );
    if (value) problems.push(value);
    return problems;
  });
}

/**
 * Checks a request body against the operation's constraints; throws a `ValidationException`
 * listing every broken one, as the service does.
 */
export function validateRequest(operation: CodePipelineOperation, input: Record<string, unknown>): void {
  const problems: string[] = [];
  for (const rule of RULES[operation]) {
    const { parentPresent, value } = valueAt(input, rule.path);
    if (!parentPresent) continue;
    const problem = check(rule, value);
    if (problem) problems.push(problem);
  }
  if (operation === 'StartPipelineExecution') problems.push(...variableProblems(input));
  if (problems.length > 0) {
    const count = `${problems.length} validation error${problems.length === 1 ? '' : 's'} detected`;
    throw new CodePipelineServiceError(CodePipelineErrorType.validation, `${count}: ${problems.join('; ')}`);
  }
}
