import { BedrockGuardrail } from '@cdktf/provider-aws/lib/bedrock-guardrail';
import { BedrockGuardrailVersion } from '@cdktf/provider-aws/lib/bedrock-guardrail-version';
import { BedrockagentAgent } from '@cdktf/provider-aws/lib/bedrockagent-agent';
import { BedrockagentAgentActionGroup } from '@cdktf/provider-aws/lib/bedrockagent-agent-action-group';
import { BedrockagentAgentAlias } from '@cdktf/provider-aws/lib/bedrockagent-agent-alias';
import type { TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../tooling/paths';
import { LoopRole, splat } from '../iam';
import type { LoopScope } from './scope';

/** A parameter of an allowed action, as `policies/suture/config/data.json` declares it. */
interface ActionParameter {
  readonly type: 'string' | 'number' | 'boolean';
  readonly required: boolean;
  readonly integer?: boolean;
  readonly one_of?: readonly string[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly free_text?: boolean;
}

/** One allowed action of the policy data. */
interface PolicyAction {
  readonly mutating: boolean;
  readonly parameters: Readonly<Record<string, ActionParameter>>;
}

/** A function of the agent's action group (Terraform's `function_schema` shape). */
export interface AgentFunction {
  readonly name: string;
  readonly description: string;
  readonly parameters: readonly {
    readonly mapBlockKey: string;
    readonly type: 'string' | 'number' | 'integer' | 'boolean';
    readonly description: string;
    readonly required: boolean;
  }[];
}

/** The policy data file whose `actions` are everything the loop may ever propose. */
export function defaultPolicyDataFile(): string {
  return join(repoRoot(), 'policies', 'suture', 'config', 'data.json');
}

/**
 * The agent's functions: exactly the actions the policy allows, with their parameters, so the
 * model can only propose what the gate knows how to judge. Read from the policy data, sorted.
 */
export function agentFunctionsFromPolicyData(dataFile: string = defaultPolicyDataFile()): AgentFunction[] {
  const data = JSON.parse(readFileSync(dataFile, 'utf8')) as { actions?: Record<string, PolicyAction> };
  if (!data.actions || Object.keys(data.actions).length === 0)
    throw new Error(`${dataFile} declares no actions`);
  return Object.entries(data.actions)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, action]) => ({
      name,
      description: `Propose ${name.replaceAll('_', ' ')}${action.mutating ? ' (changes the pipeline; the policy decides)' : ''}.`,
      parameters: Object.entries(action.parameters)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([key, parameter]) => ({
          mapBlockKey: key,
          type: parameter.type === 'number' && parameter.integer ? 'integer' : parameter.type,
          description: describeParameter(key, parameter),
          required: parameter.required,
        })),
    }));
}

function describeParameter(key: string, parameter: ActionParameter): string {
  const parts = [key.replaceAll('_', ' ')];
  if (parameter.one_of) parts.push(`one of ${parameter.one_of.join(', ')}`);
  if (parameter.minimum !== undefined) parts.push(`minimum ${parameter.minimum}`);
  if (parameter.maximum !== undefined) parts.push(`maximum ${parameter.maximum}`);
  return parts.join('; ');
}

/** A sensitive-information type the guardrail blocks or anonymises. */
export interface GuardrailPiiEntity {
  /** Bedrock PII entity type, e.g. `AWS_SECRET_KEY`. */
  readonly type: string;
  readonly action: 'BLOCK' | 'ANONYMIZE';
}

/** Secrets never reach or leave the model; personal data is masked. */
export const DEFAULT_PII_ENTITIES: readonly GuardrailPiiEntity[] = [
  { type: 'AWS_ACCESS_KEY', action: 'BLOCK' },
  { type: 'AWS_SECRET_KEY', action: 'BLOCK' },
  { type: 'PASSWORD', action: 'BLOCK' },
  { type: 'EMAIL', action: 'ANONYMIZE' },
  { type: 'PHONE', action: 'ANONYMIZE' },
  { type: 'IP_ADDRESS', action: 'ANONYMIZE' },
];

/** Token shapes the redactor also removes; the guardrail is the second line. */
const SECRET_PATTERNS = [
  { name: 'github-token', pattern: 'gh[pousr]_[A-Za-z0-9]{36,}', description: 'GitHub tokens' },
  { name: 'private-key', pattern: '-----BEGIN [A-Z ]*PRIVATE KEY-----', description: 'PEM private keys' },
  {
    name: 'jwt',
    pattern: 'eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}',
    description: 'JWTs',
  },
];

