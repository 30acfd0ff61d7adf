import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matchesEventPattern } from '../../local/terraform/event-pattern';
import type { EvaluationScope } from '../../local/terraform/expressions';
import { convertToType, evaluateTemplate, ModuleScope } from '../../local/terraform/expressions';
import { loadEventPatterns, loadStateMachineDefinition } from '../../local/terraform/module';
import { synthesizeModule } from '../../modules/module-synth';

function scope(variables: Record<string, unknown> = {}, refs: Record<string, unknown> = {}): EvaluationScope {
  return {
    variables,
    resolveReference: (path) => {
      const key = path.join('.');
      if (!(key in refs)) throw new Error(`no reference ${key}`);
      return refs[key];
    },
  };
}

describe('evaluateTemplate', () => {
  it.each<[string, string, unknown]>([
    ['a plain string', 'hello', 'hello'],
    ['an escaped interpolation', 'a $${b} %%{c}', 'a ${b} %{c}'],
    ['a sole interpolation keeps its type', '${42}', 42],
    ['a template with text is a string', 'n=${42}', 'n=42'],
    ['a boolean in a template', '${true}/${false}', 'true/false'],
    ['null', '${null}', null],
    ['a decimal and an exponent', '${1.5 + 1e2}', 101.5],
    ['HCL string escapes', '${"q\\"\\\\\\n\\t\\u00e9\\U0001F600"}', 'q"\\\n\té😀'],
    ['a nested template', '${"x-${1 + 1}-y"}', 'x-2-y'],
    ['a tuple with a trailing comma', '${[1, "a", [true],]}', [1, 'a', [true]]],
    [
      'an object in every key form',
      '${{ a = 1, "b-c" = 2, d: 3, (format("e%s", "f")) = 4 }}',
      { a: 1, 'b-c': 2, d: 3, ef: 4 },
    ],
    ['an object over several lines', '${{\n  a = 1\n  b = [\n    2,\n  ]\n}}', { a: 1, b: [2] }],
    ['arithmetic precedence', '${1 + 2 * 3 - 8 / 4 % 3}', 5],
    ['parentheses and unary minus', '${-(1 + 2) * 2}', -6],
    [
      'comparisons',
      '${[1 < 2, 2 <= 2, 3 > 4, 4 >= 5, "a" == "a", 1 != "1"]}',
      [true, true, false, false, true, true],
    ],
    ['logical operators', '${!false && (true || false) && !(1 == 2)}', true],
    ['a conditional', '${var.n > 1 ? "big" : "small"}', 'big'],
    ['a variable attribute and index', '${var.obj.list[1]} ${var.obj["key"]}', 'b v'],
    ['a splat', '${var.items[*].name}', ['x', 'y']],
    ['a tuple for expression with a filter', '${[for i, v in [10, 20, 30] : v + i if v > 10]}', [21, 32]],
    ['an object for expression', '${{for k, v in {b = 1, a = 2} : upper(k) => v * 10}}', { A: 20, B: 10 }],
    [
      'a grouping for expression',
      '${{for s in ["aa", "b", "cc"] : length(s) => s...}}',
      { '1': ['b'], '2': ['aa', 'cc'] },
    ],
    [
      'jsonencode sorts keys and escapes <>&',
      '${jsonencode({"b" = [1, true, null], "a" = "<&>"})}',
      '{"a":"\\u003c\\u0026\\u003e","b":[1,true,null]}',
    ],
    ['coalesce skips null and ""', '${coalesce(null, "", "x", "y")}', 'x'],
    ['try falls back', '${try(var.obj.missing, "fallback")}', 'fallback'],
    ['one of an empty list is null', '${one([])}', null],
    ['one of a single element', '${one(["a"])}', 'a'],
    ['length of string, list and map', '${[length("héllo"), length([1, 2]), length({a = 1})]}', [5, 2, 1]],
    ['lookup with a default', '${lookup({a = 1}, "b", 7)}', 7],
    ['merge', '${merge({a = 1, b = 2}, null, {b = 3})}', { a: 1, b: 3 }],
    ['concat and flatten', '${concat([1], [2, 3], flatten([[4], [[5]]]))}', [1, 2, 3, 4, 5]],
    ['tostring and tonumber', '${[tostring(5), tonumber("2.5"), tostring(true)]}', ['5', 2.5, 'true']],
    ['format', '${format("%s-%d-%%", "a", 7)}', 'a-7-%'],
    ['function argument expansion', '${concat([[1], [2]]...)}', [1, 2]],
    ['identifiers with dashes', '${var.with-dash + 1}', 3],
    ['comments', '${1 + # one\n 2 /* two */}', 3],
  ])('evaluates %s', (_name, source, expected) => {
    // Prepare
    const variables = {
      n: 2,
      obj: { list: ['a', 'b'], key: 'v' },
      items: [{ name: 'x' }, { name: 'y' }],
      'with-dash': 2,
    };

    // Act
    const value = evaluateTemplate(source, scope(variables));

    // Assess
    expect(value).toEqual(expected);
  });

  it('passes locals, data and resource traversals to the resolver', () => {
    // Prepare
    const refs = {
      'local.names': ['a', 'b'],
      'data.aws_region.r.region': 'eu-west-1',
      'aws_s3_bucket.b.arn': 'arn:aws:s3:::b',
    };

    // Act
    const value = evaluateTemplate(
      '${[for n in local.names : "${data.aws_region.r.region}/${n}/${aws_s3_bucket.b.arn}"]}',
      scope({}, refs),
    );

    // Assess
    expect(value).toEqual(['eu-west-1/a/arn:aws:s3:::b', 'eu-west-1/b/arn:aws:s3:::b']);
  });

  it.each<[string, string, RegExp]>([
    ['an unknown function', '${regex("a", "b")}', /unsupported function regex\(\) in `regex\("a", "b"\)`/],
    ['a template directive', '%{ if true }x%{ endif }', /template directive/],
    ['a heredoc', '${<<EOT\nx\nEOT\n}', /heredoc/],
    ['a provider function', '${provider::aws::arn_parse("x")}', /provider function/],
    ['an undeclared variable', '${var.nope}', /undeclared input variable "nope" in `var.nope`/],
    ['a missing attribute', '${var.obj.nope}', /no attribute "nope" in `var.obj.nope`/],
    ['null in a template', 'x${null}', /template interpolation: the value is null/],
    ['arithmetic on a string', '${"a" + 1}', /operator \+: a number is required, got string in `"a" \+ 1`/],
    ['a syntax error', '${1 +}', /unexpected "}"/],
    ['an unterminated interpolation', '${1', /expected "}" to close an interpolation/],
    ['one of two elements', '${one([1, 2])}', /one: the list has 2 elements/],
    ['an unsupported format verb', '${format("%x", 1)}', /unsupported verb "%x"/],
    ['a duplicate for key', '${{for s in ["a", "a"] : s => 1}}', /duplicate key "a"/],
  ])('rejects %s, naming the construct', (_name, source, message) => {
    // Prepare
    const s = scope({ obj: {} });

    // Act
    const act = (): unknown => evaluateTemplate(source, s);

    // Assess
    expect(act).toThrow(message);
  });
});

