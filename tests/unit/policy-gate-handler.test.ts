import { handler, resetGateForTests } from '../../functions/policy-gate';
import { captureOutput, fakeLambdaContext } from '../helpers/lambda-context';
import { bundleFile, codesOf, patched, transientRetryInput } from '../helpers/policy';

describe('policy-gate Lambda handler', () => {
  const savedEnv = { ...process.env };

  beforeEach(() => {
    resetGateForTests();
    process.env.SUTURE_POLICY_BUNDLE = bundleFile;
    process.env.SUTURE_POLICY_ALLOW_UNSIGNED = 'true';
    process.env.POWERTOOLS_METRICS_NAMESPACE = 'SutureTest';
  });

  afterEach(() => {
    process.env = { ...savedEnv };
  });

  it('returns the decision with its bundle revision and logs the outcome, not the event', async () => {
    // Prepare: a rationale carrying a credential-like string that must not reach the log.
    const event = patched(transientRetryInput(), {
      proposal: { rationale: 'saw AKIAIOSFODNN7EXAMPLE in the build log' },
    });

    // Act
    const { result, output } = await captureOutput(() => handler(event, fakeLambdaContext()));

    // Assess
    expect(result).toMatchObject({ allow: true, require_approval: false });
    expect(result.bundle_revision).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(output).toContain('"outcome":"allow"');
    expect(output).toContain('"incident_id":"inc-0001"');
    expect(output).toContain('PolicyDecisions');
    expect(output).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(output).not.toContain('connection reset');
  });

  it('denies, without throwing, when the bundle cannot be loaded, and recovers once it can', async () => {
    // Prepare
    process.env.SUTURE_POLICY_BUNDLE = '/nonexistent/bundle.tar.gz';

    // Act
    const { result: refused } = await captureOutput(() =>
      handler(transientRetryInput(), fakeLambdaContext()),
    );
    process.env.SUTURE_POLICY_BUNDLE = bundleFile;
    const { result: recovered } = await captureOutput(() =>
      handler(transientRetryInput(), fakeLambdaContext()),
    );

    // Assess
    expect(refused).toMatchObject({ allow: false, require_approval: false });
    expect(codesOf(refused)).toEqual(['gate_bundle_unavailable']);
    expect(refused.reasons[0]!.msg).toContain('/nonexistent/bundle.tar.gz');
    expect(recovered.allow).toBe(true);
  });

  it('denies when unsigned bundles are not explicitly allowed', async () => {
    // Prepare
    delete process.env.SUTURE_POLICY_ALLOW_UNSIGNED;

    // Act
    const { result } = await captureOutput(() => handler(transientRetryInput(), fakeLambdaContext()));

    // Assess
    expect(result.allow).toBe(false);
    expect(result.reasons[0]!.msg).toContain('bundle is not signed');
  });

  it('names a wrong configuration variable in the deny reason', async () => {
    // Prepare
    process.env.SUTURE_POLICY_BUNDLE_SHA256 = 'not-a-hash';

    // Act
    const { result } = await captureOutput(() => handler(transientRetryInput(), fakeLambdaContext()));

    // Assess
    expect(result.allow).toBe(false);
    expect(result.reasons[0]!.msg).toContain('SUTURE_POLICY_BUNDLE_SHA256 must be 64 hex digits');
  });

  it('emits the KPIs the dashboard reads with exactly the dimensions it queries', async () => {
    // Prepare: the incident was detected 2 s ago.
    const detectedAt = new Date(Date.now() - 2_000).toISOString();
    const event = patched(transientRetryInput(), { incident: { detected_at: detectedAt } });

    // Act
    const { output } = await captureOutput(() => handler(event, fakeLambdaContext()));

    // Assess
    const blobs = output
      .split('\n')
      .filter((line) => line.includes('"_aws"'))
      .map(
        (line) =>
          JSON.parse(line) as Record<string, unknown> & {
            _aws: { CloudWatchMetrics: { Dimensions: string[][] }[] };
          },
      );
    const decisions = blobs.find((b) => 'PolicyDecisions' in b)!;
    expect(decisions._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service', 'outcome']]);
    expect(decisions.outcome).toBe('allow');
    const timeToDecision = blobs.find((b) => 'TimeToDecision' in b)!;
    expect(timeToDecision._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service']]);
    expect(timeToDecision.TimeToDecision as number).toBeGreaterThanOrEqual(2_000);
  });
});
