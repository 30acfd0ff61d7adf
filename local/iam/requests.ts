/**
 * What AWS authorises for one SDK call: the IAM action(s), the resource ARN(s) and the
 * condition keys the call itself defines. This is the half of IAM replay that knows the AWS
 * APIs; {@link ../iam/replay} evaluates the requests against the module's policies.
 *
 * Every operation the loop's handlers call is mapped here. A call this table does not know is
 * an error, never an implicit allow: a handler that starts calling a new API fails its first
 * local run until the call is described here (and granted in the module).
 *
 * Sources: the Service Authorization Reference ("Actions, resources, and condition keys for
 * <service>"); the ARN formats below are the resource types listed there, and iam-simulate
 * checks each ARN against the resource types its action accepts.
 */

/** The account, region and partition the module is deployed to. */
export interface AwsLocation {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
}

/** One authorisation AWS performs for a call. */
export interface AuthorizationRequest {
  /** e.g. `dynamodb:PutItem`. */
  readonly action: string;
  /** The resource ARN, or `*` for actions without resource-level permissions. */
  readonly resource: string;
  /** Condition keys the call defines (service-specific and request-derived global keys). */
  readonly context: Readonly<Record<string, string | readonly string[]>>;
  /**
   * Set when the service authorises against a resource that the Service Authorization
   * Reference does not list for the action (so reference-based validation must be skipped);
   * says why.
   */
  readonly beyondReference?: string;
}

/** What the mapping needs to know about the deployment (from the module). */
export interface DeploymentFacts extends AwsLocation {
  /** The partition key attribute of a DynamoDB table, for `dynamodb:LeadingKeys`. */
  hashKeyOf(table: string): string | undefined;
  /** The state machine whose execution issued a task token, when known. */
  stateMachineOfTask?(token: string): string | undefined;
}

/**
 * SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat. The reference lists no resource type
 * (so "*"), but Step Functions authorises them against the state machine whose execution
 * issued the token ("… is not authorized to perform: states:SendTaskFailure on resource:
 * arn:aws:states:…:stateMachine:…"), and a grant on that state machine works.
 */
const taskResult =
  (action: string): Mapper =>
  (input, facts) => {
    const machine =
      typeof input.taskToken === 'string' ? facts.stateMachineOfTask?.(input.taskToken) : undefined;
    if (!machine) return [request(action, '*')];
    return [
      {
        ...request(action, machine),
        beyondReference: 'Step Functions authorises task results against the state machine of the token',
      },
    ];
  };

/** A call that has no mapping: the replay refuses it instead of guessing. */
export class UnmappedCallError extends Error {
  constructor(service: string, operation: string) {
    super(
      `IAM replay does not know how AWS authorises ${service} ${operation}; describe it in local/iam/requests.ts`,
    );
    this.name = 'UnmappedCallError';
  }
}

type Input = Record<string, unknown>;
type Mapper = (input: Input, facts: DeploymentFacts) => AuthorizationRequest[];

const text = (value: unknown, what: string): string => {
  if (typeof value !== 'string' || value === '') throw new Error(`the call has no ${what}`);
  return value;
};

const request = (
  action: string,
  resource: string,
  context: AuthorizationRequest['context'] = {},
): AuthorizationRequest => ({ action, resource, context });

// --------------------------------------------------------------------------------------------
// DynamoDB

/** A table ARN from a table name or ARN. */
function tableArn(name: string, facts: DeploymentFacts): string {
  return name.startsWith('arn:')
    ? name
    : `arn:${facts.partition}:dynamodb:${facts.region}:${facts.account}:table/${name}`;
}