describe('convertToType', () => {
  it('fills optional attributes with their defaults and drops unknown ones', () => {
    // Prepare
    const type =
      'list(object({ name = string, region = optional(string), stages = optional(list(string), []) }))';

    // Act
    const value = convertToType(
      [
        { name: 'p', extra: 1 },
        { name: 2, stages: ['s'] },
      ],
      type,
    );

    // Assess
    expect(value).toEqual([
      { name: 'p', region: null, stages: [] },
      { name: '2', region: null, stages: ['s'] },
    ]);
  });

  it('rejects a missing required attribute', () => {
    // Prepare
    const type = 'object({ name = string })';

    // Act
    const act = (): unknown => convertToType({}, type, 'var.x');

    // Assess
    expect(act).toThrow(/var.x: attribute "name" is required/);
  });
});

describe('ModuleScope', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'suture-scope-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function writeModule(variable: Record<string, unknown>, main: Record<string, unknown>): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'variables.tf.json'), JSON.stringify({ variable }));
    writeFileSync(join(dir, 'main.tf.json'), JSON.stringify(main));
  }

  it('merges variables over defaults and evaluates locals lazily through resources and data', () => {
    // Prepare
    writeModule(
      { prefix: { default: 'p', type: 'string' }, size: { type: 'number' } },
      {
        locals: { name: '${var.prefix}-${local.suffix}', suffix: '${var.size * 2}', broken: '${nope(1)}' },
        data: { aws_region: { r: {} } },
        resource: { aws_s3_bucket: { b: {} }, aws_sqs_queue: { q: { count: '${var.size > 1 ? 2 : 0}' } } },
      },
    );
    const loaded = ModuleScope.load(dir, {
      variables: { size: '3' },
      resources: (type, name, attr) => `${type}.${name}.${attr}`,
      data: (_type, _name, attr) => (attr === 'region' ? 'us-east-1' : undefined),
    });

    // Act
    const value = loaded.evaluate({
      name: '${local.name}',
      nested: ['${aws_s3_bucket.b.arn}', '${data.aws_region.r.region}'],
      queues: '${aws_sqs_queue.q[*].url}',
      module: '${path.module}',
    });

    // Assess
    expect(value).toEqual({
      name: 'p-6',
      nested: ['aws_s3_bucket.b.arn', 'us-east-1'],
      queues: ['aws_sqs_queue.q.url', 'aws_sqs_queue.q.url'],
      module: dir,
    });
  });

  it('reports a required variable without a value', () => {
    // Prepare
    writeModule({ pipelines: { type: 'list(string)' } }, {});

    // Act
    const act = (): unknown => ModuleScope.load(dir, {});

    // Assess
    expect(act).toThrow(/variable "pipelines" is required/);
  });

  it('detects cycles between locals', () => {
    // Prepare
    writeModule({}, { locals: { a: '${local.b}', b: '${local.a}' } });
    const loaded = ModuleScope.load(dir, {});

    // Act
    const act = (): unknown => loaded.evaluate('${local.a}');

    // Assess
    expect(act).toThrow(/cycle between locals: a -> b -> a/);
  });

  it('rejects references to undeclared resources and unresolved attributes', () => {
    // Prepare
    writeModule({}, { resource: { aws_s3_bucket: { b: {} } } });
    const loaded = ModuleScope.load(dir, { resources: () => undefined });

    // Act
    const undeclared = (): unknown => loaded.evaluate('${aws_s3_bucket.other.arn}');
    const unresolved = (): unknown => loaded.evaluate('${aws_s3_bucket.b.arn}');

    // Assess
    expect(undeclared).toThrow(/no resource aws_s3_bucket.other in main.tf.json/);
    expect(unresolved).toThrow(/no value for the resource attribute aws_s3_bucket.b.arn/);
  });
});

