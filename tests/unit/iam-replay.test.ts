import {
  IamReplay,
  ReplayAccessDeniedError,
  type PolicyJson,
  type ReplayPrincipal,
} from '../../local/iam/replay';
import {
  authorizationRequests,
  mappedOperations,
  UnmappedCallError,
  type DeploymentFacts,
} from '../../local/iam/requests';

const facts: DeploymentFacts = {
  account: '123456789012',
  region: 'us-west-2',
  partition: 'aws',
  hashKeyOf: (table) => ({ guard: 'pk', audit: 'incident_id' })[table],
};

const ROLE = 'arn:aws:iam::123456789012:role/suture-execute';
const principal = (name: string, statements: PolicyJson['Statement']): ReplayPrincipal => ({
  name,
  roleArn: ROLE,
  policies: [{ name: 'grants', document: { Version: '2012-10-17', Statement: statements } }],
});

/** One realistic input for every operation the mapping knows. */
const SAMPLES: Record<string, unknown> = {
  'DynamoDBClient.GetItem': { TableName: 'guard', Key: { pk: { S: 'fp#1' } } },
  'DynamoDBClient.PutItem': { TableName: 'audit', Item: { incident_id: { S: 'i-1' }, seq: { N: '1' } } },
  'DynamoDBClient.UpdateItem': { TableName: 'guard', Key: { pk: { S: 'fp#1' } } },
  'DynamoDBClient.DeleteItem': { TableName: 'guard', Key: { pk: { S: 'fp#1' } } },
  'DynamoDBClient.Query': { TableName: 'audit', IndexName: 'by-time' },
  'DynamoDBClient.Scan': { TableName: 'audit' },
  'DynamoDBClient.BatchGetItem': {
    RequestItems: { guard: { Keys: [{ pk: { S: 'a' } }, { pk: { S: 'b' } }] } },
  },
  'DynamoDBClient.BatchWriteItem': {
    RequestItems: { guard: [{ PutRequest: { Item: { pk: { S: 'a' } } } }] },
  },
  'DynamoDBClient.TransactWriteItems': {
    TransactItems: [
      { Put: { TableName: 'guard', Item: { pk: { S: 'delivery#1' } } } },
      { Update: { TableName: 'guard', Key: { pk: { S: 'fingerprint#1' } } } },
      { ConditionCheck: { TableName: 'guard', Key: { pk: { S: 'x' } } } },
    ],
  },
  'DynamoDBClient.TransactGetItems': {
    TransactItems: [{ Get: { TableName: 'guard', Key: { pk: { S: 'a' } } } }],
  },
  'S3Client.PutObject': {
    Bucket: 'evidence',
    Key: 'evidence/i-1/full.json',
    ServerSideEncryption: 'aws:kms',
    SSEKMSKeyId: 'arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  },
  'S3Client.GetObject': { Bucket: 'evidence', Key: 'evidence/i-1/full.json' },
  'S3Client.HeadObject': { Bucket: 'evidence', Key: 'evidence/i-1/full.json' },
  'S3Client.DeleteObject': { Bucket: 'evidence', Key: 'evidence/i-1/full.json' },
  'S3Client.ListObjectsV2': { Bucket: 'evidence', Prefix: 'evidence/' },
  'SNSClient.Publish': { TopicArn: 'arn:aws:sns:us-west-2:123456789012:suture-notifications' },
  'SFNClient.StartExecution': {
    stateMachineArn: 'arn:aws:states:us-west-2:123456789012:stateMachine:suture-loop',
  },
  'SFNClient.DescribeExecution': {
    executionArn: 'arn:aws:states:us-west-2:123456789012:execution:suture-loop:x',
  },
  'SFNClient.RedriveExecution': {
    executionArn: 'arn:aws:states:us-west-2:123456789012:execution:deploy:run-1',
  },
  'SFNClient.StopExecution': { executionArn: 'arn:aws:states:us-west-2:123456789012:execution:deploy:run-1' },
  'SFNClient.SendTaskSuccess': { taskToken: 't', output: '{}' },
  'SFNClient.SendTaskFailure': { taskToken: 't' },
  'SFNClient.SendTaskHeartbeat': { taskToken: 't' },
  'CodePipelineClient.GetPipeline': { name: 'myPipeline' },
  'CodePipelineClient.GetPipelineState': { name: 'myPipeline' },
  'CodePipelineClient.GetPipelineExecution': { pipelineName: 'myPipeline', pipelineExecutionId: 'e' },
  'CodePipelineClient.ListPipelineExecutions': { pipelineName: 'myPipeline' },
  'CodePipelineClient.ListActionExecutions': { pipelineName: 'myPipeline' },
  'CodePipelineClient.StartPipelineExecution': { name: 'myPipeline' },
  'CodePipelineClient.StopPipelineExecution': { pipelineName: 'myPipeline', pipelineExecutionId: 'e' },
  'CodePipelineClient.RetryStageExecution': { pipelineName: 'myPipeline', stageName: 'Build' },
  'CodePipelineClient.RollbackStage': { pipelineName: 'myPipeline', stageName: 'Deploy' },
  'CodePipelineClient.ListTagsForResource': {
    resourceArn: 'arn:aws:codepipeline:us-west-2:123456789012:myPipeline',
  },
  'CloudWatchClient.DescribeAlarms': { AlarmNames: ['p99-latency', 'errors'] },
  'CloudWatchLogsClient.GetLogEvents': { logGroupName: '/aws/codebuild/app', logStreamName: 'build/1' },
  'CloudWatchLogsClient.FilterLogEvents': { logGroupName: '/aws/codebuild/app' },
  'CodeBuildClient.BatchGetBuilds': { ids: ['app-build:0b1c', 'app-build:2d3e'] },
  'CodeBuildClient.ListBuildsForProject': { projectName: 'suture-smoke' },
  'CodeBuildClient.StartBuild': { projectName: 'suture-smoke' },
  'SSMClient.GetParameterHistory': { Name: '/myPipeline/image-tag' },
  'SSMClient.GetParameter': { Name: '/myPipeline/image-tag' },
  'SSMClient.PutParameter': { Name: '/myPipeline/image-tag', Value: 'v1', Overwrite: true },
  'BedrockAgentRuntimeClient.InvokeAgent': {
    agentId: 'AGENT12345',
    agentAliasId: 'ALIAS12345',
    sessionId: 's',
  },
  'BedrockRuntimeClient.Converse': { modelId: 'anthropic.claude-3-5-sonnet-20240620-v1:0' },
  'BedrockRuntimeClient.InvokeModel': { modelId: 'anthropic.claude-3-5-sonnet-20240620-v1:0' },
  'LambdaClient.Invoke': { FunctionName: 'arn:aws:lambda:us-west-2:123456789012:function:suture-plan' },
  'SecretsManagerClient.GetSecretValue': {
    SecretId: 'arn:aws:secretsmanager:us-west-2:123456789012:secret:suture/github-AbCdEf',
  },
  'KMSClient.Sign': { KeyId: 'arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
  'KMSClient.Verify': {
    KeyId: 'arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  },
  'KMSClient.GetPublicKey': {
    KeyId: 'arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  },
};

describe('IAM replay: what AWS authorises for each SDK call', () => {
  it('maps every known operation to actions and ARNs that the Service Authorization Reference accepts', async () => {
    // Prepare: a role allowed everything, so only a malformed request can fail
    const replay = new IamReplay([principal('fn', [{ Effect: 'Allow', Action: '*', Resource: '*' }])], facts);

    // Act
    const refused: string[] = [];
    for (const { client, operation } of mappedOperations()) {
      const sample = SAMPLES[`${client}.${operation}`];
      if (sample === undefined) {
        refused.push(`${client}.${operation}: no sample input in this test`);
        continue;
      }
      const decisions = await replay
        .authorize('fn', client, `${operation}Command`, sample)
        .catch((error: Error) => {
          refused.push(`${client}.${operation}: ${error.message}`);
          return [];
        });
      for (const decision of decisions)
        if (!decision.allowed) refused.push(`${client}.${operation}: ${decision.result}`);
    }

    // Assess
    expect(refused).toEqual([]);
  });

  it('authorises items by table and leading key, transactions item by item, and SSE-KMS writes on the key', () => {
    const transact = authorizationRequests(
      'DynamoDBClient',
      'TransactWriteItemsCommand',
      SAMPLES['DynamoDBClient.TransactWriteItems'],
      facts,
    );
    expect(transact.map((r) => [r.action, r.resource, r.context['dynamodb:LeadingKeys']])).toEqual([
      ['dynamodb:PutItem', 'arn:aws:dynamodb:us-west-2:123456789012:table/guard', ['delivery#1']],
      ['dynamodb:UpdateItem', 'arn:aws:dynamodb:us-west-2:123456789012:table/guard', ['fingerprint#1']],
      ['dynamodb:ConditionCheckItem', 'arn:aws:dynamodb:us-west-2:123456789012:table/guard', ['x']],
    ]);
    const put = authorizationRequests('S3Client', 'PutObjectCommand', SAMPLES['S3Client.PutObject'], facts);
    expect(put.map((r) => r.action)).toEqual(['s3:PutObject', 'kms:GenerateDataKey']);
    expect(put[1]!.context['kms:ViaService']).toBe('s3.us-west-2.amazonaws.com');
    const ssm = authorizationRequests(
      'SSMClient',
      'PutParameterCommand',
      SAMPLES['SSMClient.PutParameter'],
      facts,
    );
    expect(ssm[0]).toMatchObject({
      resource: 'arn:aws:ssm:us-west-2:123456789012:parameter/myPipeline/image-tag',
      context: { 'ssm:Overwrite': 'true' },
    });
  });

  it('refuses a call it cannot describe instead of allowing it', () => {
    expect(() =>
      authorizationRequests('DynamoDBClient', 'DeleteTableCommand', { TableName: 't' }, facts),
    ).toThrow(UnmappedCallError);
    expect(() => authorizationRequests('DynamoDBClient', 'DeleteTableCommand', {}, facts)).toThrow(
      /DynamoDBClient DeleteTable/,
    );
  });

  it('denies what the role does not grant, naming the function, the action and the resource', async () => {
    // Prepare: execute may retry stages of one pipeline, nothing else
    const replay = new IamReplay(
      [
        principal('execute', [
          {
            Sid: 'RepairPipelinesInScope',
            Effect: 'Allow',
            Action: ['codepipeline:RetryStageExecution'],
            Resource: ['arn:aws:codepipeline:us-west-2:123456789012:myPipeline/*'],
          },
        ]),
      ],
      facts,
    );

    // Act
    const allowed = await replay.authorize('execute', 'CodePipelineClient', 'RetryStageExecutionCommand', {
      pipelineName: 'myPipeline',
      stageName: 'Build',
    });
    const denied = replay.authorize('execute', 'SFNClient', 'RedriveExecutionCommand', {
      executionArn: 'arn:aws:states:us-west-2:123456789012:execution:deploy:run-1',
    });

    // Assess
    expect(allowed.every((d) => d.allowed)).toBe(true);
    await expect(denied).rejects.toBeInstanceOf(ReplayAccessDeniedError);
    await expect(denied).rejects.toThrow(
      'User: arn:aws:sts::123456789012:assumed-role/suture-execute/execute is not authorized to perform: states:RedriveExecution on resource: arn:aws:states:us-west-2:123456789012:execution:deploy:run-1',
    );
    expect(replay.denials()).toEqual([
      expect.objectContaining({
        principal: 'execute',
        action: 'states:RedriveExecution',
        resource: 'arn:aws:states:us-west-2:123456789012:execution:deploy:run-1',
      }),
    ]);
  });

  it('evaluates condition keys the call defines (dynamodb:LeadingKeys)', async () => {
    // Prepare: triage may only write delivery# and fingerprint# items of the guard table
    const replay = new IamReplay(
      [
        principal('triage', [
          {
            Sid: 'GuardItems',
            Effect: 'Allow',
            Action: ['dynamodb:PutItem'],
            Resource: ['arn:aws:dynamodb:us-west-2:123456789012:table/guard'],
            Condition: {
              'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['delivery#*', 'fingerprint#*'] },
            },
          },
        ]),
      ],
      facts,
    );
    const put = (pk: string) =>
      replay.authorize('triage', 'DynamoDBClient', 'PutItemCommand', {
        TableName: 'guard',
        Item: { pk: { S: pk } },
      });

    // Act / Assess
    await expect(put('delivery#abc')).resolves.toEqual([expect.objectContaining({ allowed: true })]);
    await expect(put('approval#abc')).rejects.toThrow(/dynamodb:PutItem on resource: .*table\/guard/);
  });

  it('applies the permissions boundary', async () => {
    const boundary: PolicyJson = {
      Statement: [{ Effect: 'Allow', Action: 'codepipeline:Get*', Resource: '*' }],
    };
    const replay = new IamReplay(
      [
        {
          ...principal('collect-evidence', [{ Effect: 'Allow', Action: 'codepipeline:*', Resource: '*' }]),
          permissionsBoundary: boundary,
        },
      ],
      facts,
    );
    await expect(
      replay.authorize('collect-evidence', 'CodePipelineClient', 'GetPipelineCommand', {
        name: 'myPipeline',
      }),
    ).resolves.toHaveLength(1);
    await expect(
      replay.authorize('collect-evidence', 'CodePipelineClient', 'StartPipelineExecutionCommand', {
        name: 'myPipeline',
      }),
    ).rejects.toBeInstanceOf(ReplayAccessDeniedError);
  });

  it('lists the granted actions and resources that no call used', async () => {
    // Prepare
    const replay = new IamReplay(
      [
        principal('validate', [
          {
            Sid: 'ReadPipelines',
            Effect: 'Allow',
            Action: ['codepipeline:GetPipelineState', 'codepipeline:ListActionExecutions'],
            Resource: [
              'arn:aws:codepipeline:us-west-2:123456789012:myPipeline',
              'arn:aws:codepipeline:us-west-2:123456789012:other',
            ],
          },
          { Sid: 'Smoke', Effect: 'Allow', Action: ['codebuild:BatchGetBuilds'], Resource: ['*'] },
        ]),
      ],
      facts,
    );

    // Act
    await replay.authorize('validate', 'CodePipelineClient', 'GetPipelineStateCommand', {
      name: 'myPipeline',
    });

    // Assess
    expect(replay.unusedGrants()).toEqual([
      {
        principal: 'validate',
        policy: 'grants',
        sid: 'ReadPipelines',
        action: 'codepipeline:ListActionExecutions',
      },
      {
        principal: 'validate',
        policy: 'grants',
        sid: 'ReadPipelines',
        resource: 'arn:aws:codepipeline:us-west-2:123456789012:other',
      },
      { principal: 'validate', policy: 'grants', sid: 'Smoke' },
    ]);
  });

  it('names the principals it knows when a call comes from an unknown one', async () => {
    const replay = new IamReplay([principal('execute', [])], facts);
    await expect(replay.authorize('unattributed', 'SNSClient', 'PublishCommand', {})).rejects.toThrow(
      'IAM replay has no principal "unattributed" (module roles: execute)',
    );
  });
});
