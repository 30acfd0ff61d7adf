/** Client settings that point a real AWS SDK v3 client at the moto server started for the run. */
export function emulatorClientConfig() {
  const endpoint = process.env.SUTURE_TEST_AWS_ENDPOINT;
  if (!endpoint) throw new Error('SUTURE_TEST_AWS_ENDPOINT is not set: jest global setup starts moto');
  return {
    endpoint,
    region: 'us-west-2',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
}