function tableName(nameOrArn: string): string {
  return nameOrArn.startsWith('arn:') ? nameOrArn.replace(/^.*:table\//, '').split('/')[0]! : nameOrArn;
}

/** The scalar value of a DynamoDB attribute value (`{S}`, `{N}`, `{B}`), as IAM compares it. */
function scalar(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const attribute = value as { S?: unknown; N?: unknown; B?: unknown };
  if (typeof attribute.S === 'string') return attribute.S;
  if (typeof attribute.N === 'string') return attribute.N;
  if (attribute.B instanceof Uint8Array) return Buffer.from(attribute.B).toString('base64');
  return undefined;
}

/** `dynamodb:LeadingKeys` of items addressed by key (or carried whole), when the table's hash key is known. */
function leadingKeys(
  table: string,
  items: readonly unknown[],
  facts: DeploymentFacts,
): Record<string, string[]> {
  const hash = facts.hashKeyOf(tableName(table));
  if (!hash) return {};
  const values = items
    .map((item) => scalar((item as Record<string, unknown> | undefined)?.[hash]))
    .filter((value): value is string => value !== undefined);
  return values.length > 0 ? { 'dynamodb:LeadingKeys': [...new Set(values)] } : {};
}

/** An item operation: GetItem, PutItem, UpdateItem, DeleteItem. */
const itemOperation =
  (action: string, keyField: 'Key' | 'Item'): Mapper =>
  (input, facts) => {
    const table = text(input.TableName, 'TableName');
    return [request(action, tableArn(table, facts), leadingKeys(table, [input[keyField]], facts))];
  };

/** Query and Scan: the table, or the index when IndexName is given. */
const readOperation =
  (action: string): Mapper =>
  (input, facts) => {
    const table = text(input.TableName, 'TableName');
    const index = typeof input.IndexName === 'string' ? `/index/${input.IndexName}` : '';
    return [request(action, `${tableArn(table, facts)}${index}`)];
  };

const TRANSACT_ACTIONS: Record<string, [string, 'Key' | 'Item']> = {
  Put: ['dynamodb:PutItem', 'Item'],
  Update: ['dynamodb:UpdateItem', 'Key'],
  Delete: ['dynamodb:DeleteItem', 'Key'],
  ConditionCheck: ['dynamodb:ConditionCheckItem', 'Key'],
};

const transactWriteItems: Mapper = (input, facts) => {
  const items = (input.TransactItems as Record<string, Input>[] | undefined) ?? [];
  return items.flatMap((item) =>
    Object.entries(item).map(([kind, body]) => {
      const known = TRANSACT_ACTIONS[kind];
      if (!known) throw new Error(`TransactWriteItems has an unknown item kind ${kind}`);
      const [action, keyField] = known;
      const table = text(body.TableName, `${kind}.TableName`);
      return request(action, tableArn(table, facts), leadingKeys(table, [body[keyField]], facts));
    }),
  );
};

const transactGetItems: Mapper = (input, facts) =>
  ((input.TransactItems as { Get?: Input }[] | undefined) ?? []).map((item) => {
    const table = text(item.Get?.TableName, 'Get.TableName');
    return request('dynamodb:GetItem', tableArn(table, facts), leadingKeys(table, [item.Get?.Key], facts));
  });

const batchGetItem: Mapper = (input, facts) =>
  Object.entries((input.RequestItems as Record<string, { Keys?: unknown[] }> | undefined) ?? {}).map(
    ([table, body]) =>
      request('dynamodb:BatchGetItem', tableArn(table, facts), leadingKeys(table, body.Keys ?? [], facts)),
  );

const batchWriteItem: Mapper = (input, facts) =>
  Object.entries((input.RequestItems as Record<string, Input[]> | undefined) ?? {}).map(([table, writes]) =>
    request(
      'dynamodb:BatchWriteItem',
      tableArn(table, facts),
      leadingKeys(
        table,
        writes.map(
          (write) =>
            (write.PutRequest as Input | undefined)?.Item ?? (write.DeleteRequest as Input | undefined)?.Key,
        ),
        facts,
      ),
    ),
  );

// --------------------------------------------------------------------------------------------
// Other services

const s3Object =
  (action: string): Mapper =>
  (input, facts) => {
    const bucket = text(input.Bucket, 'Bucket');
    const key = text(input.Key, 'Key');
    const context: Record<string, string> = {};
    if (typeof input.ServerSideEncryption === 'string')
      context['s3:x-amz-server-side-encryption'] = input.ServerSideEncryption;
    if (typeof input.SSEKMSKeyId === 'string')
      context['s3:x-amz-server-side-encryption-aws-kms-key-id'] = input.SSEKMSKeyId;
    const objectArn = `arn:${facts.partition}:s3:::${bucket}/${key}`;
    const requests = [request(action, objectArn, context)];
    // A retention set on PutObject is authorised as s3:PutObjectRetention too (S3 Object Lock).
    if (
      action === 's3:PutObject' &&
      (input.ObjectLockMode !== undefined || input.ObjectLockRetainUntilDate !== undefined)
    ) {
      const lock: Record<string, string> = {};
      if (typeof input.ObjectLockMode === 'string') lock['s3:object-lock-mode'] = input.ObjectLockMode;
      requests.push(request('s3:PutObjectRetention', objectArn, lock));
    }
    // SSE-KMS: S3 asks KMS for a data key on the caller's behalf, with the caller's permissions.
    if (
      action === 's3:PutObject' &&
      typeof input.SSEKMSKeyId === 'string' &&
      input.SSEKMSKeyId.startsWith('arn:')
    ) {
      requests.push(
        request('kms:GenerateDataKey', input.SSEKMSKeyId, {
          'kms:ViaService': `s3.${facts.region}.amazonaws.com`,
        }),
      );
    }
    return requests;
  };

const s3Bucket =
  (action: string): Mapper =>
  (input, facts) => {
    const context: Record<string, string> = {};
    if (typeof input.Prefix === 'string') context['s3:prefix'] = input.Prefix;
    return [request(action, `arn:${facts.partition}:s3:::${text(input.Bucket, 'Bucket')}`, context)];
  };

const pipelineArn = (name: string, facts: DeploymentFacts): string =>
  `arn:${facts.partition}:codepipeline:${facts.region}:${facts.account}:${name}`;

/** A CodePipeline action on the pipeline named by `field`. */
const onPipeline =
  (action: string, field = 'pipelineName'): Mapper =>
  (input, facts) => [request(action, pipelineArn(text(input[field], field), facts))];

/** A CodePipeline action on one stage (`<pipeline>/<stage>`). */
const onStage =
  (action: string): Mapper =>
  (input, facts) => [
    request(
      action,
      `${pipelineArn(text(input.pipelineName, 'pipelineName'), facts)}/${text(input.stageName, 'stageName')}`,
    ),
  ];

const logGroupArn = (group: string, facts: DeploymentFacts): string =>
  `arn:${facts.partition}:logs:${facts.region}:${facts.account}:log-group:${group}`;

const codeBuildProjectArn = (project: string, facts: DeploymentFacts): string =>
  project.startsWith('arn:')
    ? project
    : `arn:${facts.partition}:codebuild:${facts.region}:${facts.account}:project/${project}`;

/** `states:*` on the ARN in `field` (state machine or execution). */
const onStates =
  (action: string, field: string): Mapper =>
  (input) => [request(action, text(input[field], field))];

/** Every client the handlers create, by the SDK's client name, and the operations they call. */
const MAPPERS: Record<string, Record<string, Mapper>> = {
  DynamoDBClient: {
    GetItem: itemOperation('dynamodb:GetItem', 'Key'),
    PutItem: itemOperation('dynamodb:PutItem', 'Item'),
    UpdateItem: itemOperation('dynamodb:UpdateItem', 'Key'),
    DeleteItem: itemOperation('dynamodb:DeleteItem', 'Key'),
    Query: readOperation('dynamodb:Query'),
    Scan: readOperation('dynamodb:Scan'),
    BatchGetItem: batchGetItem,
    BatchWriteItem: batchWriteItem,
    TransactWriteItems: transactWriteItems,
    TransactGetItems: transactGetItems,
  },
  S3Client: {
    PutObject: s3Object('s3:PutObject'),
    GetObject: s3Object('s3:GetObject'),
    // HeadObject is authorised as GetObject; ListObjectsV2 as ListBucket (S3 User Guide).
    HeadObject: s3Object('s3:GetObject'),
    DeleteObject: s3Object('s3:DeleteObject'),
    ListObjectsV2: s3Bucket('s3:ListBucket'),
  },
  SNSClient: {
    Publish: (input) => [request('sns:Publish', text(input.TopicArn, 'TopicArn'))],
  },
  SFNClient: {
    StartExecution: onStates('states:StartExecution', 'stateMachineArn'),
    DescribeExecution: onStates('states:DescribeExecution', 'executionArn'),
    RedriveExecution: onStates('states:RedriveExecution', 'executionArn'),
    StopExecution: onStates('states:StopExecution', 'executionArn'),
    SendTaskSuccess: taskResult('states:SendTaskSuccess'),
    SendTaskFailure: taskResult('states:SendTaskFailure'),
    SendTaskHeartbeat: taskResult('states:SendTaskHeartbeat'),
  },
  CodePipelineClient: {
    GetPipeline: onPipeline('codepipeline:GetPipeline', 'name'),
    GetPipelineState: onPipeline('codepipeline:GetPipelineState', 'name'),
    GetPipelineExecution: onPipeline('codepipeline:GetPipelineExecution'),
    ListPipelineExecutions: onPipeline('codepipeline:ListPipelineExecutions'),
    ListActionExecutions: onPipeline('codepipeline:ListActionExecutions'),
    StartPipelineExecution: onPipeline('codepipeline:StartPipelineExecution', 'name'),
    StopPipelineExecution: onPipeline('codepipeline:StopPipelineExecution'),
    RetryStageExecution: onStage('codepipeline:RetryStageExecution'),
    RollbackStage: onStage('codepipeline:RollbackStage'),
    ListTagsForResource: (input) => [
      request('codepipeline:ListTagsForResource', text(input.resourceArn, 'resourceArn')),
    ],
  },
  CloudWatchClient: {
    // DescribeAlarms authorises per alarm named; without names it reads every alarm.
    DescribeAlarms: (input, facts) => {
      const names = Array.isArray(input.AlarmNames) ? (input.AlarmNames as string[]) : [];
      if (names.length === 0) return [request('cloudwatch:DescribeAlarms', '*')];
      return names.map((name) =>
        request(
          'cloudwatch:DescribeAlarms',
          `arn:${facts.partition}:cloudwatch:${facts.region}:${facts.account}:alarm:${name}`,
        ),
      );
    },
  },
  CloudWatchLogsClient: {
    GetLogEvents: (input, facts) => [
      request(
        'logs:GetLogEvents',
        `${logGroupArn(text(input.logGroupName, 'logGroupName'), facts)}:log-stream:${text(input.logStreamName, 'logStreamName')}`,
      ),
    ],
    FilterLogEvents: (input, facts) => [
      request('logs:FilterLogEvents', logGroupArn(text(input.logGroupName, 'logGroupName'), facts)),
    ],
  },
  CodeBuildClient: {
    // Build ids are `<project>:<uuid>`; BatchGetBuilds is authorised on each build's project.
    BatchGetBuilds: (input, facts) => {
      const ids = Array.isArray(input.ids) ? (input.ids as string[]) : [];
      const projects = [...new Set(ids.map((id) => id.replace(/^arn:.*:build\//, '').split(':')[0]!))];
      return projects.map((project) =>
        request('codebuild:BatchGetBuilds', codeBuildProjectArn(project, facts)),
      );
    },
    ListBuildsForProject: (input, facts) => [
      request(
        'codebuild:ListBuildsForProject',
        codeBuildProjectArn(text(input.projectName, 'projectName'), facts),
      ),
    ],
    StartBuild: (input, facts) => [
      request('codebuild:StartBuild', codeBuildProjectArn(text(input.projectName, 'projectName'), facts)),
    ],
  },
  SSMClient: {
    GetParameterHistory: (input, facts) => [
      request('ssm:GetParameterHistory', parameterArn(input.Name, facts)),
    ],
    GetParameter: (input, facts) => [request('ssm:GetParameter', parameterArn(input.Name, facts))],
    PutParameter: (input, facts) => [
      request('ssm:PutParameter', parameterArn(input.Name, facts), {
        'ssm:Overwrite': input.Overwrite === true ? 'true' : 'false',
      }),
    ],
  },
  BedrockAgentRuntimeClient: {
    InvokeAgent: (input, facts) => [
      request(
        'bedrock:InvokeAgent',
        `arn:${facts.partition}:bedrock:${facts.region}:${facts.account}:agent-alias/${text(input.agentId, 'agentId')}/${text(input.agentAliasId, 'agentAliasId')}`,
      ),
    ],
  },
  BedrockRuntimeClient: {
    Converse: (input, facts) => [request('bedrock:InvokeModel', modelArn(input.modelId, facts))],
    InvokeModel: (input, facts) => [request('bedrock:InvokeModel', modelArn(input.modelId, facts))],
  },
  // The state machine invoking a function (a Lambda task).
  LambdaClient: {
    Invoke: (input) => [request('lambda:InvokeFunction', text(input.FunctionName, 'FunctionName'))],
  },
  SecretsManagerClient: {
    GetSecretValue: (input) => [request('secretsmanager:GetSecretValue', text(input.SecretId, 'SecretId'))],
  },
  KMSClient: {
    Sign: (input) => [request('kms:Sign', text(input.KeyId, 'KeyId'))],
    Verify: (input) => [request('kms:Verify', text(input.KeyId, 'KeyId'))],
    GetPublicKey: (input) => [request('kms:GetPublicKey', text(input.KeyId, 'KeyId'))],
  },
};

function parameterArn(name: unknown, facts: DeploymentFacts): string {
  const value = text(name, 'Name');
  if (value.startsWith('arn:')) return value;
  // A hierarchical name starts with "/", which the ARN does not repeat after "parameter".
  return `arn:${facts.partition}:ssm:${facts.region}:${facts.account}:parameter/${value.replace(/^\//, '')}`;
}

function modelArn(id: unknown, facts: DeploymentFacts): string {
  const value = text(id, 'modelId');
  return value.startsWith('arn:')
    ? value
    : `arn:${facts.partition}:bedrock:${facts.region}::foundation-model/${value}`;
}

/** The operation name of an SDK command name (`PutItemCommand` → `PutItem`). */
export function operationOf(commandName: string): string {
  return commandName.replace(/Command$/, '');
}

/**
 * The authorisations AWS performs for one SDK call of `client` (the SDK's client name, e.g.
 * `DynamoDBClient`) and `command` (e.g. `PutItemCommand`) with `input`.
 * @throws UnmappedCallError when the call is not described here
 */
export function authorizationRequests(
  client: string,
  command: string,
  input: unknown,
  facts: DeploymentFacts,
): AuthorizationRequest[] {
  const operation = operationOf(command);
  const mapper = MAPPERS[client]?.[operation];
  if (!mapper) throw new UnmappedCallError(client, operation);
  const global = {
    'aws:RequestedRegion': facts.region,
    'aws:SecureTransport': 'true',
  };
  return mapper((input ?? {}) as Input, facts).map((each) => ({
    ...each,
    context: { ...global, ...each.context },
  }));
}

/** Every (client, operation) the mapping knows, for tests and documentation. */
export function mappedOperations(): Array<{ client: string; operation: string }> {
  return Object.entries(MAPPERS).flatMap(([client, operations]) =>
    Object.keys(operations).map((operation) => ({ client, operation })),
  );
}
