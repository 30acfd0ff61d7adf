import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../cli/paths';
import { synthesizeModule, type SynthesizedModule } from '../../modules/module-synth';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const root = repoRoot();
const python = join(root, '.venv-checkov', 'bin', 'python');

/** Parses a Terraform (HCL) file with python-hcl2, which checkov installs into the virtualenv. */
function parseHcl(file: string): Json {
  const script = 'import hcl2, json, sys; print(json.dumps(hcl2.load(open(sys.argv[1]))))';
  return JSON.parse(execFileSync(python, ['-c', script, file], { encoding: 'utf8' })) as Json;
}

describe('the synthesised Terraform module', () => {
  let dirs: string[];
  let first: SynthesizedModule;
  let second: SynthesizedModule;
  const read = (name: string): Json => JSON.parse(readFileSync(join(first.dir, name), 'utf8')) as Json;

  beforeAll(() => {
    dirs = [mkdtempSync(join(tmpdir(), 'module-a-')), mkdtempSync(join(tmpdir(), 'module-b-'))];
    first = synthesizeModule(join(dirs[0]!, 'module'));
    second = synthesizeModule(join(dirs[1]!, 'module'));
  });

  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('is identical, byte for byte, on two synths of the same sources', () => {
    expect(second.files).toEqual(first.files);
    expect(second.digest).toBe(first.digest);
  });

  it('carries no provider configuration and no backend, and pins the AWS provider', () => {
    const all = first.files.filter((file) => file.endsWith('.tf.json')).map(read);
    for (const config of all) {
      expect(config).not.toHaveProperty('provider');
      expect(config.terraform?.backend).toBeUndefined();
      expect(JSON.stringify(config)).not.toContain('"//"');
    }
    expect(read('versions.tf.json').terraform).toEqual({
      required_version: expect.stringMatching(/^>= 1\.\d+/),
      required_providers: { aws: { source: 'hashicorp/aws', version: '>= 6.25.0, < 7.0.0' } },
    });
  });

  it('declares typed, described variables and outputs named after their resource', () => {
    const variables = read('variables.tf.json').variable as Record<string, Json>;
    expect(Object.keys(variables)).toEqual(
      expect.arrayContaining(['pipelines', 'name_prefix', 'notification_emails', 'bedrock', 'tags']),
    );
    for (const [name, variable] of Object.entries(variables)) {
      expect({ name, type: typeof variable.type, description: typeof variable.description }).toEqual({
        name,
        type: 'string',
        description: 'string',
      });
    }
    expect(variables.pipelines).not.toHaveProperty('default');
    const outputs = read('outputs.tf.json').output as Record<string, Json>;
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining([
        'state_machine_arn',
        'sns_topic_arn',
        'evidence_bucket_name',
        'kms_key_arn',
        'approval_function_url',
      ]),
    );
    for (const [name, output] of Object.entries(outputs)) {
      expect(name).toMatch(/^[a-z0-9_]+$/);
      expect(output.description).toEqual(expect.any(String));
    }
  });

  it('reads every asset through ${path.module}, and ships each one', () => {
    const resources = read('main.tf.json').resource as Json;
    const filenames = Object.values(resources.aws_lambda_function as Json).map(
      (fn: Json) => fn.filename as string,
    );
    expect(filenames).toHaveLength(9);
    for (const filename of filenames) {
      expect(filename).toMatch(/^\$\{path\.module\}\/assets\//);
      expect(existsSync(join(first.dir, filename.replace('${path.module}/', '')))).toBe(true);
    }
    expect(JSON.stringify(resources)).not.toContain(root);
  });

  it('makes the Bedrock agent conditional on var.bedrock', () => {
    const resources = read('main.tf.json').resource as Json;
    for (const type of [
      'aws_bedrockagent_agent',
      'aws_bedrockagent_agent_action_group',
      'aws_bedrockagent_agent_alias',
      'aws_bedrock_guardrail',
    ]) {
      for (const resource of Object.values(resources[type] as Json))
        expect((resource as Json).count).toBe('${local.bedrock_count}');
    }
    expect(read('main.tf.json').locals.bedrock_count).toBe('${var.bedrock == null ? 0 : 1}');
  });

  it('is what the examples call: every input they set exists and every output they read is declared', () => {
    const variables = read('variables.tf.json').variable as Record<string, Json>;
    const outputs = read('outputs.tf.json').output as Record<string, Json>;
    const required = Object.entries(variables)
      .filter(([, variable]) => !('default' in variable))
      .map(([name]) => name);
    for (const example of ['basic', 'with-bedrock', 'with-own-policy']) {
      const file = join(root, 'examples', example, 'main.tf');
      const config = parseHcl(file);
      const call = (config.module as Json[])[0]!.suture as Json;
      // The release archive as `npm run package:module` unpacks it.
      expect([call.source].flat()).toEqual(['../../build/suture-module']);
      const inputs = Object.keys(call).filter(
        (key) => !['source', '__start_line__', '__end_line__'].includes(key),
      );
      expect(inputs.filter((input) => !(input in variables))).toEqual([]);
      expect(required.filter((name) => !inputs.includes(name))).toEqual([]);
      const read = [...readFileSync(file, 'utf8').matchAll(/module\.suture\.([a-z0-9_]+)/g)].map(
        (match) => match[1]!,
      );
      expect(read.filter((name) => !(name in outputs))).toEqual([]);
    }
  });

  it('has an inputs/outputs table in docs/module.md that is up to date', () => {
    // A child process: Prettier 3 formats through dynamic imports, which jest's VM does not run.
    const check = spawnSync(
      join(root, 'node_modules', '.bin', 'tsx'),
      ['scripts/module-docs.ts', '--check'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
  });
});
