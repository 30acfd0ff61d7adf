import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { Construct } from 'constructs';
import type { LoopRole } from '../iam';

/** The GitHub API root of github.com. */
export const GITHUB_API_URL = 'https://api.github.com';

/** Props of {@link GitHubAccess}. */
export interface GitHubAccessProps {
  readonly namePrefix: string;
  readonly kmsKeyArn: string;
}

/**
 * Where the executor finds its GitHub credentials: an empty Secrets Manager secret the loop
 * creates, encrypted with the loop's key. An operator puts the GitHub App's id, installation id
 * and private key in it (or a fine-grained token; docs/module.md). Until then pull requests
 * fall back to patches stored in S3. Only the execute function may read it.
 */
export class GitHubAccess extends Construct {
  readonly secret: SecretsmanagerSecret;

  constructor(scope: Construct, id: string, props: GitHubAccessProps) {
    super(scope, id);
    this.secret = new SecretsmanagerSecret(this, 'secret', {
      name: `${props.namePrefix}-github`,
      description:
        'GitHub App credentials for Suture pull requests: {"app_id", "installation_id", "private_key"} (or {"token"}). Put the value after apply.',
      kmsKeyId: props.kmsKeyArn,
      // The value is an operator's copy of credentials GitHub issues: nothing to recover after a destroy.
      recoveryWindowInDays: 0,
    });
  }

  /** Lets `role` read the secret's value (and nothing else in Secrets Manager). */
  grantRead(role: LoopRole): void {
    role.addPolicy('github-credentials', [
      {
        sid: 'ReadGitHubCredentials',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.secret.arn],
      },
    ]);
  }
}
