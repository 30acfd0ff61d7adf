import type { BedrockAgentRuntimeClient } from '@aws-sdk/client-bedrock-agent-runtime';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { CodeBuildClient } from '@aws-sdk/client-codebuild';
import type { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { tracer } from '../observability';

/**
 * One client per AWS service per process, created on first use and traced. Endpoints come
 * from the SDK's own configuration (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`), which
 * is how tests and `suture simulate` point the real clients at 127.0.0.1.
 */
/*
 * Each client package is required only when a handler first uses it: a function bundle holds
 * every client, but loading one costs tens of milliseconds, and each function needs two or
 * three. Lazy requires keep cold init to what the function uses (bench/functions).
 */
/* eslint-disable @typescript-eslint/no-require-imports -- deferred loading is the point here */
const factories = {
  bedrockAgentRuntime: (): BedrockAgentRuntimeClient =>
    new (
      require('@aws-sdk/client-bedrock-agent-runtime') as {
        BedrockAgentRuntimeClient: typeof BedrockAgentRuntimeClient;
      }
    ).BedrockAgentRuntimeClient({}),
  cloudWatch: (): CloudWatchClient =>
    new (
      require('@aws-sdk/client-cloudwatch') as { CloudWatchClient: typeof CloudWatchClient }
    ).CloudWatchClient({}),
  cloudWatchLogs: (): CloudWatchLogsClient =>
    new (
      require('@aws-sdk/client-cloudwatch-logs') as { CloudWatchLogsClient: typeof CloudWatchLogsClient }
    ).CloudWatchLogsClient({}),
  codeBuild: (): CodeBuildClient =>
    new (require('@aws-sdk/client-codebuild') as { CodeBuildClient: typeof CodeBuildClient }).CodeBuildClient(
      {},
    ),
  codePipeline: (): CodePipelineClient =>
    new (
      require('@aws-sdk/client-codepipeline') as { CodePipelineClient: typeof CodePipelineClient }
    ).CodePipelineClient({}),
  dynamoDb: (): DynamoDBClient =>
    new (require('@aws-sdk/client-dynamodb') as { DynamoDBClient: typeof DynamoDBClient }).DynamoDBClient({}),
  // Path-style addressing works against every S3 endpoint, including local emulators.
  s3: (): S3Client =>
    new (require('@aws-sdk/client-s3') as { S3Client: typeof S3Client }).S3Client({
      forcePathStyle: process.env.SUTURE_S3_FORCE_PATH_STYLE === 'true',
    }),
  sfn: (): SFNClient => new (require('@aws-sdk/client-sfn') as { SFNClient: typeof SFNClient }).SFNClient({}),
  sns: (): SNSClient => new (require('@aws-sdk/client-sns') as { SNSClient: typeof SNSClient }).SNSClient({}),
  ssm: (): SSMClient => new (require('@aws-sdk/client-ssm') as { SSMClient: typeof SSMClient }).SSMClient({}),
} as const;
/* eslint-enable @typescript-eslint/no-require-imports */

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
