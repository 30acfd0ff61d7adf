import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  evaluateModule,
  loadStateMachineDefinition,
  type ResourceInstance,
} from '../../local/terraform/module';
import { listModuleFiles, synthesizeModule } from '../../modules/module-synth';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ACCOUNT = '123456789012';
const REGION = 'us-west-2';
const PIPELINES = [{ name: 'myPipeline' }];
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const BOUNDARY_ARN = `arn:aws:iam::${ACCOUNT}:policy/ci-boundary`;

/**
 * The synthesised module evaluated as Terraform would for given variables (tools/hcleval):
 * each resource's instances, with the arguments and the attributes the AWS provider computes.
 */
function evaluated(moduleDir: string, variables: Record<string, unknown>) {
  const deployment = evaluateModule(moduleDir, {
    account: ACCOUNT,
    region: REGION,
    variables: { pipelines: PIPELINES, ...variables },
  });
  const resources = deployment.resources;
  /** The attributes of the first instance of `type` whose name contains `fragment`. */
  const attributes = (type: string, fragment = ''): Json => {
    const instances = Object.entries(resources[type] ?? {}).find(([name]) => name.includes(fragment))?.[1];
    return deployment.known<Json>(instances?.[0]?.attributes, `${type} (${fragment})`);
  };
  /** Names of the resources of `type` (whose name contains `fragment`) that exist. */
  const existing = (type: string, fragment = ''): string[] =>
    Object.entries(resources[type] ?? {})
      .filter(([name, instances]) => name.includes(fragment) && instances.length > 0)
      .map(([name]) => name);
  const environment = (fn: string): Record<string, string> => {
    const [name] = Object.keys(resources.aws_lambda_function!).filter((n) => n.includes(`functions_${fn}_`));
    const [instance] = resources.aws_lambda_function![name!]!;
    return deployment.known<Record<string, string>>(
      (instance!.attributes.environment as Json).variables,
      `the environment of ${fn}`,
    );
  };
  const instances = (): ResourceInstance[] =>
    Object.values(resources).flatMap((names) => Object.values(names).flat());
  const definition = (): Json =>
    loadStateMachineDefinition(moduleDir, {
      account: ACCOUNT,
      region: REGION,
      variables: { pipelines: PIPELINES, ...variables },
      functionArn: (fn) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${fn}`,
    });
  return { deployment, resources, attributes, existing, environment, instances, definition };
}

describe('the module’s optional parts, evaluated for given variables', () => {
  let dir: string;
  let moduleDir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'module-options-'));
    moduleDir = synthesizeModule(join(dir, 'module')).dir;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('smoke_checks', () => {
    it('runs a CodeBuild project after every repair by default', () => {
      // Act
      const module = evaluated(moduleDir, {});

      // Assess
      expect(module.existing('aws_codebuild_project')).toHaveLength(1);
      expect(module.existing('aws_iam_role', 'smoke')).toHaveLength(1);
      expect(module.existing('aws_cloudwatch_log_group', 'smoke')).toHaveLength(1);
      expect(module.attributes('aws_codebuild_project').source.buildspec).toContain('get-pipeline-state');
      const states = module.definition().States as Record<string, Json>;
      expect(states.StartSmokeChecks).toMatchObject({
        Resource: 'arn:aws:states:::codebuild:startBuild',
        Parameters: { ProjectName: 'suture-smoke' },
        Next: 'BakeTime',
      });
      expect(module.environment('validate').SUTURE_SMOKE_PROJECT).toBe('suture-smoke');
      // The state machine may start it, validate may read it.
      const smokePolicies = module.existing('aws_iam_role_policy', 'smoke-project');
      expect(smokePolicies.some((name) => name.includes('workflow'))).toBe(true);
      expect(smokePolicies.some((name) => name.includes('validate'))).toBe(true);
    });

    it('takes the consumer’s buildspec', () => {
      // Act
      const module = evaluated(moduleDir, {
        smoke_checks: { buildspec: 'version: 0.2\nphases:\n  build:\n    commands: [make smoke]\n' },
      });

      // Assess
      expect(module.attributes('aws_codebuild_project').source.buildspec).toContain('make smoke');
    });

    it.each([[{ enabled: false }], [null]])('creates nothing of it when switched off (%j)', (smokeChecks) => {
      // Act
      const module = evaluated(moduleDir, { smoke_checks: smokeChecks });

      // Assess
      expect(module.existing('aws_codebuild_project')).toEqual([]);
      expect(module.existing('aws_iam_role', 'smoke')).toEqual([]);
      expect(module.existing('aws_cloudwatch_log_group', 'smoke')).toEqual([]);
      expect(module.existing('aws_iam_role_policy', 'smoke')).toEqual([]);
      const definition = module.definition();
      expect(JSON.stringify(definition)).not.toContain('codebuild');
      expect((definition.States as Record<string, Json>).ExecuteRepair?.Next ?? 'BakeTime').not.toBe(
        'StartSmokeChecks',
      );
      expect(module.environment('validate')).not.toHaveProperty('SUTURE_SMOKE_PROJECT');
    });
  });

  describe('permissions_boundary_arn', () => {
    it('is the boundary of every IAM role the module creates', () => {
      // Act
      const module = evaluated(moduleDir, {
        permissions_boundary_arn: BOUNDARY_ARN,
        bedrock: { foundation_model: 'anthropic.claude-3-5-sonnet-20240620-v1:0' },
      });

      // Assess
      const roles = module.deployment.instances('aws_iam_role');
      expect(roles.length).toBeGreaterThanOrEqual(12);
      for (const role of roles) expect(role.attributes.permissions_boundary).toBe(BOUNDARY_ARN);
    });

    it('is none by default', () => {
      const module = evaluated(moduleDir, {});
      for (const role of module.deployment.instances('aws_iam_role'))
        expect(role.attributes.permissions_boundary).toBeNull();
    });
  });

  describe('kms_key_arn', () => {
    /** Every key argument of every resource, evaluated. */
    const keyArguments = (module: ReturnType<typeof evaluated>): unknown[] => {
      const found: unknown[] = [];
      const visit = (value: unknown, key: string): void => {
        if (Array.isArray(value)) value.forEach((item) => visit(item, key));
        else if (value && typeof value === 'object')
          Object.entries(value).forEach(([inner, v]) => visit(v, inner));
        else if (/^(kms_key_id|kms_key_arn|kms_master_key_id|encryption_key)$/.test(key)) found.push(value);
      };
      for (const instance of module.instances()) visit(instance.attributes, instance.address);
      return found;
    };

    it('uses the given key and creates none', () => {
      // Act
      const module = evaluated(moduleDir, { kms_key_arn: KEY_ARN });

      // Assess
      // The digest signing key is not an encryption key: kms_key_arn does not replace it.
      expect(module.existing('aws_kms_key')).toEqual([expect.stringContaining('audit-digest')]);
      expect(module.existing('aws_kms_alias')).toEqual([expect.stringContaining('audit-digest')]);
      const keys = keyArguments(module);
      expect(keys.length).toBeGreaterThan(10);
      expect(new Set(keys)).toEqual(new Set([KEY_ARN]));
      expect(module.environment('collect-evidence').SUTURE_EVIDENCE_KMS_KEY_ID).toBe(KEY_ARN);
    });

    it('creates a key when none is given, and encrypts with it', () => {
      // Act
      const module = evaluated(moduleDir, {});

      // Assess
      const [key] = module.existing('aws_kms_key').filter((name) => !name.includes('audit-digest'));
      expect(module.existing('aws_kms_alias')).toHaveLength(2);
      const keyArn = module.deployment.instance(`aws_kms_key.${key}[0]`).attributes.arn;
      expect(keyArn).toMatch(/^arn:aws:kms:us-west-2:123456789012:key\/[0-9a-f-]{36}$/);
      expect(new Set(keyArguments(module))).toEqual(new Set([keyArn]));
    });
  });

  describe('audit digests', () => {
    it('creates the signing key, or signs with the given one', () => {
      // Act
      const created = evaluated(moduleDir, {});
      const given = evaluated(moduleDir, {
        audit_digest_signing_key_arn: KEY_ARN,
        audit_digest_retention_days: 30,
      });

      // Assess
      const [signing] = created.existing('aws_kms_key').filter((name) => name.includes('audit-digest'));
      const key = created.deployment.instance(`aws_kms_key.${signing}[0]`).attributes;
      expect(key).toMatchObject({ key_usage: 'SIGN_VERIFY', customer_master_key_spec: 'RSA_2048' });
      expect(created.environment('notify').SUTURE_DIGEST_KEY_ARN).toBe(key.arn);
      expect(created.environment('triage').SUTURE_DIGEST_KEY_ARN).toBe(key.arn);
      // Terraform turns the number into the string Lambda gets; the evaluator keeps the number.
      expect(String(created.environment('notify').SUTURE_DIGEST_RETENTION_DAYS)).toBe('365');
      expect(created.deployment.outputs.audit_digest_signing_key_arn).toBe(key.arn);
      expect(given.existing('aws_kms_key').filter((name) => name.includes('audit-digest'))).toEqual([]);
      for (const sealer of ['notify', 'triage']) {
        expect(given.environment(sealer).SUTURE_DIGEST_KEY_ARN).toBe(KEY_ARN);
        expect(String(given.environment(sealer).SUTURE_DIGEST_RETENTION_DAYS)).toBe('30');
      }
      expect(given.deployment.outputs.audit_digest_signing_key_arn).toBe(KEY_ARN);
    });

    it.each([
      [{ audit_digest_retention_days: 0 }, /audit_digest_retention_days must be a whole number/],
      [{ audit_digest_retention_days: 1.5 }, /audit_digest_retention_days must be a whole number/],
      [{ audit_digest_signing_key_arn: 'alias/mine' }, /audit_digest_signing_key_arn must be a KMS key ARN/],
    ])('refuses %j', (variables, message) => {
      expect(() => evaluated(moduleDir, variables)).toThrow(message);
    });
  });

  describe('policy_bundle', () => {
    const gateEnvironment = (module: ReturnType<typeof evaluated>) =>
      ['policy-gate', 'execute'].map((fn) => module.environment(fn));

    it('keeps the shipped bundle, unsigned and pinned, by default', () => {
      // Act
      const module = evaluated(moduleDir, {});

      // Assess
      const shipped = module.deployment.outputs.policy_bundle_sha256;
      expect(shipped).toMatch(/^[0-9a-f]{64}$/);
      for (const environment of gateEnvironment(module)) {
        expect(environment).not.toHaveProperty('SUTURE_POLICY_BUNDLE');
        expect(environment).toMatchObject({
          SUTURE_POLICY_BUNDLE_SHA256: shipped,
          SUTURE_POLICY_ALLOW_UNSIGNED: 'true',
        });
      }
      expect(module.existing('aws_s3_object')).toEqual([]);
      expect(module.existing('aws_s3_bucket', 'policy')).toEqual([]);
    });

    it('uploads the given archive and points the gate at it, pinned and verified', () => {
      // Prepare
      const archive = join(dir, 'bundle.tar.gz');
      const shipped = listModuleFiles(moduleDir).find((file) => file.endsWith('/bundle.tar.gz'));
      const bytes = readFileSync(join(moduleDir, shipped!));
      writeFileSync(archive, bytes);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const pem =
        '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----';

      // Act
      const module = evaluated(moduleDir, {
        policy_bundle: { path: archive, sha256: sha256.toUpperCase(), verification_key: pem, key_id: 'ci' },
      });

      // Assess
      const [object] = module.existing('aws_s3_object');
      const uploaded = module.attributes('aws_s3_object', object);
      expect(uploaded.source).toBe(archive);
      expect(uploaded.key).toBe(`bundles/${sha256}.tar.gz`);
      const bucket = module.attributes('aws_s3_bucket', 'policy');
      expect(module.existing('aws_s3_bucket', 'policy')).toHaveLength(1);
      expect(module.existing('aws_s3_bucket_public_access_block', 'policy')).toHaveLength(1);
      for (const environment of gateEnvironment(module)) {
        // s3://<the policy bucket>/<the uploaded object's key>
        expect(bucket.id).toMatch(/^suture-policy-[0-9a-f]{26}$/);
        expect(environment.SUTURE_POLICY_BUNDLE).toBe(`s3://${bucket.id}/bundles/${sha256}.tar.gz`);
        expect(environment).toMatchObject({
          SUTURE_POLICY_BUNDLE_SHA256: sha256,
          SUTURE_POLICY_ALLOW_UNSIGNED: 'false',
          SUTURE_POLICY_VERIFICATION_KEY: pem,
          SUTURE_POLICY_KEY_ID: 'ci',
        });
        expect(environment).not.toHaveProperty('SUTURE_POLICY_SCOPE');
      }
      // Both functions may read the bundle objects, nothing else may.
      const readers = module.existing('aws_iam_role_policy', 'policy-bundle');
      expect(readers).toHaveLength(2);
    });
  });
});

