import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import type { SfnStateMachine } from '@cdktf/provider-aws/lib/sfn-state-machine';
import type { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from './loop-functions';

/**
 * Metrics the functions emit (Powertools EMF, namespace {@link METRICS_NAMESPACE}, dimension
 * `service`), which the alarms and the dashboard read. Names are a contract with the handlers.
 */
export const LoopMetric = {
  /** triage: milliseconds from the failure event to the workflow start. */
  detectionLatency: 'DetectionLatency',
  /** policy-gate: one per decision, dimension `outcome` = allow | require_approval | deny. */
  policyDecisions: 'PolicyDecisions',
  /** policy-gate or plan: milliseconds from detection to the policy decision. */
  timeToDecision: 'TimeToDecision',
  /** validate: milliseconds from detection to a validated recovery. */
  timeToRecovery: 'TimeToRecovery',
  /** execute: one per action performed, dimension `mode` = auto | approved. */
  remediations: 'Remediations',
  /** notify: one per escalation. */
  escalations: 'Escalations',
  /** execute: one per rollback_stage performed. */
  rollbacks: 'Rollbacks',
} as const;

/** Props of {@link Monitoring}. */
export interface MonitoringProps {
  readonly namePrefix: string;
  readonly region: string;
  readonly stateMachine: SfnStateMachine;
  readonly deadLetterQueue: SqsQueue;
  /** Where alarms notify (the loop's topic). */
  readonly alarmTopicArn: string;
  /** Escalations per hour above which the loop is probably failing, not the pipelines. */
  readonly escalationsPerHourThreshold: number;
  /** Policy denials per hour above which someone should look at the proposals or the policy. */
  readonly denialsPerHourThreshold: number;
}

/**
 * The loop watching itself: alarms on dead-lettered events, failed and timed-out executions,
 * and spikes of escalations and denials, all notifying the loop's topic; and a dashboard of the
 * KPIs (detection latency, time to decision, time to recovery, auto-remediation and escalation
 * rates, rollbacks).
 */
export class Monitoring extends Construct {
  readonly alarms: CloudwatchMetricAlarm[] = [];
  readonly dashboard: CloudwatchDashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const actions = [props.alarmTopicArn];
    const sfn = { StateMachineArn: props.stateMachine.arn };
    const service = { service: SERVICE_NAME };
    const common = { alarmActions: actions, okActions: actions, treatMissingData: 'notBreaching' } as const;

    this.alarms.push(
      new CloudwatchMetricAlarm(this, 'dead-letters', {
        ...common,
        alarmName: `${props.namePrefix}-dead-lettered-events`,
        alarmDescription:
          'Failure events did not reach triage: look in the dead-letter queue and redrive them.',
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: props.deadLetterQueue.name },
        statistic: 'Maximum',
        period: 300,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: 'GreaterThanThreshold',
      }),
      new CloudwatchMetricAlarm(this, 'executions-failed', {
        ...common,
        alarmName: `${props.namePrefix}-executions-failed`,
        alarmDescription: 'A workflow execution failed (even Escalate did not complete): nobody was told.',
        namespace: 'AWS/States',
        metricName: 'ExecutionsFailed',
        dimensions: sfn,
        statistic: 'Sum',
        period: 300,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: 'GreaterThanThreshold',
      }),
      new CloudwatchMetricAlarm(this, 'executions-timed-out', {
        ...common,
        alarmName: `${props.namePrefix}-executions-timed-out`,
        alarmDescription: 'A workflow execution timed out.',
        namespace: 'AWS/States',
        metricName: 'ExecutionsTimedOut',
        dimensions: sfn,
        statistic: 'Sum',
        period: 300,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: 'GreaterThanThreshold',
      }),
      new CloudwatchMetricAlarm(this, 'escalation-spike', {
        ...common,
        alarmName: `${props.namePrefix}-escalation-spike`,
        alarmDescription: 'Escalations spiked: the loop may be failing rather than the pipelines.',
        namespace: METRICS_NAMESPACE,
        metricName: LoopMetric.escalations,
        dimensions: service,
        statistic: 'Sum',
        period: 3600,
        evaluationPeriods: 1,
        threshold: props.escalationsPerHourThreshold,
        comparisonOperator: 'GreaterThanThreshold',
      }),
      new CloudwatchMetricAlarm(this, 'denial-spike', {
        ...common,
        alarmName: `${props.namePrefix}-denial-spike`,
        alarmDescription: 'Policy denials spiked: proposals (or the model) may be going wrong.',
        namespace: METRICS_NAMESPACE,
        metricName: LoopMetric.policyDecisions,
        dimensions: { ...service, outcome: 'deny' },
        statistic: 'Sum',
        period: 3600,
        evaluationPeriods: 1,
        threshold: props.denialsPerHourThreshold,
        comparisonOperator: 'GreaterThanThreshold',
      }),
    );

    const metric = (name: string, stat: string, label: string, extra: Record<string, string> = {}) => [
      METRICS_NAMESPACE,
      name,
      'service',
      SERVICE_NAME,
      ...Object.entries(extra).flat(),
      { stat, label },
    ];
    const widget = (title: string, metrics: unknown[], x: number, y: number, extra: object = {}) => ({
      type: 'metric',
      x,
      y,
      width: 12,
      height: 6,
      properties: { title, region: props.region, view: 'timeSeries', period: 3600, metrics, ...extra },
    });
    const body = {
      widgets: [
        widget(
          'Detection latency (ms)',
          [
            metric(LoopMetric.detectionLatency, 'p50', 'p50'),
            metric(LoopMetric.detectionLatency, 'p90', 'p90'),
          ],
          0,
          0,
        ),
        widget(
          'Time to decision (ms)',
          [metric(LoopMetric.timeToDecision, 'p50', 'p50'), metric(LoopMetric.timeToDecision, 'p90', 'p90')],
          12,
          0,
        ),
        widget(
          'Time to recovery (ms)',
          [metric(LoopMetric.timeToRecovery, 'p50', 'p50'), metric(LoopMetric.timeToRecovery, 'p90', 'p90')],
          0,
          6,
        ),
        widget(
          'Auto-remediation and escalation rate (%)',
          [
            [
              METRICS_NAMESPACE,
              LoopMetric.remediations,
              'service',
              SERVICE_NAME,
              'mode',
              'auto',
              { id: 'auto', stat: 'Sum', visible: false },
            ],
            [
              METRICS_NAMESPACE,
              LoopMetric.escalations,
              'service',
              SERVICE_NAME,
              { id: 'escalated', stat: 'Sum', visible: false },
            ],
            [
              METRICS_NAMESPACE,
              LoopMetric.detectionLatency,
              'service',
              SERVICE_NAME,
              { id: 'incidents', stat: 'SampleCount', visible: false },
            ],
            [{ expression: '100 * auto / incidents', label: 'auto-remediated %', id: 'autoRate' }],
            [{ expression: '100 * escalated / incidents', label: 'escalated %', id: 'escalationRate' }],
          ],
          12,
          6,
        ),
        widget('Rollbacks', [metric(LoopMetric.rollbacks, 'Sum', 'rollbacks')], 0, 12),
        widget(
          'Policy decisions',
          ['allow', 'require_approval', 'deny'].map((outcome) =>
            metric(LoopMetric.policyDecisions, 'Sum', outcome, { outcome }),
          ),
          12,
          12,
        ),
        widget(
          'Workflow executions',
          ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut'].map(
            (name) => ['AWS/States', name, 'StateMachineArn', props.stateMachine.arn, { stat: 'Sum' }],
          ),
          0,
          18,
        ),
        widget(
          'Dead-lettered events',
          [
            [
              'AWS/SQS',
              'ApproximateNumberOfMessagesVisible',
              'QueueName',
              props.deadLetterQueue.name,
              { stat: 'Maximum' },
            ],
          ],
          12,
          18,
          { period: 300 },
        ),
      ],
    };
    this.dashboard = new CloudwatchDashboard(this, 'dashboard', {
      dashboardName: `${props.namePrefix}-loop`,
      dashboardBody: JSON.stringify(body),
    });
  }
}
