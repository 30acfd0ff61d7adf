import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { App, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { SelfHealingLoop } from './modules';

/**
 * Example root stack (`cdktf deploy`): the loop watching one sample pipeline, with its release
 * alarm, emailing a team. Copy it and change the pipelines, addresses and region.
 */
class SutureExampleStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new AwsProvider(this, 'aws', { region: 'us-west-2' });
    const loop = new SelfHealingLoop(this, 'suture', {
      pipelines: [{ name: 'myPipeline', protectedStages: ['Prod'] }],
      releaseHealthAlarms: [{ alarmName: 'myPipeline-5xx', pipeline: 'myPipeline', stage: 'Deploy' }],
      notificationEmails: ['ci-oncall@example.com'],
      tags: { team: 'platform' },
    });
    new TerraformOutput(this, 'state_machine_arn', {
      value: loop.workflow.stateMachine.arn,
      description: 'ARN of the workflow state machine',
    });
    new TerraformOutput(this, 'approval_url', {
      value: loop.approvalEndpoint.url.functionUrl,
      description: 'Approval callback URL (AWS_IAM auth)',
    });
    new TerraformOutput(this, 'policy_bundle_revision', {
      value: loop.policyBundle.revision,
      description: 'SHA-256 of the policy sources compiled into the bundle',
    });
  }
}

const app = new App();
new SutureExampleStack(app, 'suture-example');
app.synth();
