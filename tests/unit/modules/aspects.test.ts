import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { Aspects, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { LoopChecks, TagResources } from '../../../modules/aspects';
import {
  DEPRECATED_LAMBDA_RUNTIMES,
  ESBUILD_TARGET,
  LAMBDA_RUNTIME,
} from '../../../modules/functions/runtime';

const tags = { team: 'platform' };
const key = 'arn:aws:kms:us-west-2:123456789012:key/k';

/** A stack with the checks (and, unless `tagged` is false, tags) and one resource built by `add`. */
function check(add: (stack: TerraformStack) => void, tagged = true): () => string {
  const stack = new TerraformStack(Testing.app(), 'checked');
  new AwsProvider(stack, 'aws', { region: 'us-west-2' });
  add(stack);
  if (tagged) Aspects.of(stack).add(new TagResources(tags));
  Aspects.of(stack).add(new LoopChecks());
  return () => Testing.synth(stack, true);
}

const lambda = (
  stack: TerraformStack,
  overrides: Partial<ConstructorParameters<typeof LambdaFunction>[2]> = {},
) =>
  new LambdaFunction(stack, 'fn', {
    functionName: 'f',
    role: 'arn:aws:iam::123456789012:role/r',
    filename: 'f.zip',
    runtime: LAMBDA_RUNTIME,
    tracingConfig: { mode: 'Active' },
    loggingConfig: { logFormat: 'JSON', logGroup: '/aws/lambda/f' },
    ...overrides,
  });

describe('LoopChecks', () => {
  it('passes compliant resources', () => {
    const synth = check((stack) => {
      lambda(stack);
      new CloudwatchLogGroup(stack, 'logs', { name: '/aws/lambda/f', retentionInDays: 30 });
      new DynamodbTable(stack, 'table', {
        name: 't',
        hashKey: 'pk',
        attribute: [{ name: 'pk', type: 'S' }],
        serverSideEncryption: { enabled: true, kmsKeyArn: key },
      });
      new SnsTopic(stack, 'topic', { kmsMasterKeyId: key });
      new SqsQueue(stack, 'queue', { kmsMasterKeyId: key });
      const bucket = new S3Bucket(stack, 'bucket', {});
      new S3BucketServerSideEncryptionConfigurationA(stack, 'sse', {
        bucket: bucket.id,
        rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: key } }],
      });
    });
    expect(synth).not.toThrow();
  });

  it.each([
    [
      'a function without tracing',
      (stack: TerraformStack) => lambda(stack, { tracingConfig: { mode: 'PassThrough' } }),
      /lambda-tracing/,
    ],
    [
      'a function logging to an implicit group',
      (stack: TerraformStack) => lambda(stack, { loggingConfig: { logFormat: 'JSON' } }),
      /lambda-log-group/,
    ],
    [
      'a function on Node.js 20 (deprecated)',
      (stack: TerraformStack) => lambda(stack, { runtime: 'nodejs20.x' }),
      /lambda-runtime: Lambda function uses the deprecated runtime nodejs20\.x: use a supported one \(the loop's functions run on nodejs24\.x\)/,
    ],
    [
      'a function on Python 3.8 (deprecated)',
      (stack: TerraformStack) => lambda(stack, { runtime: 'python3.8' }),
      /lambda-runtime: .* python3\.8/,
    ],
    [
      'a log group without retention',
      (stack: TerraformStack) => new CloudwatchLogGroup(stack, 'logs', { name: 'x' }),
      /log-retention/,
    ],
    [
      'an unencrypted table',
      (stack: TerraformStack) =>
        new DynamodbTable(stack, 'table', {
          name: 't',
          hashKey: 'pk',
          attribute: [{ name: 'pk', type: 'S' }],
        }),
      /table-encryption/,
    ],
    ['an unencrypted topic', (stack: TerraformStack) => new SnsTopic(stack, 'topic', {}), /topic-encryption/],
    [
      'an unencrypted queue',
      (stack: TerraformStack) => new SqsQueue(stack, 'queue', { sqsManagedSseEnabled: true }),
      /queue-encryption/,
    ],
    [
      'a bucket without SSE-KMS',
      (stack: TerraformStack) => new S3Bucket(stack, 'bucket', {}),
      /bucket-encryption/,
    ],
    [
      'a bucket encrypted with AES256 only',
      (stack: TerraformStack) => {
        const bucket = new S3Bucket(stack, 'bucket', {});
        new S3BucketServerSideEncryptionConfigurationA(stack, 'sse', {
          bucket: bucket.id,
          rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
        });
      },
      /bucket-encryption/,
    ],
  ])('fails synth on %s', (_name, add, expected) => {
    expect(check(add)).toThrow(expected);
  });

  it('fails synth on a taggable resource without tags', () => {
    expect(check((stack) => new SnsTopic(stack, 'topic', { kmsMasterKeyId: key }), false)).toThrow(
      /tags: taggable resource has no tags/,
    );
  });

  it('passes a container image function, which names no runtime', () => {
    expect(
      check((stack) => lambda(stack, { runtime: undefined, packageType: 'Image', imageUri: 'i' })),
    ).not.toThrow();
  });

  it('names the resource in the error', () => {
    expect(check((stack) => new SnsTopic(stack, 'plain', {}))).toThrow(/\[checked\/plain\] topic-encryption/);
  });
});

describe('the Lambda runtime', () => {
  it('is Node.js 24, which esbuild targets, and is not deprecated', () => {
    expect(LAMBDA_RUNTIME).toBe('nodejs24.x');
    expect(ESBUILD_TARGET).toBe('node24');
    expect(DEPRECATED_LAMBDA_RUNTIMES.has(LAMBDA_RUNTIME)).toBe(false);
    expect(DEPRECATED_LAMBDA_RUNTIMES.has('nodejs20.x')).toBe(true);
  });
});

describe('TagResources', () => {
  it('adds tags without overriding the resource’s own, and merges Terraform maps', () => {
    const stack = new TerraformStack(Testing.app(), 'tagged');
    new AwsProvider(stack, 'aws', { region: 'us-west-2' });
    new SnsTopic(stack, 'own', { kmsMasterKeyId: key, tags: { team: 'payments', tier: '1' } });
    new SnsTopic(stack, 'none', { kmsMasterKeyId: key });
    Aspects.of(stack).add(new TagResources(tags));
    const other = new TerraformStack(Testing.app(), 'map');
    new AwsProvider(other, 'aws', { region: 'us-west-2' });
    new SnsTopic(other, 'own', { kmsMasterKeyId: key, tags: { tier: '1' } });
    const variable = new TerraformVariable(other, 'tags', { type: 'map(string)' });
    Aspects.of(other).add(new TagResources(variable.value as Record<string, string>));

    const topics = JSON.parse(Testing.synth(stack)).resource.aws_sns_topic;
    const merged = JSON.parse(Testing.synth(other)).resource.aws_sns_topic;

    expect(topics.own.tags).toEqual({ team: 'payments', tier: '1' });
    expect(topics.none.tags).toEqual(tags);
    expect(merged.own.tags).toBe('${merge(var.tags, {"tier" = "1"})}');
  });
});
