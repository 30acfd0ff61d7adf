import { LambdaFunctionUrl } from '@cdktf/provider-aws/lib/lambda-function-url';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { Fn, TerraformIterator } from 'cdktf';
import { Construct } from 'constructs';
import type { LoopFunction } from './loop-functions';

/** Props of {@link ApprovalEndpoint}. */
export interface ApprovalEndpointProps {
  readonly approval: LoopFunction;
  /**
   * Principals (role or account ARNs) allowed to call the URL through a resource policy, for
   * approvers in other accounts. Same-account approvers need `lambda:InvokeFunctionUrl` on the
   * function in their own IAM policy instead.
   * @default none
   */
  readonly approverPrincipals?: readonly string[];
}

/**
 * The approval callback's HTTPS endpoint: a Lambda function URL with `AWS_IAM` auth, so every
 * approval is a SigV4-signed request by a known principal (the approver recorded in the audit).
 */
export class ApprovalEndpoint extends Construct {
  readonly url: LambdaFunctionUrl;

  constructor(scope: Construct, id: string, props: ApprovalEndpointProps) {
    super(scope, id);
    this.url = new LambdaFunctionUrl(this, 'url', {
      functionName: props.approval.functionName,
      authorizationType: 'AWS_IAM',
      invokeMode: 'BUFFERED',
    });
    // for_each over the principals, so a Terraform list works as well as a literal one.
    const approvers = TerraformIterator.fromList([...(props.approverPrincipals ?? [])]);
    new LambdaPermission(this, 'approvers', {
      forEach: approvers,
      statementId: Fn.join('-', ['Approver', Fn.substr(Fn.sha1(approvers.value as string), 0, 12)]),
      action: 'lambda:InvokeFunctionUrl',
      functionName: props.approval.functionName,
      functionUrlAuthType: 'AWS_IAM',
      principal: approvers.value as string,
    });
  }
}
