/**
 * The actions Suture can perform and the parameters each takes, read from the policy's own data
 * (`policies/suture/config/data.json`) when the function is built, so the planner and the policy
 * cannot disagree about what a well-formed proposal is. The planner only checks shape; whether a
 * proposal may run is still the policy gate's decision.
 */
import { z } from 'zod';
import policyData from '../../policies/suture/config/data.json';
import { PolicyActionsSchema, type ActionParameterSpec, type PolicyActions } from './schema';

/** Actions, parameters and per-class allow-lists of the policy data. */
export const POLICY_ACTIONS: PolicyActions = PolicyActionsSchema.parse(policyData);

/** Longest string parameter accepted from the model (a patch for review is the long one). */
export const MODEL_PARAMETER_MAX_CHARS = 16 * 1024;

/** The actions the policy allows for `failureClass`; empty for a class the policy does not know. */
export function classActions(failureClass: string): readonly string[] {
  return POLICY_ACTIONS.classes[failureClass]?.actions ?? [];
}

/**
 * The resume actions the policy lets follow `action` in a plan for `failureClass`
 * (`classes[class].resume_after[action]`); empty when the action needs no resume or the
 * class has no plans.
 */
export function resumeActions(failureClass: string, action: string): readonly string[] {
  return POLICY_ACTIONS.classes[failureClass]?.resume_after?.[action] ?? [];
}

/** True when `action` is an action of the policy data. */
export function isKnownAction(action: string): boolean {
  return Object.hasOwn(POLICY_ACTIONS.actions, action);
}

/** The parameter specs of a known action. */
export function actionParameters(action: string): Readonly<Record<string, ActionParameterSpec>> {
  return POLICY_ACTIONS.actions[action]?.parameters ?? {};
}

/** A schema for one typed parameter value, as the policy checks it. */
export function typedValueSchema(name: string, spec: ActionParameterSpec): z.ZodType {
  switch (spec.type) {
    case 'string': {
      const text = z
        .string({ error: `${name} must be a string` })
        .min(1, `${name} must not be empty`)
        .max(MODEL_PARAMETER_MAX_CHARS, `${name} is longer than ${MODEL_PARAMETER_MAX_CHARS} characters`);
      return spec.one_of
        ? text.refine(
            (value) => spec.one_of!.includes(value),
            `${name} must be one of ${spec.one_of.join(', ')}`,
          )
        : text;
    }
    case 'number': {
      let number = z.number({ error: `${name} must be a number` }).finite(`${name} must be finite`);
      if (spec.integer) number = number.int(`${name} must be an integer`);
      if (spec.minimum !== undefined) number = number.min(spec.minimum, `${name} must be ≥ ${spec.minimum}`);
      if (spec.maximum !== undefined) number = number.max(spec.maximum, `${name} must be ≤ ${spec.maximum}`);
      return number;
    }
    case 'boolean':
      return z.boolean({ error: `${name} must be a boolean` });
    default:
      return z.never({ error: `${name} has type ${spec.type}, which the planner cannot produce` });
  }
}

/** Types a Bedrock function schema may declare for a parameter of each policy type. */
const AGENT_TYPES: Readonly<Record<string, readonly string[]>> = {
  string: ['string'],
  number: ['number', 'integer'],
  boolean: ['boolean'],
};

const DECIMAL = /^-?(?:0|[1-9]\d{0,15})(?:\.\d{1,15})?$/;

/**
 * A schema for one parameter as the agent sends it (`{type, value}`, every value a string):
 * the declared type must fit the policy's type, and the value must convert to it exactly.
 */
export function agentValueSchema(name: string, spec: ActionParameterSpec): z.ZodType {
  const allowedTypes = AGENT_TYPES[spec.type] ?? [];
  const declared = z.string().refine((type) => allowedTypes.includes(type), {
    message: `${name} is declared as another type than ${spec.type}`,
  });
  const value = z.string({ error: `${name} must be sent as a string` });
  let converted: z.ZodType;
  switch (spec.type) {
    case 'number':
      converted = value.regex(DECIMAL, `${name} must be a decimal number`).transform(Number);
      break;
    case 'boolean':
      converted = z
        .enum(['true', 'false'], { error: `${name} must be true or false` })
        .transform((v) => v === 'true');
      break;
    default:
      converted = value;
  }
  return z
    .object(
      { type: declared, value: converted.pipe(typedValueSchema(name, spec)) },
      {
        error: (issue) =>
          issue.input === undefined ? `${name} is required` : `${name} must be {type, value}`,
      },
    )
    .transform((parameter) => parameter.value);
}

/** A schema over `{name: {type, value}}` for `action`: no unknown names, every required name present. */
export function agentParametersSchema(action: string): z.ZodType<Record<string, unknown>> {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, spec] of Object.entries(actionParameters(action))) {
    const schema = agentValueSchema(name, spec);
    shape[name] = spec.required ? schema : schema.optional();
  }
  return z.strictObject(shape) as unknown as z.ZodType<Record<string, unknown>>;
}

/** A schema over typed parameters for `action` (for playbook literals). */
export function typedParametersSchema(action: string): z.ZodType<Record<string, unknown>> {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, spec] of Object.entries(actionParameters(action))) {
    const schema = typedValueSchema(name, spec);
    shape[name] = spec.required ? schema : schema.optional();
  }
  return z.strictObject(shape) as unknown as z.ZodType<Record<string, unknown>>;
}