/** The agent's instruction: it proposes, it never acts. */
export const DEFAULT_AGENT_INSTRUCTION = [
  'You help repair failed CI/CD pipeline runs on AWS.',
  'Given redacted evidence of one failure and its class, propose exactly one of your functions with its parameters,',
  'or the escalate function when no listed function clearly fits. You never run anything yourself:',
  'a policy decides whether your proposal runs. Never include commands, scripts, credentials or IAM changes.',
].join(' ');

/** Bedrock settings of the loop. */
export interface BedrockSettings {
  /** Foundation model id, e.g. `anthropic.claude-3-5-sonnet-20240620-v1:0`. */
  readonly foundationModel: string;
  /** @default {@link DEFAULT_AGENT_INSTRUCTION} */
  readonly instruction?: string;
  /** Name of the alias the plan function calls. @default `live` */
  readonly aliasName?: string;
  /** @default 600 */
  readonly idleSessionTtlSeconds?: number;
  /** How long plan waits for the agent before falling back to a playbook. @default 20000 */
  readonly timeoutMs?: number;
  /** @default {@link DEFAULT_PII_ENTITIES} */
  readonly piiEntities?: readonly GuardrailPiiEntity[];
  /** Policy data whose actions become the agent's functions. @default `policies/suture/config/data.json` */
  readonly policyDataFile?: string;
  /**
   * Module mode: a Terraform number (0 or 1) that decides at apply time whether the agent exists.
   * @default the agent always exists when settings are given
   */
  readonly count?: number;
}

/** Props of {@link BedrockAgent}. */
export interface BedrockAgentProps extends BedrockSettings {
  readonly namePrefix: string;
  readonly scope: LoopScope;
  readonly kmsKeyArn: string;
}

/**
 * The optional Bedrock agent that plan consults: an action group with `RETURN_CONTROL` whose
 * functions are exactly the allowed actions (the agent proposes, it never executes), an alias
 * for plan to call, and a guardrail with sensitive-information filters and prompt-attack
 * filtering, pinned by version.
 */
export class BedrockAgent extends Construct {
  readonly agent: BedrockagentAgent;
  readonly alias: BedrockagentAgentAlias;
  readonly guardrail: BedrockGuardrail;
  readonly role: LoopRole;
  readonly functions: readonly AgentFunction[];
  readonly timeoutMs: number;
  /** Module mode: the Terraform number (0 or 1) deciding whether the agent exists. */
  readonly count?: number;

  constructor(scope: Construct, id: string, props: BedrockAgentProps) {
    super(scope, id);
    const { partition, region, accountId } = props.scope;
    const count = props.count === undefined ? {} : { count: props.count };
    this.count = props.count;
    this.timeoutMs = props.timeoutMs ?? 20_000;
    this.functions = agentFunctionsFromPolicyData(props.policyDataFile);
    const name = `${props.namePrefix}-planner`;

    this.guardrail = new BedrockGuardrail(this, 'guardrail', {
      ...count,
      name: `${props.namePrefix}-guardrail`,
      description: 'Suture: keeps secrets and personal data out of prompts and proposals',
      blockedInputMessaging: 'Suture blocked this input: it contained secrets or a prompt attack.',
      blockedOutputsMessaging: 'Suture blocked this proposal: it contained secrets.',
      kmsKeyArn: props.kmsKeyArn,
      sensitiveInformationPolicyConfig: [
        {
          piiEntitiesConfig: (props.piiEntities ?? DEFAULT_PII_ENTITIES).map((entity) => ({ ...entity })),
          regexesConfig: SECRET_PATTERNS.map((pattern) => ({ ...pattern, action: 'BLOCK' })),
        },
      ],
      contentPolicyConfig: [
        { filtersConfig: [{ type: 'PROMPT_ATTACK', inputStrength: 'HIGH', outputStrength: 'NONE' }] },
      ],
    });
    const guardrailArn = this.attribute(this.guardrail, 'guardrail_arn', this.guardrail.guardrailArn);
    const guardrailVersion = new BedrockGuardrailVersion(this, 'guardrail-version', {
      ...count,
      guardrailArn,
      description: 'Pinned by the Suture planner agent',
    });

    this.role = new LoopRole(this, 'role', {
      // The prefix Bedrock's documentation asks agent service roles to carry.
      name: `AmazonBedrockExecutionRoleForAgents_${props.namePrefix}`,
      description: 'Suture planner agent: invokes its foundation model through the guardrail',
      servicePrincipal: 'bedrock.amazonaws.com',
      ...count,
      trustConditions: [
        { test: 'StringEquals', variable: 'aws:SourceAccount', values: [accountId] },
        {
          test: 'ArnLike',
          variable: 'aws:SourceArn',
          values: [`arn:${partition}:bedrock:${region}:${accountId}:agent/*`],
        },
      ],
    });
    this.role.addPolicy('model', [
      {
        sid: 'InvokeFoundationModel',
        actions: ['bedrock:InvokeModel'],
        resources: [`arn:${partition}:bedrock:${region}::foundation-model/${props.foundationModel}`],
      },
      { sid: 'ApplyGuardrail', actions: ['bedrock:ApplyGuardrail'], resources: [guardrailArn] },
    ]);
    this.role.addPolicy('kms', [
      { sid: 'UseLoopKey', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.kmsKeyArn] },
    ]);

