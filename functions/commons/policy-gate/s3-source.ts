import { awsClient, s3ClientConfig } from '../aws/clients';
import { PolicyBundleError } from './errors';

/** `s3://bucket/key` split into its parts, or undefined when `location` is not one. */
export function parseS3Uri(location: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(location);
  return match ? { bucket: match[1] as string, key: match[2] as string } : undefined;
}

/**
 * The bytes of a policy bundle stored in S3 (`s3://bucket/key`), e.g. the consumer bundle the
 * Terraform module's `policy_bundle` uploads. The S3 client is imported on first use, so a gate
 * that reads its bundle from the package never evaluates it.
 * @throws PolicyBundleError when the URI is malformed or the object cannot be read
 */
export async function readS3Bundle(uri: string): Promise<Buffer> {
  const location = parseS3Uri(uri);
  if (!location) throw new PolicyBundleError(`policy bundle location "${uri}" is not s3://bucket/key`);
  try {
    const { GetObjectCommand, S3Client } = await import('@aws-sdk/client-s3');
    const response = await awsClient(S3Client, s3ClientConfig()).send(
      new GetObjectCommand({ Bucket: location.bucket, Key: location.key }),
    );
    if (!response.Body) throw new Error('the object has no body');
    return Buffer.from(await response.Body.transformToByteArray());
  } catch (error) {
    throw new PolicyBundleError(`cannot read policy bundle ${uri}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
