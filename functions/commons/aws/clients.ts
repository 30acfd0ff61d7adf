import { BedrockAgentRuntimeClient } from '@aws-sdk/client-bedrock-agent-runtime';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { tracer } from '../observability';

/**
 * One client per AWS service per process, created on first use and traced. Endpoints come
 * from the SDK's own configuration (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`), which
 * is how tests and `suture simulate` point the real clients at 127.0.0.1.
 */
const factories = {
  bedrockAgentRuntime: () => new BedrockAgentRuntimeClient({}),
  cloudWatch: () => new CloudWatchClient({}),
  cloudWatchLogs: () => new CloudWatchLogsClient({}),
  codeBuild: () => new CodeBuildClient({}),
  codePipeline: () => new CodePipelineClient({}),
  dynamoDb: () => new DynamoDBClient({}),
  // Path-style addressing works against every S3 endpoint, including local emulators.
  s3: () => new S3Client({ forcePathStyle: process.env.SUTURE_S3_FORCE_PATH_STYLE === 'true' }),
  sfn: () => new SFNClient({}),
  sns: () => new SNSClient({}),
  ssm: () => new SSMClient({}),
} as const;

type Factories = typeof factories;
/** The services a handler may talk to. */
export type ServiceName = keyof Factories;

const created = new Map<ServiceName, unknown>();

/** The process-wide client for `service`. */
export function awsClient<S extends ServiceName>(service: S): ReturnType<Factories[S]> {
  let client = created.get(service) as ReturnType<Factories[S]> | undefined;
  if (!client) {
    client = tracer.captureAWSv3Client(factories[service]() as ReturnType<Factories[S]>);
    created.set(service, client);
  }
  return client;
}

/** Test hook: forget every client so the next call reads the endpoint environment again. */
export function resetAwsClients(): void {
  created.clear();
}
