import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import type { LoopFunction } from './loop-functions';
import type { LoopScope } from './scope';

/** The three CodePipeline detail-types whose FAILED state wakes the loop. */
export const CODEPIPELINE_FAILURE_DETAIL_TYPES = [
  'CodePipeline Action Execution State Change',
  'CodePipeline Stage Execution State Change',
  'CodePipeline Pipeline Execution State Change',
] as const;

/** How hard EventBridge tries to deliver one event to triage before it goes to the DLQ. */
export const EVENT_RETRY_POLICY = { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 8 } as const;

/** Props of {@link FailureEvents}. */
export interface FailureEventsProps {
  readonly namePrefix: string;
  readonly scope: LoopScope;
  readonly kmsKeyArn: string;
  readonly triage: LoopFunction;
}

/**
 * What wakes the loop: EventBridge rules for CodePipeline FAILED states of the pipelines in
 * scope (matched by pipeline ARN) and, when release-health alarms are configured, their
 * transitions to ALARM. Green traffic never matches. Events triage cannot take after the retry
 * policy, and triage invocations that keep failing, land in one encrypted dead-letter queue.
 */
export class FailureEvents extends Construct {
  readonly deadLetterQueue: SqsQueue;
  readonly pipelineRule: CloudwatchEventRule;
  /** Undefined when no alarms are configured (or only Terraform knows: then it has a count). */
  readonly alarmRule?: CloudwatchEventRule;

  constructor(scope: Construct, id: string, props: FailureEventsProps) {
    super(scope, id);
    const { scope: where, triage } = props;
    this.deadLetterQueue = new SqsQueue(this, 'dlq', {
      name: `${props.namePrefix}-events-dlq`,
      kmsMasterKeyId: props.kmsKeyArn,
      messageRetentionSeconds: 14 * 24 * 60 * 60,
    });
    const ruleArnPattern = `arn:${where.partition}:events:${where.region}:${where.accountId}:rule/${props.namePrefix}-*`;
    const queuePolicy = new DataAwsIamPolicyDocument(this, 'dlq-policy', {
      statement: [
        {
          sid: 'LoopRulesSendUndeliveredEvents',
          effect: 'Allow',
          principals: [{ type: 'Service', identifiers: ['events.amazonaws.com'] }],
          actions: ['sqs:SendMessage'],
          resources: [this.deadLetterQueue.arn],
          condition: [{ test: 'ArnLike', variable: 'aws:SourceArn', values: [ruleArnPattern] }],
        },
      ],
    });
    new SqsQueuePolicy(this, 'dlq-access', { queueUrl: this.deadLetterQueue.url, policy: queuePolicy.json });

    // Triage is invoked asynchronously: after Lambda's own retries a failing event goes here too.
    triage.function.putDeadLetterConfig({ targetArn: this.deadLetterQueue.arn });
    triage.role.addPolicy('dead-letter-queue', [
      { sid: 'SendFailedInvocations', actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.arn] },
    ]);

    this.pipelineRule = new CloudwatchEventRule(this, 'pipeline-failures', {
      name: `${props.namePrefix}-pipeline-failures`,
      description: 'Suture: CodePipeline action, stage or pipeline FAILED in a pipeline in scope',
      eventPattern: Fn.jsonencode({
        source: ['aws.codepipeline'],
        'detail-type': [...CODEPIPELINE_FAILURE_DETAIL_TYPES],
        resources: where.pipelineArns,
        detail: { state: ['FAILED'] },
      }),
    });
    this.target('pipeline-failures', this.pipelineRule.name, this.pipelineRule.arn, triage);

    if (where.hasAlarms === false) return;
    const counted = where.hasAlarms === undefined;
    const alarmRuleName = `${props.namePrefix}-release-health-alarms`;
    this.alarmRule = new CloudwatchEventRule(this, 'alarms', {
      name: alarmRuleName,
      description: 'Suture: a release-health alarm went into ALARM',
      eventPattern: Fn.jsonencode({
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        resources: where.alarmArns,
        detail: { state: { value: ['ALARM'] } },
      }),
      ...(counted ? { count: where.alarmCountExpression } : {}),
    });
    // With a count the rule has no single address; its name and ARN are known, so use those.
    const alarmRuleArn = `arn:${where.partition}:events:${where.region}:${where.accountId}:rule/${alarmRuleName}`;
    this.target(
      'alarms',
      alarmRuleName,
      alarmRuleArn,
      triage,
      counted ? where.alarmCountExpression : undefined,
    );
  }

  private target(id: string, ruleName: string, ruleArn: string, triage: LoopFunction, count?: number): void {
    const rule = id === 'alarms' ? this.alarmRule : this.pipelineRule;
    new CloudwatchEventTarget(this, `${id}-target`, {
      rule: ruleName,
      targetId: 'triage',
      arn: triage.arn,
      retryPolicy: { ...EVENT_RETRY_POLICY },
      deadLetterConfig: { arn: this.deadLetterQueue.arn },
      ...(count === undefined ? {} : { count }),
      dependsOn: rule ? [rule] : [],
    });
    new LambdaPermission(this, `${id}-invoke`, {
      statementId: `EventBridge-${id}`,
      action: 'lambda:InvokeFunction',
      functionName: triage.functionName,
      principal: 'events.amazonaws.com',
      sourceArn: ruleArn,
      ...(count === undefined ? {} : { count }),
    });
  }
}
