import { randomUUID } from 'node:crypto';
import { CreateLogGroupCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CreateProjectCommand, type CodeBuildClient } from '@aws-sdk/client-codebuild';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** Client settings that point a real AWS SDK v3 client at the moto server started for the run. */
export function emulatorClientConfig() {
  const endpoint = process.env.SUTURE_TEST_AWS_ENDPOINT;
  if (!endpoint) throw new Error('SUTURE_TEST_AWS_ENDPOINT is not set: jest global setup starts moto');
  return {
    endpoint,
    region: 'us-west-2',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
}

/** Creates an on-demand table with a fresh name: string partition key, optional numeric sort key. */
export async function createTable(
  client: DynamoDBClient,
  prefix: string,
  partitionKey: string,
  sortKey?: string,
): Promise<string> {
  const tableName = `${prefix}-${randomUUID()}`;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: partitionKey, AttributeType: 'S' },
        ...(sortKey ? [{ AttributeName: sortKey, AttributeType: 'N' as const }] : []),
      ],
      KeySchema: [
        { AttributeName: partitionKey, KeyType: 'HASH' },
        ...(sortKey ? [{ AttributeName: sortKey, KeyType: 'RANGE' as const }] : []),
      ],
    }),
  );
  return tableName;
}

/** A CodeBuild project whose builds log to `/aws/codebuild/<name>`, as a pipeline's Build action has. */
export async function createBuildProject(
  codeBuild: CodeBuildClient,
  logs: CloudWatchLogsClient,
  name: string,
): Promise<void> {
  await codeBuild.send(
    new CreateProjectCommand({
      name,
      source: { type: 'S3', location: 'artifacts/source.zip' },
      artifacts: { type: 'NO_ARTIFACTS' },
      environment: {
        type: 'LINUX_CONTAINER',
        image: 'aws/codebuild/standard:7.0',
        computeType: 'BUILD_GENERAL1_SMALL',
      },
      serviceRole: 'arn:aws:iam::123456789012:role/codebuild',
    }),
  );
  await logs.send(new CreateLogGroupCommand({ logGroupName: `/aws/codebuild/${name}` }));
}

/** A new queue subscribed to `topicArn`: every message the loop publishes lands there. */
export async function queueSubscribedTo(
  sqs: SQSClient,
  sns: SNSClient,
  topicArn: string,
  prefix: string,
): Promise<string> {
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${prefix}-${Date.now()}` })))
    .QueueUrl!;
  const queueArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes!.QueueArn!;
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
  return queueUrl;
}
