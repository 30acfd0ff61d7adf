import aslValidator from 'asl-validator';
import { buildWorkflowDefinition, WORKFLOW_FUNCTIONS, type WorkflowDefinitionProps } from './definition';

/** The definition is not valid Amazon States Language; the message lists every problem. */
export class InvalidWorkflowDefinitionError extends Error {
  constructor(
    message: string,
    readonly problems: readonly string[],
  ) {
    super(message);
    this.name = 'InvalidWorkflowDefinitionError';
  }
}

/**
 * Checks a definition with asl-validator (JSON schema, transitions, terminal states, JSONPath
 * and ARN syntax). Works on a copy: the validator annotates the states it reads.
 * @returns the problems found, empty when the definition is valid
 */
export function validateDefinition(definition: unknown): string[] {
  const result = aslValidator(structuredClone(definition), { checkPaths: true, checkArn: true });
  return result.errors.map((error) => `${error['Error code']}: ${error.Message}`);
}

/** Throws {@link InvalidWorkflowDefinitionError} unless `definition` passes {@link validateDefinition}. */
export function assertValidDefinition(definition: unknown): void {
  const problems = validateDefinition(definition);
  if (problems.length > 0) {
    throw new InvalidWorkflowDefinitionError(
      `the workflow definition is not valid ASL:\n  ${problems.join('\n  ')}`,
      problems,
    );
  }
}

/** A syntactically valid, obviously fake Lambda ARN for `name`. */
export function placeholderFunctionArn(name: string): string {
  return `arn:aws:lambda:us-east-1:123456789012:function:suture-${name}`;
}

/**
 * Validates the definition the given timings produce. ARNs are cdktf tokens at synth, which are
 * not ARNs until Terraform resolves them, so the check runs on the same pure builder with
 * placeholder ARNs: the shape, transitions and paths are what can be wrong here.
 */
export function assertValidWorkflow(timings: Omit<WorkflowDefinitionProps, 'functionArns'>): void {
  const functionArns = Object.fromEntries(
    WORKFLOW_FUNCTIONS.map((name) => [name, placeholderFunctionArn(name)]),
  ) as WorkflowDefinitionProps['functionArns'];
  assertValidDefinition(buildWorkflowDefinition({ ...timings, functionArns }));
}
