import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { TerraformIterator } from 'cdktf';
import { Construct } from 'constructs';
import type { LoopRole } from '../iam';

/** Props of {@link Notifications}. */
export interface NotificationsProps {
  readonly namePrefix: string;
  readonly kmsKeyArn: string;
  /** Email addresses subscribed to escalations, approvals and alarms (a Terraform list is fine). */
  readonly emails: readonly string[];
}

/**
 * The encrypted SNS topic that carries escalations, approval requests, resolution notices and
 * the loop's own alarms, with one email subscription per address (each must confirm).
 */
export class Notifications extends Construct {
  readonly topic: SnsTopic;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    this.topic = new SnsTopic(this, 'topic', {
      name: `${props.namePrefix}-notifications`,
      kmsMasterKeyId: props.kmsKeyArn,
    });
    const emails = TerraformIterator.fromList([...props.emails]);
    new SnsTopicSubscription(this, 'email', {
      forEach: emails,
      topicArn: this.topic.arn,
      protocol: 'email',
      endpoint: emails.value as string,
    });
  }

  /** Lets `role` publish to the topic. */
  grantPublish(role: LoopRole): void {
    role.addPolicy('notifications', [
      { sid: 'PublishNotifications', actions: ['sns:Publish'], resources: [this.topic.arn] },
    ]);
  }
}
