import type { CodepipelineStage } from '@cdktf/provider-aws/lib/codepipeline';

/** Options of {@link addStageConditions}. */
export interface StageConditionsProps {
  /**
   * CloudWatch alarms that must not be in ALARM for the stage to start (`before_entry`, result
   * FAIL): the stage does not even begin while its release health is bad.
   * @default none
   */
  readonly beforeEntryAlarms?: readonly string[];
  /** Minutes CodePipeline watches each alarm before the stage may enter. @default 5 */
  readonly alarmWaitMinutes?: number;
  /**
   * What CodePipeline itself does when the stage fails: RETRY (the failed actions, once) or
   * ROLLBACK (to the last successful execution of the stage).
   * @default none: the stage fails and the loop takes over
   */
  readonly onFailure?: 'RETRY' | 'ROLLBACK';
  /** Which actions a RETRY re-runs. @default FAILED_ACTIONS */
  readonly retryMode?: 'FAILED_ACTIONS' | 'ALL_ACTIONS';
}

/**
 * Returns `stage` with CodePipeline V2 stage conditions added: the model-free first layer that
 * catches the common cases (bad release health, a transient failure worth one retry, a deploy
 * to roll back) before a failure event ever reaches the loop. Use it on the stages of your own
 * `aws_codepipeline` (pipeline_type V2). Pure: the input is not changed.
 */
export function addStageConditions(stage: CodepipelineStage, props: StageConditionsProps): CodepipelineStage {
  const alarms = props.beforeEntryAlarms ?? [];
  if (alarms.some((alarm) => !alarm)) throw new Error(`stage ${stage.name}: alarm names must not be empty`);
  if (props.retryMode && props.onFailure !== 'RETRY') {
    throw new Error(`stage ${stage.name}: retryMode applies to onFailure RETRY only`);
  }
  const waitMinutes = props.alarmWaitMinutes ?? 5;
  if (!Number.isInteger(waitMinutes) || waitMinutes < 1) {
    throw new Error(`stage ${stage.name}: alarmWaitMinutes must be a positive integer`);
  }
  return {
    ...stage,
    ...(alarms.length > 0
      ? {
          beforeEntry: {
            condition: {
              result: 'FAIL',
              rule: alarms.map((alarm, index) => ({
                name: `ReleaseHealth${index + 1}`,
                ruleTypeId: { category: 'Rule', owner: 'AWS', provider: 'CloudWatchAlarm', version: '1' },
                configuration: { AlarmName: alarm, WaitTime: String(waitMinutes) },
              })),
            },
          },
        }
      : {}),
    ...(props.onFailure
      ? {
          onFailure: {
            result: props.onFailure,
            ...(props.onFailure === 'RETRY'
              ? { retryConfiguration: { retryMode: props.retryMode ?? 'FAILED_ACTIONS' } }
              : {}),
          },
        }
      : {}),
  };
}
