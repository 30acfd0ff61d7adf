import { BedrockGuardrail } from '@cdktf/provider-aws/lib/bedrock-guardrail';
import { BedrockagentAgent } from '@cdktf/provider-aws/lib/bedrockagent-agent';
import { BedrockagentAgentAlias } from '@cdktf/provider-aws/lib/bedrockagent-agent-alias';
import { Testing } from 'cdktf';
import { readFileSync } from 'node:fs';
import { agentFunctionsFromPolicyData, defaultPolicyDataFile } from '../../../modules/parts/bedrock-agent';
import { baseProps, grantsOf, resourceNamed, synthLoop, type Synthesized } from './helpers';

Testing.setupJest();

type Parameters = Record<string, { required: boolean }>;
type PolicyData = { actions: Record<string, { parameters: Parameters }> };

const model = 'anthropic.claude-3-5-sonnet-20240620-v1:0';

describe('Bedrock planner agent', () => {
  let synth: Synthesized;

  beforeAll(() => {
    synth = synthLoop({ ...baseProps, bedrock: { foundationModel: model } });
  });

  it('offers exactly the policy’s allowed actions, with their parameters, under RETURN_CONTROL', () => {
    // Prepare
    const data = JSON.parse(readFileSync(defaultPolicyDataFile(), 'utf8')) as PolicyData;
    const actions = data.actions;

    // Act
    const group = resourceNamed(synth, 'aws_bedrockagent_agent_action_group', 'actions') as {
      action_group_executor: unknown;
      agent_version: string;
      function_schema: {
        member_functions: {
          functions: {
            name: string;
            parameters: { map_block_key: string; required: boolean; type: string }[];
          }[];
        }[];
      }[];
    };

    // Assess
    expect(group.action_group_executor).toEqual([{ custom_control: 'RETURN_CONTROL' }]);
    expect(group.agent_version).toBe('DRAFT');
    const functions = group.function_schema[0]!.member_functions[0]!.functions;
    expect(functions.map((fn) => fn.name).sort()).toEqual(Object.keys(actions).sort());
    for (const fn of functions) {
      const declared = actions[fn.name]!.parameters;
      expect(fn.parameters.map((parameter) => parameter.map_block_key).sort()).toEqual(
        Object.keys(declared).sort(),
      );
      for (const parameter of fn.parameters)
        expect(parameter.required).toBe(declared[parameter.map_block_key]!.required);
    }
    const retry = functions.find((fn) => fn.name === 'retry_stage')!;
    expect(retry.parameters.find((parameter) => parameter.map_block_key === 'delay_seconds')?.type).toBe(
      'integer',
    );
  });

  it('guards the agent with sensitive-information filters and a pinned guardrail version', () => {
    expect(synth.raw).toHaveResourceWithProperties(BedrockGuardrail, {
      sensitive_information_policy_config: [
        expect.objectContaining({
          pii_entities_config: expect.arrayContaining([
            { type: 'AWS_SECRET_KEY', action: 'BLOCK' },
            { type: 'AWS_ACCESS_KEY', action: 'BLOCK' },
          ]),
          regexes_config: expect.arrayContaining([
            expect.objectContaining({ name: 'github-token', action: 'BLOCK' }),
          ]),
        }),
      ],
      kms_key_arn: expect.stringContaining('aws_kms_key'),
    });
    expect(synth.raw).toHaveResourceWithProperties(BedrockagentAgent, {
      foundation_model: model,
      guardrail_configuration: [
        {
          guardrail_identifier: expect.stringContaining('aws_bedrock_guardrail.'),
          guardrail_version: expect.stringContaining('aws_bedrock_guardrail_version.'),
        },
      ],
    });
    expect(synth.raw).toHaveResourceWithProperties(BedrockagentAgentAlias, { agent_alias_name: 'live' });
  });

  it('lets plan invoke the alias and nothing else of Bedrock; the agent only its model and guardrail', () => {
    expect(grantsOf(synth, 'functions_plan')['bedrock-agent']).toEqual([
      expect.objectContaining({
        actions: ['bedrock:InvokeAgent'],
        resources: [expect.stringMatching(/^\$\{aws_bedrockagent_agent_alias\..+\.agent_alias_arn\}$/)],
      }),
    ]);
    expect(grantsOf(synth, 'bedrock').model).toEqual([
      expect.objectContaining({
        actions: ['bedrock:InvokeModel'],
        resources: [expect.stringContaining(`foundation-model/${model}`)],
      }),
      expect.objectContaining({ actions: ['bedrock:ApplyGuardrail'] }),
    ]);
    const env = (
      resourceNamed(synth, 'aws_lambda_function', 'functions_plan_function').environment as {
        variables: Record<string, string>;
      }
    ).variables;
    expect(env).toMatchObject({
      SUTURE_BEDROCK_AGENT_ID: expect.stringContaining('aws_bedrockagent_agent.'),
      SUTURE_BEDROCK_AGENT_ALIAS_ID: expect.stringContaining('aws_bedrockagent_agent_alias.'),
      SUTURE_BEDROCK_TIMEOUT_MS: '20000',
    });
  });

  it('reads the functions from any policy data file, and refuses one without actions', () => {
    expect(agentFunctionsFromPolicyData().length).toBeGreaterThan(0);
    expect(() => agentFunctionsFromPolicyData(require.resolve('../../../package.json'))).toThrow(
      /declares no actions/,
    );
  });
});
