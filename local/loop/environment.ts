/**
 * The environment each function runs with in the local loop, and the record of what the
 * handlers read from it.
 *
 * A function's variables come from the synthesised module only (its `aws_lambda_function`'s
 * `environment.variables`). The loop adds what Lambda itself provides and what points the SDK
 * at 127.0.0.1 ({@link PLATFORM_VARIABLES}): never a `SUTURE_*` setting, except the location of
 * the policy bundle, which in Lambda lies beside the handler in the deployment package and here
 * is extracted from that very package.
 *
 * Every `SUTURE_*` variable a handler reads and the module did not set is a gap, unless it is a
 * tunable listed in {@link DEFAULTED_VARIABLES} with the reason the module leaves it at its
 * default. `suture simulate` and the e2e tests fail on gaps: a handler that starts reading a
 * new variable fails them until the module wires it.
 */

/** Variables the local loop sets for every function: what Lambda provides, and the local endpoints. */
export const PLATFORM_VARIABLES = [
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_CODEPIPELINE',
  'AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME',
  'AWS_ENDPOINT_URL_SFN',
  'SUTURE_S3_FORCE_PATH_STYLE',
  'SUTURE_POLICY_BUNDLE',
] as const;

/**
 * Variables a handler reads that the module leaves unset on purpose, by function: each has a
 * default in the handler that is the right value for a deployment, or exists for another way of
 * configuring the function (signed bundles). The reason says which.
 */
export const DEFAULTED_VARIABLES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  '*': {
    SUTURE_POLICY_VERIFICATION_KEY: 'set only for signed bundles (policy_bundle.verification_key)',
    SUTURE_POLICY_VERIFICATION_KEY_FILE: 'an alternative to SUTURE_POLICY_VERIFICATION_KEY',
    SUTURE_POLICY_KEY_ID: 'set only for signed bundles with a required kid',
    SUTURE_POLICY_SCOPE: 'set only for signed bundles with a required scope',
    SUTURE_POLICY_DEADLINE_MS: 'the 100 ms default deadline',
  },
  'collect-evidence': {
    SUTURE_LOG_TAIL_PAGES: 'the default of 3 pages read back from the end of a build log',
    SUTURE_LOG_TAIL_PAGE_EVENTS: 'the service default of 1,000 events per page',
  },
  execute: {
    SUTURE_IDEMPOTENCY_SECONDS: 'the 14-day default, longer than any workflow with its retries and redrives',
  },
  notify: {
    SUTURE_APPROVAL_TTL_SECONDS: 'the default approval record lifetime',
  },
};

/**
 * Variables of optional parts, by function: the module sets them only when the part is on, so
 * they may be absent exactly when the module variable that turns the part on says it is off.
 */
export const OPTIONAL_PART_VARIABLES: Readonly<
  Record<string, Readonly<Record<string, (variables: Readonly<Record<string, unknown>>) => boolean>>>
> = {
  classify: {
    SUTURE_CLASSIFY_MODEL_ID: (v) => v.classify_model_id === null || v.classify_model_id === undefined,
    // The 10 s default applies whether or not a model is configured.
    SUTURE_CLASSIFY_MODEL_TIMEOUT_MS: () => true,
  },
  plan: {
    SUTURE_BEDROCK_AGENT_ID: (v) => v.bedrock === null || v.bedrock === undefined,
    SUTURE_BEDROCK_AGENT_ALIAS_ID: (v) => v.bedrock === null || v.bedrock === undefined,
    SUTURE_BEDROCK_TIMEOUT_MS: (v) => v.bedrock === null || v.bedrock === undefined,
  },
  validate: {
    SUTURE_SMOKE_PROJECT: (v) => {
      const smoke = v.smoke_checks as { enabled?: unknown } | null | undefined;
      return smoke === null || smoke?.enabled === false;
    },
  },
};

/** A variable a function read that its module environment does not have. */
export interface EnvironmentGap {
  readonly function: string;
  readonly variable: string;
}

/** Records, per function, the `SUTURE_*` variables read and not set. */
export class EnvironmentRecorder {
  private readonly gaps = new Map<string, EnvironmentGap>();

  /**
   * The environment object a function sees: `variables`, recording each `SUTURE_*` read that
   * finds nothing (and is not a listed default).
   */
  view(
    fn: string,
    variables: Readonly<Record<string, string>>,
    moduleVariables: Readonly<Record<string, unknown>> = {},
  ): NodeJS.ProcessEnv {
    const allowed: Record<string, unknown> = { ...DEFAULTED_VARIABLES['*'], ...DEFAULTED_VARIABLES[fn] };
    for (const [name, off] of Object.entries(OPTIONAL_PART_VARIABLES[fn] ?? {}))
      if (off(moduleVariables)) allowed[name] = true;
    return new Proxy({ ...variables } as NodeJS.ProcessEnv, {
      get: (target, key) => {
        const value = Reflect.get(target, key) as unknown;
        if (
          typeof key === 'string' &&
          key.startsWith('SUTURE_') &&
          value === undefined &&
          !(key in allowed)
        ) {
          this.gaps.set(`${fn}/${key}`, { function: fn, variable: key });
        }
        return value;
      },
    });
  }

  /** Every gap seen so far, sorted. */
  list(): EnvironmentGap[] {
    return [...this.gaps.values()].sort((a, b) =>
      `${a.function}/${a.variable}`.localeCompare(`${b.function}/${b.variable}`),
    );
  }
}