    this.agent = new BedrockagentAgent(this, 'agent', {
      ...count,
      agentName: name,
      description: 'Suture: proposes one allowed remediation; never executes',
      agentResourceRoleArn: this.role.arn,
      foundationModel: props.foundationModel,
      instruction: props.instruction ?? DEFAULT_AGENT_INSTRUCTION,
      idleSessionTtlInSeconds: props.idleSessionTtlSeconds ?? 600,
      customerEncryptionKeyArn: props.kmsKeyArn,
      prepareAgent: true,
      guardrailConfiguration: [
        {
          guardrailIdentifier: this.attribute(this.guardrail, 'guardrail_id', this.guardrail.guardrailId),
          guardrailVersion: this.attribute(guardrailVersion, 'version', guardrailVersion.version),
        },
      ],
    });
    const agentId = this.agentId;
    const actionGroup = new BedrockagentAgentActionGroup(this, 'actions', {
      ...count,
      agentId,
      agentVersion: 'DRAFT',
      actionGroupName: 'RemediationActions',
      description: 'The remediations the policy knows; control returns to Suture for every call.',
      actionGroupState: 'ENABLED',
      prepareAgent: true,
      actionGroupExecutor: [{ customControl: 'RETURN_CONTROL' }],
      functionSchema: [
        {
          memberFunctions: [
            {
              functions: this.functions.map((fn) => ({
                name: fn.name,
                description: fn.description,
                parameters: fn.parameters.map((parameter) => ({ ...parameter })),
              })),
            },
          ],
        },
      ],
    });
    this.alias = new BedrockagentAgentAlias(this, 'alias', {
      ...count,
      agentId,
      agentAliasName: props.aliasName ?? 'live',
      description: 'Called by the Suture plan function',
      dependsOn: [actionGroup],
    });
  }

  /** The agent's id (Terraform null when the agent is switched off in module mode). */
  get agentId(): string {
    return this.attribute(this.agent, 'agent_id', this.agent.agentId);
  }

  /** The alias id plan calls. */
  get aliasId(): string {
    return this.attribute(this.alias, 'agent_alias_id', this.alias.agentAliasId);
  }

  /** The alias ARN (what `bedrock:InvokeAgent` is granted on). */
  get aliasArn(): string {
    return this.attribute(this.alias, 'agent_alias_arn', this.alias.agentAliasArn);
  }

  /** Lets `role` invoke the agent through its alias, and nothing else. */
  grantInvoke(role: LoopRole): void {
    role.addPolicy(
      'bedrock-agent',
      [{ sid: 'InvokePlannerAgent', actions: ['bedrock:InvokeAgent'], resources: [this.aliasArn] }],
      this.count === undefined ? {} : { count: this.count },
    );
  }

  /** An attribute of a resource that may have a count: `one(x[*].attr)` then, else the plain reference. */
  private attribute(resource: TerraformResource, terraformName: string, plain: string): string {
    return this.count === undefined ? plain : splat(resource, terraformName);
  }
}
