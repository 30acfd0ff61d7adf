import { z } from 'zod';
import { describeIssues } from './policy-gate/schema';

/** A function's environment is missing or wrong; the message names every bad variable. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/**
 * Reads and validates a function's environment once. Throws {@link ConfigurationError}
 * naming each wrong variable, so a misdeployed function fails on its first call with a
 * message that says what to fix.
 */
export function readEnvironment<S extends z.ZodType>(
  functionName: string,
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigurationError(`${functionName}: environment is invalid: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

/** A required, non-empty environment variable. */
export const requiredVariable = (name: string) =>
  z.string({ error: `${name} is required` }).min(1, `${name} must not be empty`);
