import { z } from 'zod';
import { describeIssues } from './zod';

/** A function's environment is missing or wrong; the message names every bad variable. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/** Where a function's environment comes from: `process.env` in Lambda. */
export type EnvironmentSource = () => NodeJS.ProcessEnv;

let environmentSource: EnvironmentSource | undefined;

/**
 * Test hook: the local loop runs every handler in one process, each with the environment the
 * module gives that function, so it replaces `process.env` here (and records what is read).
 */
export function setEnvironmentSource(next: EnvironmentSource | undefined): void {
  environmentSource = next;
}

/** The running function's environment: `process.env`, unless the local loop says otherwise. */
export function functionEnvironment(): NodeJS.ProcessEnv {
  return environmentSource ? environmentSource() : process.env;
}

/**
 * Reads and validates a function's environment once. Throws {@link ConfigurationError}
 * naming each wrong variable, so a misdeployed function fails on its first call with a
 * message that says what to fix.
 */
export function readEnvironment<S extends z.ZodType>(
  functionName: string,
  schema: S,
  env: NodeJS.ProcessEnv = functionEnvironment(),
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

/** An environment variable holding JSON that must match `schema`; empty or absent means `fallback`. */
export const jsonVariable = <S extends z.ZodType>(name: string, schema: S, fallback: z.infer<S>) =>
  z
    .string()
    .optional()
    .transform((raw, ctx): z.infer<S> => {
      if (raw === undefined || raw.trim() === '') return fallback;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        ctx.addIssue({ code: 'custom', message: `${name} is not valid JSON` });
        return z.NEVER;
      }
      const parsed = schema.safeParse(value);
      if (!parsed.success) {
        ctx.addIssue({ code: 'custom', message: `${name}: ${describeIssues(parsed.error)}` });
        return z.NEVER;
      }
      return parsed.data;
    });

/** An integer environment variable within `[min, max]`; empty or absent means `fallback`. */
export const integerVariable = (name: string, min: number, max: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((raw, ctx): number => {
      if (raw === undefined || raw.trim() === '') return fallback;
      const value = Number(raw);
      if (!Number.isInteger(value) || value < min || value > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be an integer from ${min} to ${max}` });
        return z.NEVER;
      }
      return value;
    });

/** An optional environment variable; empty means absent. */
export const optionalVariable = () =>
  z
    .string()
    .optional()
    .transform((raw) => (raw === undefined || raw.trim() === '' ? undefined : raw.trim()));
