import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { Fn, TerraformResource, TerraformStack, Token, type IAspect } from 'cdktf';
// cdktf's own resolver (its root exports no function to render a token outside synth).
import { resolve } from 'cdktf/lib/_tokens';
import type { IConstruct } from 'constructs';
import { DEPRECATED_LAMBDA_RUNTIMES, LAMBDA_RUNTIME } from './functions/runtime';

type Tags = Readonly<Record<string, string>>;

/** A resource whose provider schema has `tags`. */
interface Taggable extends TerraformResource {
  tags: Tags;
  readonly tagsInput: Tags | undefined;
}

/** Whether `node` is a resource that takes tags. */
export function isTaggable(node: IConstruct): node is Taggable {
  return TerraformResource.isTerraformResource(node) && 'tagsInput' in node;
}

/**
 * Puts `tags` on every taggable resource below the construct it is added to. Tags a resource
 * already has win over these (a part may tag more precisely). `tags` may be a Terraform map.
 */
export class TagResources implements IAspect {
  constructor(private readonly tags: Tags) {}

  visit(node: IConstruct): void {
    if (!isTaggable(node)) return;
    const own = node.tagsInput;
    if (own === undefined) node.tags = this.tags;
    else if (Token.isUnresolved(own) || Token.isUnresolved(this.tags)) node.tags = Fn.merge([this.tags, own]);
    else node.tags = { ...this.tags, ...own };
  }
}

/**
 * Sets `permissions_boundary` on every IAM role below the construct it is added to (functions,
 * state machine, smoke project, Bedrock agent, event delivery: whichever part created it). A role
 * that already names a boundary keeps it. `boundaryArn` may be a Terraform reference that is null
 * at apply time (module mode: `var.permissions_boundary_arn`), which Terraform reads as "none".
 */
export class PermissionsBoundary implements IAspect {
  constructor(private readonly boundaryArn: string) {}

  visit(node: IConstruct): void {
    if (node instanceof IamRole && node.permissionsBoundaryInput === undefined) {
      node.permissionsBoundary = this.boundaryArn;
    }
  }
}

/** One rule of {@link LoopChecks}: what it requires, and the nodes it applies to. */
export interface InfrastructureRule {
  readonly id: string;
  readonly applies: (node: IConstruct) => boolean;
  /** The problem with `node`, or undefined when the node complies. */
  readonly check: (node: IConstruct) => string | undefined;
}

/** A value as Terraform will see it (tokens rendered to `${…}` references). */
const resolved = (node: IConstruct, value: unknown): unknown => resolve(TerraformStack.of(node), value);

/** The rules of the loop's own infrastructure (the Rego in `policies/suture/infra` checks the same). */
export const INFRASTRUCTURE_RULES: readonly InfrastructureRule[] = [
  {
    id: 'lambda-tracing',
    applies: (node) => node instanceof LambdaFunction,
    check: (node) =>
      (node as LambdaFunction).tracingConfigInput?.mode === 'Active'
        ? undefined
        : 'Lambda function lacks X-Ray active tracing',
  },
  {
    id: 'lambda-runtime',
    applies: (node) => node instanceof LambdaFunction,
    check: (node) => {
      const runtime = (node as LambdaFunction).runtimeInput;
      return runtime !== undefined && DEPRECATED_LAMBDA_RUNTIMES.has(runtime)
        ? `Lambda function uses the deprecated runtime ${runtime}: use a supported one (the loop's functions run on ${LAMBDA_RUNTIME})`
        : undefined;
    },
  },
  {
    id: 'lambda-log-group',
    applies: (node) => node instanceof LambdaFunction,
    check: (node) =>
      (node as LambdaFunction).loggingConfigInput?.logGroup
        ? undefined
        : 'Lambda function logs to an implicit log group (no retention): set logging_config.log_group',
  },
  {
    id: 'log-retention',
    applies: (node) => node instanceof CloudwatchLogGroup,
    check: (node) => {
      const days = (node as CloudwatchLogGroup).retentionInDaysInput;
      return days === undefined || (!Token.isUnresolved(days) && days <= 0)
        ? 'log group lacks a retention'
        : undefined;
    },
  },
  {
    id: 'tags',
    applies: isTaggable,
    check: (node) => {
      const tags = (node as Taggable).tagsInput;
      return tags === undefined || (!Token.isUnresolved(tags) && Object.keys(tags).length === 0)
        ? 'taggable resource has no tags'
        : undefined;
    },
  },
  {
    id: 'table-encryption',
    applies: (node) => node instanceof DynamodbTable,
    check: (node) => {
      const sse = (node as DynamodbTable).serverSideEncryptionInput;
      return sse && sse.enabled === true && sse.kmsKeyArn ? undefined : 'DynamoDB table lacks KMS encryption';
    },
  },
  {
    id: 'topic-encryption',
    applies: (node) => node instanceof SnsTopic,
    check: (node) => ((node as SnsTopic).kmsMasterKeyIdInput ? undefined : 'SNS topic lacks KMS encryption'),
  },
  {
    id: 'queue-encryption',
    applies: (node) => node instanceof SqsQueue,
    check: (node) => ((node as SqsQueue).kmsMasterKeyIdInput ? undefined : 'SQS queue lacks KMS encryption'),
  },
  {
    id: 'bucket-encryption',
    applies: (node) => node instanceof S3Bucket,
    check: (node) => {
      const bucket = node as S3Bucket;
      const bucketId = resolved(node, bucket.id);
      // A bucket with a count is referenced through its one instance.
      const instanceId = String(bucketId).replace(/\.id\}$/, '[0].id}');
      const encrypted = TerraformStack.of(node)
        .node.findAll()
        .some(
          (other) =>
            other instanceof S3BucketServerSideEncryptionConfigurationA &&
            [bucketId, instanceId].includes(resolved(other, other.bucketInput)) &&
            JSON.stringify(resolved(other, other.ruleInput)).includes('aws:kms'),
        );
      return encrypted
        ? undefined
        : 'S3 bucket lacks SSE-KMS (aws_s3_bucket_server_side_encryption_configuration)';
    },
  },
];

/**
 * Fails synth when a function lacks tracing or a log group with retention or runs on a runtime
 * AWS Lambda has deprecated, a taggable resource
 * lacks tags, or a store (table, bucket, topic, queue) lacks encryption. Each check runs as a
 * validation, i.e. after every aspect (tagging included) has visited the tree.
 */
export class LoopChecks implements IAspect {
  constructor(private readonly rules: readonly InfrastructureRule[] = INFRASTRUCTURE_RULES) {}

  visit(node: IConstruct): void {
    for (const rule of this.rules) {
      if (!rule.applies(node)) continue;
      node.node.addValidation({
        validate: () => {
          const problem = rule.check(node);
          return problem ? [`${rule.id}: ${problem}`] : [];
        },
      });
    }
  }
}