// Terraform itself checks the variables: the module's variables.tf.json alone is a root module
// with no provider, so `terraform plan` runs offline and stops at the first invalid input.
// Terraform is not installed by this project (no registry these machines reach serves it), so
// the suite runs where a `terraform` is on PATH; tests/integration/terraform-module.test.ts
// evaluates the same validations with HashiCorp's HCL library everywhere.
const terraformOnPath = spawnSync('terraform', ['version'], { encoding: 'utf8' }).status === 0;
if (!terraformOnPath)
  process.stderr.write('module-options: no terraform on PATH, terraform plan cases skipped\n');
(terraformOnPath ? describe : describe.skip)(
  'the module’s variable validations, as terraform plan applies them',
  () => {
    let dir: string;
    let archive: string;
    let sha256: string;

    const plan = (variables: Record<string, unknown>): { status: number | null; output: string } => {
      const file = join(dir, 'case.tfvars.json');
      writeFileSync(file, JSON.stringify({ pipelines: PIPELINES, ...variables }));
      const run = spawnSync('terraform', ['plan', '-input=false', '-no-color', `-var-file=${file}`], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' },
      });
      return { status: run.status, output: `${run.stdout}${run.stderr}`.replace(/\s+/g, ' ') };
    };

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'module-variables-'));
      const module = synthesizeModule(join(dir, 'synth'));
      writeFileSync(join(dir, 'variables.tf.json'), readFileSync(join(module.dir, 'variables.tf.json')));
      const shipped = listModuleFiles(module.dir).find((file) => file.endsWith('/bundle.tar.gz'));
      archive = join(dir, 'bundle.tar.gz');
      writeFileSync(archive, readFileSync(join(module.dir, shipped!)));
      sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex');
      const init = spawnSync('terraform', ['init', '-input=false', '-no-color'], {
        cwd: dir,
        encoding: 'utf8',
      });
      if (init.error) throw new Error(`terraform is required for this suite: ${init.error.message}`);
      expect(init.status).toBe(0);
    }, 60_000);

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('accepts the defaults and every option set right', () => {
      expect(plan({}).status).toBe(0);
      expect(
        plan({
          smoke_checks: { buildspec: 'version: 0.2\nphases: { build: { commands: [make smoke] } }\n' },
          kms_key_arn: KEY_ARN,
          permissions_boundary_arn: BOUNDARY_ARN,
          policy_bundle: {
            path: archive,
            sha256,
            verification_key: '-----BEGIN PUBLIC KEY-----\nMFkwEwYH\n-----END PUBLIC KEY-----\n',
            key_id: 'ci',
          },
        }),
      ).toMatchObject({ status: 0 });
      expect(
        plan({ smoke_checks: null, permissions_boundary_arn: 'arn:aws:iam::aws:policy/PowerUserAccess' })
          .status,
      ).toBe(0);
    }, 60_000);

    it.each([
      [{ kms_key_arn: 'alias/suture' }, 'kms_key_arn must be a KMS key ARN'],
      [
        { permissions_boundary_arn: `arn:aws:iam::${ACCOUNT}:role/x` },
        'permissions_boundary_arn must be an IAM policy ARN',
      ],
      [
        { smoke_checks: { buildspec: 'phases: {}' } },
        'smoke_checks.buildspec must be a YAML CodeBuild buildspec',
      ],
      [
        { policy_bundle: { path: 'bundle.tar.gz', sha256: 'abc' } },
        'policy_bundle.sha256 must be 64 hex digits',
      ],
      [
        { policy_bundle: { path: 'missing.tar.gz', sha256: '0'.repeat(64) } },
        'policy_bundle.path must name an existing file',
      ],
      [{ policy_bundle: { path: 'bundle.tar.gz', sha256: '0'.repeat(64) } }, 'is not policy_bundle.sha256'],
      [
        { policy_bundle: { path: 'bundle.tar.gz', sha256: 'SHA', verification_key: 'secret' } },
        'policy_bundle.verification_key must be a PEM public key',
      ],
      [
        { policy_bundle: { path: 'bundle.tar.gz', sha256: 'SHA', scope: 'write' } },
        'need a verification_key',
      ],
    ])(
      'refuses %j',
      (variables, message) => {
        // Prepare: 'SHA' stands for the archive's real digest.
        const given = JSON.parse(JSON.stringify(variables).replace('"SHA"', `"${sha256}"`)) as Record<
          string,
          unknown
        >;

        // Act
        const result = plan(given);

        // Assess
        expect(result.status).not.toBe(0);
        expect(result.output).toContain(message);
      },
      30_000,
    );
  },
);
