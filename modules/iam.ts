import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Token, type TerraformDataSource, type TerraformResource } from 'cdktf';
import { Construct } from 'constructs';

/** A condition of a {@link PolicyStatement}. */
export interface PolicyCondition {
  readonly test: string;
  readonly variable: string;
  readonly values: readonly string[];
}

/** One Allow statement: exact actions on exact resources, with a stable `sid`. */
export interface PolicyStatement {
  /** Stable identifier (letters and digits), unique within its document. */
  readonly sid: string;
  readonly actions: readonly string[];
  /** ARNs; cdktf tokens are fine, including one `Token.asList` spread in. */
  readonly resources: readonly string[];
  readonly conditions?: readonly PolicyCondition[];
}

/**
 * Actions AWS authorises only on `"Resource": "*"` (no resource-level permissions), each
 * with why the loop needs it. Nothing else may be granted on a wildcard resource.
 */
export const RESOURCE_WILDCARD_ALLOWED: Readonly<Record<string, string>> = {
  'xray:PutTraceSegments': 'X-Ray tracing of functions and the state machine',
  'xray:PutTelemetryRecords': 'X-Ray tracing of functions and the state machine',
  'xray:GetSamplingRules': 'X-Ray tracing of the state machine',
  'xray:GetSamplingTargets': 'X-Ray tracing of the state machine',
  'logs:CreateLogDelivery': 'Step Functions vended logs (no resource-level permissions)',
  'logs:GetLogDelivery': 'Step Functions vended logs (no resource-level permissions)',
  'logs:UpdateLogDelivery': 'Step Functions vended logs (no resource-level permissions)',
  'logs:DeleteLogDelivery': 'Step Functions vended logs (no resource-level permissions)',
  'logs:ListLogDeliveries': 'Step Functions vended logs (no resource-level permissions)',
  'logs:PutResourcePolicy': 'Step Functions vended logs (no resource-level permissions)',
  'logs:DescribeResourcePolicies': 'Step Functions vended logs (no resource-level permissions)',
  'logs:DescribeLogGroups': 'Step Functions vended logs (no resource-level permissions)',
};

/** Secrets Manager actions that only read. Every other Secrets Manager action is refused. */
const SECRETS_READ = new Set(['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']);
const SID = /^[A-Za-z0-9]+$/;
const ACTION = /^[a-z0-9-]+:[A-Za-z0-9]+$/;

/** A statement would widen what the loop may do beyond its least-privilege rules. */
export class PrivilegeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrivilegeError';
  }
}

/**
 * Enforces the loop's IAM rules on statements before they are synthesised: no wildcard in any
 * action, no IAM action, no Secrets Manager write, and a wildcard resource only for the actions
 * of {@link RESOURCE_WILDCARD_ALLOWED}. Throws {@link PrivilegeError} naming the statement.
 */
export function assertLeastPrivilege(statements: readonly PolicyStatement[]): void {
  const sids = new Set<string>();
  for (const statement of statements) {
    const where = `statement "${statement.sid}"`;
    if (!SID.test(statement.sid)) throw new PrivilegeError(`${where}: sid must be letters and digits`);
    if (sids.has(statement.sid)) throw new PrivilegeError(`${where}: duplicate sid`);
    sids.add(statement.sid);
    if (statement.actions.length === 0 || statement.resources.length === 0) {
      throw new PrivilegeError(`${where}: needs at least one action and one resource`);
    }
    for (const action of statement.actions) {
      if (!ACTION.test(action)) throw new PrivilegeError(`${where}: "${action}" is not one exact action`);
      if (action.startsWith('iam:'))
        throw new PrivilegeError(`${where}: IAM actions are never granted (${action})`);
      if (action.startsWith('secretsmanager:') && !SECRETS_READ.has(action)) {
        throw new PrivilegeError(`${where}: Secrets Manager writes are never granted (${action})`);
      }
    }
    const wildcard = statement.resources.some(
      (resource) => !Token.isUnresolved(resource) && resource === '*',
    );
    if (wildcard) {
      const refused = statement.actions.filter((action) => !(action in RESOURCE_WILDCARD_ALLOWED));
      if (refused.length > 0) {
        throw new PrivilegeError(`${where}: ${refused.join(', ')} must name exact resources, not "*"`);
      }
    }
  }
}

/** Props of {@link PolicyDocument}. */
export interface PolicyDocumentProps {
  readonly statements: readonly PolicyStatement[];
  /** Module mode: a Terraform number (0 or 1) deciding whether the document exists. @default exists */
  readonly count?: number;
}

/** An `aws_iam_policy_document` built from checked {@link PolicyStatement}s. */
export class PolicyDocument extends Construct {
  /** The rendered JSON policy. */
  readonly json: string;

