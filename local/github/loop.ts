/**
 * The GitHub side of the local loop: a GitHub App installed on every repository of the fake,
 * and its credentials put in the module's secret, as an operator would after `terraform apply`.
 */
import { generateKeyPairSync } from 'node:crypto';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GitHubFake } from './server';

/** The local loop's GitHub App. */
export const LOOP_GITHUB_APP = { appId: 1001, installationId: 2002 } as const;

/** A running fake and the secret value (a test key generated for this run) its app signs with. */
export interface LoopGitHub {
  readonly fake: GitHubFake;
  readonly secretValue: string;
}

export async function startLoopGitHub(): Promise<LoopGitHub> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const fake = await GitHubFake.start({
    apps: [{ ...LOOP_GITHUB_APP, publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() }],
  });
  const secretValue = JSON.stringify({
    app_id: String(LOOP_GITHUB_APP.appId),
    installation_id: String(LOOP_GITHUB_APP.installationId),
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  });
  return { fake, secretValue };
}

/** Creates the module's secrets in the emulator (as apply would) and puts the app's credentials in them. */
export async function fillModuleSecrets(
  secrets: ReadonlyArray<{ readonly name: string }>,
  config: { endpoint: string; region: string },
  secretValue: string,
): Promise<void> {
  const client = new SecretsManagerClient({
    ...config,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  try {
    for (const secret of secrets) {
      try {
        await client.send(new CreateSecretCommand({ Name: secret.name }));
      } catch (error) {
        if ((error as Error).name !== 'ResourceExistsException') throw error;
      }
      await client.send(new PutSecretValueCommand({ SecretId: secret.name, SecretString: secretValue }));
    }
  } finally {
    client.destroy();
  }
}
