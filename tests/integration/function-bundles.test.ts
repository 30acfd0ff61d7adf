import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultBundlePaths } from '../../cli/policy/build';
import { bundleFunctions } from '../../modules/functions/bundle';
import { LOOP_FUNCTION_NAMES } from '../../modules/functions/catalog';
import { transientRetryInput } from '../helpers/policy';

/**
 * The deployment packages themselves, not the sources: each zip unpacks to an `index.js` that
 * loads on its own and exports `handler`, and the policy gate's package decides with the policy
 * bundle it carries. Guards the bundler settings (ES module builds, tree shaking, minification).
 */
describe('function deployment packages (as the module zips them)', () => {
  const work = mkdtempSync(join(tmpdir(), 'suture-packages-'));
  const unpacked = new Map<string, string>();

  beforeAll(() => {
    const bundled = bundleFunctions({
      functions: LOOP_FUNCTION_NAMES,
      policyBundleFile: defaultBundlePaths().bundleFile,
      outDir: join(work, 'zips'),
    });
    for (const [name, fn] of bundled) {
      const dir = join(work, name);
      execFileSync('unzip', ['-q', '-o', fn.zipFile, '-d', dir]);
      unpacked.set(name, dir);
    }
  }, 120_000);

  /** Runs `script` in a fresh node with `dir/index.js` loaded as `fn`; returns its stdout. */
  function inPackage(dir: string, script: string, env: NodeJS.ProcessEnv = {}) {
    const result = spawnSync(
      process.execPath,
      [
        '-e',
        `const fn = require(${JSON.stringify(join(dir, 'index.js'))}); (async () => { ${script} })().catch((e) => { console.error(e); process.exit(1); });`,
      ],
      { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, cwd: dir },
    );
    if (result.status !== 0) throw new Error(`package script failed: ${result.stderr}`);
    return result.stdout;
  }

  it('every package loads on its own and exports a handler', () => {
    for (const name of LOOP_FUNCTION_NAMES) {
      // Act
      const out = inPackage(unpacked.get(name)!, 'process.stdout.write(typeof fn.handler);');

      // Assess
      expect([name, out]).toEqual([name, 'function']);
    }
  });

  it('the policy-gate package decides with the bundle it carries, through the Lambda handler', () => {
    // Prepare
    const input = JSON.stringify(transientRetryInput());
    const context = JSON.stringify({
      functionName: 'suture-policy-gate',
      awsRequestId: 'r-1',
      getRemainingTimeInMillis: null,
    });

    // Act
    const out = inPackage(
      unpacked.get('policy-gate')!,
      `const ctx = ${context}; ctx.getRemainingTimeInMillis = () => 3000;
       const decision = await fn.handler(${input}, ctx);
       process.stderr.write(''); require('fs').writeFileSync(1, '\\n@@' + JSON.stringify(decision));`,
      { SUTURE_POLICY_ALLOW_UNSIGNED: 'true', SUTURE_LOG_LEVEL: 'ERROR' },
    );

    // Assess
    const decision = JSON.parse(out.slice(out.lastIndexOf('@@') + 2)) as {
      allow: boolean;
      bundle_revision: string;
    };
    expect(decision.allow).toBe(true);
    expect(decision.bundle_revision).toMatch(/^sha256:/);
    const archive = readFileSync(join(unpacked.get('policy-gate')!, 'policy', 'bundle.tar.gz'));
    expect(archive.length).toBeGreaterThan(1000);
  });

  it('the triage package drops green traffic without any AWS call', () => {
    // Prepare
    const green = {
      version: '0',
      id: 'e-1',
      'detail-type': 'CodePipeline Stage Execution State Change',
      source: 'aws.codepipeline',
      account: '123456789012',
      time: '2026-11-23T10:00:00Z',
      region: 'us-west-2',
      resources: [],
      detail: { pipeline: 'myPipeline', 'execution-id': 'x', stage: 'Build', state: 'SUCCEEDED' },
    };

    // Act
    const out = inPackage(
      unpacked.get('triage')!,
      `const ctx = { functionName: 'suture-triage', awsRequestId: 'r-1', getRemainingTimeInMillis: () => 3000 };
       const result = await fn.handler(${JSON.stringify(green)}, ctx);
       require('fs').writeFileSync(1, '\\n@@' + JSON.stringify(result));`,
      {
        SUTURE_STATE_MACHINE_ARN: 'arn:aws:states:us-west-2:123456789012:stateMachine:suture-loop',
        SUTURE_GUARD_TABLE: 'guard',
        SUTURE_AUDIT_TABLE: 'audit',
        SUTURE_LOG_LEVEL: 'ERROR',
        AWS_REGION: 'us-west-2',
      },
    );

    // Assess
    expect(JSON.parse(out.slice(out.lastIndexOf('@@') + 2))).toMatchObject({ status: 'ignored' });
  });
});
