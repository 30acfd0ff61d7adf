/** What stands in for a Step Functions task token wherever one could be echoed. */
export const TASK_TOKEN_PLACEHOLDER = '[task-token]';

/**
 * `value` with every occurrence of `taskToken` replaced by {@link TASK_TOKEN_PLACEHOLDER}: in
 * a string, or in every string of a JSON value (where the token appears JSON-escaped). The
 * approval table is the only place a token may be kept; AWS error messages and workflow state
 * pass through this before they are logged, published or audited.
 */
export function withoutTaskToken<T>(value: T, taskToken: string): T {
  if (taskToken === '') return value;
  if (typeof value === 'string') return value.split(taskToken).join(TASK_TOKEN_PLACEHOLDER) as T;
  const escaped = JSON.stringify(taskToken).slice(1, -1);
  return JSON.parse(JSON.stringify(value).split(escaped).join(TASK_TOKEN_PLACEHOLDER)) as T;
}
