import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { TerraformStack, Testing } from 'cdktf';
import { assertLeastPrivilege, LoopRole, PrivilegeError, type PolicyStatement } from '../../../modules/iam';

Testing.setupJest();

const statement = (overrides: Partial<PolicyStatement>): PolicyStatement => ({
  sid: 'Grant',
  actions: ['sns:Publish'],
  resources: ['arn:aws:sns:us-west-2:123456789012:topic'],
  ...overrides,
});

describe('assertLeastPrivilege', () => {
  it('accepts exact actions on exact resources, and "*" for actions without resource-level permissions', () => {
    expect(() =>
      assertLeastPrivilege([
        statement({}),
        statement({ sid: 'Traces', actions: ['xray:PutTraceSegments'], resources: ['*'] }),
        statement({ sid: 'ReadSecret', actions: ['secretsmanager:GetSecretValue'] }),
      ]),
    ).not.toThrow();
  });

  it.each([
    ['a wildcard action', { actions: ['sns:*'] }, /not one exact action/],
    ['a prefix wildcard', { actions: ['s3:Put*'] }, /not one exact action/],
    ['the full wildcard', { actions: ['*'] }, /not one exact action/],
    ['an IAM action', { actions: ['iam:PassRole'] }, /IAM actions are never granted/],
    ['a Secrets Manager write', { actions: ['secretsmanager:PutSecretValue'] }, /Secrets Manager writes/],
    ['a mutating action on "*"', { resources: ['*'] }, /sns:Publish must name exact resources/],
    ['no resources', { resources: [] }, /at least one action and one resource/],
    ['a bad sid', { sid: 'bad-sid' }, /letters and digits/],
  ])('refuses %s', (_name, overrides, expected) => {
    expect(() => assertLeastPrivilege([statement(overrides)])).toThrow(PrivilegeError);
    expect(() => assertLeastPrivilege([statement(overrides)])).toThrow(expected);
  });

  it('refuses duplicate sids', () => {
    expect(() => assertLeastPrivilege([statement({}), statement({})])).toThrow(/duplicate sid/);
  });
});

describe('LoopRole', () => {
  it('holds one inline policy per concern, rendered from a policy document', () => {
    const stack = new TerraformStack(Testing.app(), 'roles');
    new AwsProvider(stack, 'aws', { region: 'us-west-2' });
    const role = new LoopRole(stack, 'role', {
      name: 'r',
      description: 'd',
      servicePrincipal: 'lambda.amazonaws.com',
    });
    role.addPolicy('notifications', [statement({ sid: 'PublishNotifications' })]);

    const synth = Testing.synth(stack);

    expect(synth).toHaveResourceWithProperties(IamRolePolicy, {
      name: 'notifications',
      policy: expect.stringMatching(/^\$\{data\.aws_iam_policy_document\..+\.json\}$/),
    });
    expect(synth).toHaveDataSourceWithProperties(DataAwsIamPolicyDocument, {
      statement: [
        {
          sid: 'PublishNotifications',
          effect: 'Allow',
          actions: ['sns:Publish'],
          resources: ['arn:aws:sns:us-west-2:123456789012:topic'],
        },
      ],
    });
    expect(synth).toHaveDataSourceWithProperties(DataAwsIamPolicyDocument, {
      statement: [
        expect.objectContaining({
          actions: ['sts:AssumeRole'],
          principals: [{ type: 'Service', identifiers: ['lambda.amazonaws.com'] }],
        }),
      ],
    });
    expect(() => role.addPolicy('notifications', [statement({})])).toThrow(/already granted/);
    expect(() => role.addPolicy('Bad Concern', [statement({})])).toThrow(/kebab-case/);
  });

  it('makes every part conditional in module mode', () => {
    const stack = new TerraformStack(Testing.app(), 'counted');
    new AwsProvider(stack, 'aws', { region: 'us-west-2' });
    const role = new LoopRole(stack, 'role', {
      name: 'r',
      description: 'd',
      servicePrincipal: 'bedrock.amazonaws.com',
      count: 0,
    });
    role.addPolicy('model', [statement({})]);

    const json = JSON.parse(Testing.synth(stack));

    for (const named of [
      json.resource.aws_iam_role,
      json.resource.aws_iam_role_policy,
      json.data.aws_iam_policy_document,
    ]) {
      for (const resource of Object.values(named) as { count?: number }[]) expect(resource.count).toBe(0);
    }
    expect(role.arn).toBeDefined();
    expect(
      Object.values(json.resource.aws_iam_role_policy as Record<string, { role: string }>)[0]!.role,
    ).toMatch(/^\$\{one\(aws_iam_role\..+\[\*\]\.id\)\}$/);
  });
});
