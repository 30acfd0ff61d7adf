import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { handler, resetGateForTests } from '../../functions/policy-gate';
import { resetAwsClients } from '../../functions/commons/aws/clients';
import { parseS3Uri } from '../../functions/commons/policy-gate/s3-source';
import { emulatorClientConfig } from '../helpers/aws';
import { captureOutput, fakeLambdaContext } from '../helpers/lambda-context';
import { bundleFile, codesOf, transientRetryInput } from '../helpers/policy';

// The Terraform module's policy_bundle: the archive is an S3 object (SUTURE_POLICY_BUNDLE=s3://…)
// that the gate reads at cold start and pins by SHA-256. moto stands in for S3.
describe('policy gate with its bundle in S3', () => {
  const savedEnv = { ...process.env };
  const config = emulatorClientConfig();
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const bucket = `suture-policy-${randomUUID().slice(0, 8)}`;
  const key = 'bundles/bundle.tar.gz';
  const bytes = readFileSync(bundleFile);
  const sha256 = createHash('sha256').update(bytes).digest('hex');

  beforeAll(async () => {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: 'us-west-2' },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
  });

  beforeEach(() => {
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: config.endpoint,
      AWS_REGION: 'us-west-2',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      SUTURE_S3_FORCE_PATH_STYLE: 'true',
      SUTURE_POLICY_ALLOW_UNSIGNED: 'true',
      POWERTOOLS_METRICS_NAMESPACE: 'SutureTest',
    });
    resetAwsClients();
    resetGateForTests();
  });

  afterEach(() => {
    process.env = { ...savedEnv };
  });

  afterAll(() => s3.destroy());

  const decide = async (bundle: string, pinned: string) => {
    process.env.SUTURE_POLICY_BUNDLE = bundle;
    process.env.SUTURE_POLICY_BUNDLE_SHA256 = pinned;
    return (await captureOutput(() => handler(transientRetryInput(), fakeLambdaContext()))).result;
  };

  it('loads the object it is pinned to and decides with it', async () => {
    // Act
    const result = await decide(`s3://${bucket}/${key}`, sha256.toUpperCase());

    // Assess
    expect(result).toMatchObject({ allow: true });
    expect(result.bundle_revision).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('fails closed when the object is not the bundle it was pinned to', async () => {
    // Act
    const result = await decide(`s3://${bucket}/${key}`, 'f'.repeat(64));

    // Assess
    expect(result.allow).toBe(false);
    expect(codesOf(result)).toEqual(['gate_bundle_unavailable']);
    expect(result.reasons[0]!.msg).toContain(`does not match the pinned ${'f'.repeat(64)}`);
  });

  it('fails closed, naming the location, when the object cannot be read', async () => {
    // Act
    const result = await decide(`s3://${bucket}/bundles/missing.tar.gz`, sha256);

    // Assess
    expect(result.allow).toBe(false);
    expect(codesOf(result)).toEqual(['gate_bundle_unavailable']);
    expect(result.reasons[0]!.msg).toContain(
      `cannot read policy bundle s3://${bucket}/bundles/missing.tar.gz`,
    );
  });

  it('refuses a malformed S3 location', async () => {
    expect(parseS3Uri('s3://bucket-only')).toBeUndefined();
    expect(parseS3Uri('s3://My_Bucket/key')).toBeUndefined();
    expect(parseS3Uri('s3://my-bucket/bundles/a.tar.gz')).toEqual({
      bucket: 'my-bucket',
      key: 'bundles/a.tar.gz',
    });
    const result = await decide('s3://bucket-only', sha256);
    expect(result.allow).toBe(false);
    expect(result.reasons[0]!.msg).toContain('is not s3://bucket/key');
  });
});
