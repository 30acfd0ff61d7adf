import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { describeIssues } from '../../functions/commons/policy-gate/schema';

/** A scenario file could not be read or does not describe a world the simulator can build. */
export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

const Reaction = z.enum(['Succeeded', 'Failed', 'InProgress']);

/** A model's reply, as the Bedrock agent fake will give it. */
const ModelReplySchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('propose'),
    function: z.string().min(1),
    parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    rationale: z.string().optional(),
  }),
  z.strictObject({ kind: z.literal('text'), text: z.string() }),
  z.strictObject({ kind: z.literal('throttled') }),
  z.strictObject({ kind: z.literal('down') }),
]);

/**
 * A scenario: the world before a failure, the failure, how the world reacts to each action,
 * and optional expectations. docs/simulate.md documents every field.
 */
export const ScenarioSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().default(''),
    pipeline: z
      .object({
        /** Must be in the policy's scope (data.json) for the loop to act. */
        name: z.string().min(1).default('myPipeline'),
        tags: z.record(z.string(), z.string()).default({}),
        /** Step Functions state machines the pipeline runs that the loop may redrive (module variable). */
        redrivable_state_machines: z.array(z.string().regex(/^[A-Za-z0-9_-]{1,80}$/)).default([]),
      })
      .prefault({}),
    /** Earlier executions that succeeded (rollback targets). */
    prior_successes: z.number().int().min(0).max(10).default(1),
    failure: z.strictObject({
      stage: z.string().min(1),
      action: z.string().min(1).optional(),
      summary: z.string().default('Action failed'),
      error_code: z.string().default('JobFailed'),
      /** CodeBuild log text of the failed Build action. */
      log: z.string().optional(),
    }),
    /** What reaches EventBridge. */
    event: z
      .object({
        source: z.enum(['action', 'stage', 'pipeline', 'alarm']).default('action'),
        /** Deliveries of the same event, concurrently (a storm of duplicates). */
        deliveries: z.number().int().min(1).max(200).default(1),
        /** For `source: alarm`. */
        alarm_name: z.string().optional(),
        /** State of the delivered event (FAILED, or e.g. SUCCEEDED to show it is ignored). */
        state: z.string().default('FAILED'),
      })
      .prefault({}),
    /** Release-health alarms and their current state. */
    alarms: z
      .array(z.strictObject({ name: z.string().min(1), state: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']) }))
      .default([]),
    /** SSM parameters with their history, oldest first. */
    parameters: z
      .array(z.strictObject({ name: z.string().min(1), versions: z.array(z.string()).min(1) }))
      .default([]),
    /** Executions of the pipeline's own Step Functions workflows (e.g. one that FAILED). */
    executions: z
      .array(
        z.strictObject({
          state_machine: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
          name: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
          status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']),
        }),
      )
      .default([]),
    /**
     * The pipeline's source on GitHub (the GitHub fake): the last good commit's `files`, the
     * failing commit's `change` (`null` deletes a file). `${failed_commit}` in a model parameter
     * becomes the failing commit's id. `down`: GitHub answers 503 throughout.
     */
    github: z
      .strictObject({
        repository: z
          .string()
          .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/)
          .default('acme/payments'),
        branch: z.string().min(1).default('main'),
        files: z.record(z.string(), z.string()),
        change: z.record(z.string(), z.string().nullable()),
        down: z.boolean().default(false),
      })
      .optional(),
    /** Attempts already counted for this failure today (drives budgets). */
    prior_attempts: z.number().int().min(0).max(50).default(0),
    model: ModelReplySchema.optional(),
    approval: z
      .object({
        decision: z.enum(['approve', 'reject', 'none']),
        approver: z.string().default('arn:aws:iam::123456789012:user/oncall'),
        reason: z.string().optional(),
      })
      .optional(),
    /** How the world reacts to each mutating action. */
    world: z
      .object({
        retry: Reaction.default('Succeeded'),
        rollback: Reaction.default('Succeeded'),
        start: Reaction.default('Succeeded'),
        stop: Reaction.default('Succeeded'),
        /** How a redriven workflow execution ends. */
        redrive: z.enum(['Succeeded', 'Failed']).default('Succeeded'),
        /** Alarm states after the repair (validation reads them). */
        alarms_after: z.record(z.string(), z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA'])).default({}),
      })
      .prefault({}),
    expect: z
      .object({
        outcome: z.enum(['resolved', 'escalated', 'ignored', 'loop_detected', 'duplicate']).optional(),
        decision: z.enum(['allow', 'require_approval', 'deny']).optional(),
        codes: z.array(z.string()).optional(),
        actions: z.array(z.string()).optional(),
        workflows: z.number().int().min(0).optional(),
        secrets_absent: z.array(z.string()).optional(),
        /** Whether a pull request was opened (see `github`). */
        pull_request: z.boolean().optional(),
      })
      .prefault({}),
  })
  .strict();

/** A validated scenario. */
export type Scenario = z.infer<typeof ScenarioSchema>;

/** Reads and validates a scenario file (JSON or YAML); the error names the file and each wrong field. */
export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ScenarioError(`${file}: cannot read: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ScenarioError(
      `${file}: not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`,
    );
  }
  const parsed = ScenarioSchema.safeParse(raw);
  if (!parsed.success) throw new ScenarioError(`${file}: ${describeIssues(parsed.error)}`);
  if (parsed.data.event.source === 'alarm' && !parsed.data.event.alarm_name) {
    throw new ScenarioError(`${file}: event.alarm_name is required when event.source is alarm`);
  }
  return parsed.data;
}