  constructor(scope: Construct, id: string, props: PolicyDocumentProps) {
    super(scope, id);
    assertLeastPrivilege(props.statements);
    const document = new DataAwsIamPolicyDocument(this, 'document', {
      ...(props.count === undefined ? {} : { count: props.count }),
      statement: props.statements.map((statement) => ({
        sid: statement.sid,
        effect: 'Allow',
        actions: [...statement.actions],
        resources: [...statement.resources],
        ...(statement.conditions
          ? {
              condition: statement.conditions.map((condition) => ({
                test: condition.test,
                variable: condition.variable,
                values: [...condition.values],
              })),
            }
          : {}),
      })),
    });
    this.json = props.count === undefined ? document.json : splat(document, 'json');
  }
}

/** `one(resource[*].attribute)`: the attribute of a resource that has a count (null when 0). */
export function splat(resource: TerraformResource | TerraformDataSource, attribute: string): string {
  return Token.asString(`\${one(${resource.fqn}[*].${attribute})}`);
}

/** Props of {@link LoopRole}. */
export interface LoopRoleProps {
  /** Role name. */
  readonly name: string;
  readonly description: string;
  /** Service principal allowed to assume the role, e.g. `lambda.amazonaws.com`. */
  readonly servicePrincipal: string;
  /** Extra conditions on the trust policy (e.g. `aws:SourceAccount`). @default none */
  readonly trustConditions?: readonly PolicyCondition[];
  /** ARN of a permissions boundary. @default none */
  readonly permissionsBoundary?: string;
  /**
   * Module mode: a Terraform number (0 or 1) deciding whether the role (and every policy added
   * to it) exists. @default the role exists
   */
  readonly count?: number;
}

/**
 * An IAM role that one service assumes, holding one inline policy per concern. Grants go
 * through {@link LoopRole.addPolicy}, so every permission has a named concern and checked
 * statements with stable sids.
 */
export class LoopRole extends Construct {
  readonly role: IamRole;
  /** Concern names already granted, to keep inline policy names unique. */
  private readonly concerns = new Set<string>();
  private readonly count?: number;

  constructor(scope: Construct, id: string, props: LoopRoleProps) {
    super(scope, id);
    this.count = props.count;
    const count = props.count === undefined ? {} : { count: props.count };
    const trust = new DataAwsIamPolicyDocument(this, 'trust', {
      ...count,
      statement: [
        {
          sid: 'AssumeRole',
          effect: 'Allow',
          actions: ['sts:AssumeRole'],
          principals: [{ type: 'Service', identifiers: [props.servicePrincipal] }],
          ...(props.trustConditions
            ? {
                condition: props.trustConditions.map((condition) => ({
                  test: condition.test,
                  variable: condition.variable,
                  values: [...condition.values],
                })),
              }
            : {}),
        },
      ],
    });
    this.role = new IamRole(this, 'role', {
      ...count,
      name: props.name,
      description: props.description,
      assumeRolePolicy: props.count === undefined ? trust.json : splat(trust, 'json'),
      ...(props.permissionsBoundary ? { permissionsBoundary: props.permissionsBoundary } : {}),
    });
  }

  /** The role's ARN. */
  get arn(): string {
    return this.count === undefined ? this.role.arn : splat(this.role, 'arn');
  }

  /** The role's name. */
  get name(): string {
    return this.count === undefined ? this.role.name : splat(this.role, 'name');
  }

  /**
   * Attaches one concern's statements as an inline policy named after the concern.
   * `options.count` makes the policy conditional (module mode), e.g. on an optional part.
   * @throws PrivilegeError when a statement breaks the least-privilege rules
   */
  addPolicy(
    concern: string,
    statements: readonly PolicyStatement[],
    options: { readonly count?: number } = {},
  ): void {
    if (!/^[a-z0-9-]+$/.test(concern)) throw new Error(`concern "${concern}" must be kebab-case`);
    if (this.concerns.has(concern))
      throw new Error(`concern "${concern}" is already granted to ${this.node.path}`);
    this.concerns.add(concern);
    // A policy exists when its role does and, in module mode, when its own condition holds.
    const count = options.count ?? this.count;
    const document = new PolicyDocument(this, `${concern}-policy`, {
      statements,
      ...(count === undefined ? {} : { count }),
    });
    new IamRolePolicy(this, concern, {
      ...(count === undefined ? {} : { count }),
      name: concern,
      role: this.count === undefined ? this.role.id : splat(this.role, 'id'),
      policy: document.json,
    });
  }

  /** Whether a concern was granted (used by validations and tests). */
  hasConcern(concern: string): boolean {
    return this.concerns.has(concern);
  }
}
