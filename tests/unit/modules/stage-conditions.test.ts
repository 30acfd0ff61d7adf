import type { CodepipelineStage } from '@cdktf/provider-aws/lib/codepipeline';
import { addStageConditions } from '../../../modules/stage-conditions';

const deploy: CodepipelineStage = {
  name: 'Deploy',
  action: [{ name: 'Deploy', category: 'Deploy', owner: 'AWS', provider: 'CodeDeploy', version: '1' }],
};

describe('addStageConditions', () => {
  it('gates entry on release-health alarms and retries failed actions', () => {
    const stage = addStageConditions(deploy, { beforeEntryAlarms: ['api-5xx'], onFailure: 'RETRY' });
    expect(stage).toEqual({
      ...deploy,
      beforeEntry: {
        condition: {
          result: 'FAIL',
          rule: [
            {
              name: 'ReleaseHealth1',
              ruleTypeId: { category: 'Rule', owner: 'AWS', provider: 'CloudWatchAlarm', version: '1' },
              configuration: { AlarmName: 'api-5xx', WaitTime: '5' },
            },
          ],
        },
      },
      onFailure: { result: 'RETRY', retryConfiguration: { retryMode: 'FAILED_ACTIONS' } },
    });
    expect(deploy).not.toHaveProperty('beforeEntry');
  });

  it('rolls back without a retry configuration, and leaves absent conditions out', () => {
    expect(addStageConditions(deploy, { onFailure: 'ROLLBACK' })).toEqual({
      ...deploy,
      onFailure: { result: 'ROLLBACK' },
    });
    expect(addStageConditions(deploy, {})).toEqual(deploy);
  });

  it('refuses contradictory options', () => {
    expect(() => addStageConditions(deploy, { onFailure: 'ROLLBACK', retryMode: 'ALL_ACTIONS' })).toThrow(
      /retryMode/,
    );
    expect(() => addStageConditions(deploy, { beforeEntryAlarms: [''] })).toThrow(/alarm names/);
    expect(() => addStageConditions(deploy, { beforeEntryAlarms: ['a'], alarmWaitMinutes: 0 })).toThrow(
      /alarmWaitMinutes/,
    );
  });
});