describe('the synthesised module (dist/module)', () => {
  let root: string;
  let moduleDir: string;
  const environment = {
    account: '123456789012',
    region: 'us-west-2',
    variables: { pipelines: [{ name: 'myPipeline' }] },
  };
  const localArn = (name: string): string => `arn:aws:lambda:us-west-2:123456789012:function:local-${name}`;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'suture-synth-'));
    moduleDir = synthesizeModule(join(root, 'module')).dir;
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('gives the state machine definition with local function ARNs', () => {
    // Prepare
    const options = { ...environment, functionArn: localArn };

    // Act
    const definition = loadStateMachineDefinition(moduleDir, options);

    // Assess
    expect(definition.StartAt).toBe('CollectEvidence');
    expect(definition.TimeoutSeconds).toBe(300 + 86400 + 86400);
    const states = definition.States as Record<string, Record<string, unknown>>;
    // Smoke checks are on by default: one CodeBuild task, the others invoke functions.
    const isSmoke = (state: Record<string, unknown>) =>
      state.Resource === 'arn:aws:states:::codebuild:startBuild';
    expect(states.StartSmokeChecks).toMatchObject({ Parameters: { ProjectName: 'suture-smoke' } });
    const tasks = Object.values(states).filter((state) => state.Type === 'Task' && !isSmoke(state));
    expect(tasks.length).toBeGreaterThan(5);
    for (const task of tasks) {
      const resource = task.Resource as string;
      const functionArn = resource.startsWith('arn:aws:states:::lambda:invoke')
        ? (task.Parameters as Record<string, unknown>).FunctionName
        : resource;
      expect(functionArn).toMatch(/^arn:aws:lambda:us-west-2:123456789012:function:local-[a-z-]+$/);
    }
    expect(states.CollectEvidence?.Resource).toBe(localArn('collect-evidence'));
    expect(JSON.stringify(definition)).not.toMatch(/aws_lambda_function|\$\{/);
  });

  it('gives the pipeline-failure rule pattern, scoped to the given pipelines', () => {
    // Prepare
    const event = (state: string, pipeline: string): Record<string, unknown> => ({
      version: '0',
      source: 'aws.codepipeline',
      account: '123456789012',
      region: 'us-west-2',
      'detail-type': 'CodePipeline Action Execution State Change',
      resources: [`arn:aws:codepipeline:us-west-2:123456789012:${pipeline}`],
      detail: { pipeline, stage: 'Build', action: 'Build', state },
    });

    // Act
    const patterns = loadEventPatterns(moduleDir, environment);

    // Assess
    const rule = patterns.find((p) => p.id.includes('pipeline-failures'));
    expect(rule?.name).toBe('suture-pipeline-failures');
    expect(rule?.pattern.resources).toEqual(['arn:aws:codepipeline:us-west-2:123456789012:myPipeline']);
    expect(patterns.some((p) => p.id.includes('alarms'))).toBe(false); // count = 0 without alarms
    expect(matchesEventPattern(rule!.pattern, event('FAILED', 'myPipeline'))).toBe(true);
    expect(matchesEventPattern(rule!.pattern, event('SUCCEEDED', 'myPipeline'))).toBe(false);
    expect(matchesEventPattern(rule!.pattern, event('FAILED', 'otherPipeline'))).toBe(false);
  });

  it('requires the pipelines variable', () => {
    // Prepare
    const options = { account: '123456789012', region: 'us-west-2' };

    // Act
    const act = (): unknown => loadEventPatterns(moduleDir, options);

    // Assess
    expect(act).toThrow(/variable "pipelines" is required/);
  });
});
