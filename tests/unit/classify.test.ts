import { PassThrough, Readable } from 'node:stream';
import fc from 'fast-check';

import type { FailureClass } from '../../functions/commons/classify';
import {
  CONFLICT_PENALTY,
  DEFAULT_SIGNATURE_SET,
  DEFAULT_UNKNOWN_THRESHOLD,
  SINGLE_RUN_TEST_CAP,
  classifyJsonLines,
  classifyLog,
  compileSignatureFiles,
} from '../../functions/commons/classify';
import {
  ClassificationSchema,
  FAILURE_CLASSES,
  SIGNATURE_CLASSES,
  SignatureFileError,
  SignatureFileSchema,
} from '../../functions/commons/classify/schema';

/** The policy's auto threshold: the precision bar that matters. */
const AUTO = 0.8;

interface Case {
  readonly name: string;
  readonly log: string;
  readonly expected: FailureClass;
  /** Strong, unambiguous evidence should be confident enough for `auto`. */
  readonly confident?: boolean;
}

const lines = (...parts: string[]) => parts.join('\n');

// Realistic excerpts written for these tests from how each tool reports the failure.
const CASES: readonly Case[] = [
  // ---------------------------------------------------------------- test_failure
  {
    name: 'pytest assertion',
    expected: 'test_failure',
    log: lines(
      '=================================== FAILURES ===================================',
      '_____________________________ test_total_with_tax ______________________________',
      '    def test_total_with_tax():',
      '>       assert invoice.total(items, tax=0.2) == 120',
      'E       assert 118.0 == 120',
      'tests/test_invoice.py:31: AssertionError',
      '=========================== short test summary info ============================',
      'FAILED tests/test_invoice.py::test_total_with_tax - assert 118.0 == 120',
      '========================= 1 failed, 41 passed in 2.31s =========================',
    ),
  },
  {
    name: 'jest expectation',
    expected: 'test_failure',
    log: lines(
      ' FAIL  src/cart/cart.test.ts',
      '  ● Cart › applies the discount code',
      '',
      '    expect(received).toEqual(expected) // deep equality',
      '',
      '    Expected: 90',
      '    Received: 100',
      '',
      '      at Object.<anonymous> (src/cart/cart.test.ts:18:30)',
      '',
      'Test Suites: 1 failed, 11 passed, 12 total',
      'Tests:       1 failed, 87 passed, 88 total',
    ),
  },
  {
    name: 'Maven Surefire with JUnit 5',
    expected: 'test_failure',
    log: lines(
      '[INFO] Running com.example.orders.OrderServiceTest',
      '[ERROR] Tests run: 12, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: 0.84 s <<< FAILURE! - in com.example.orders.OrderServiceTest',
      '[ERROR] rejectsEmptyOrder  Time elapsed: 0.02 s  <<< FAILURE!',
      'org.opentest4j.AssertionFailedError: expected: <400> but was: <200>',
      '[ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:3.2.5:test (default-test) on project orders: There are test failures.',
    ),
  },
  {
    name: 'Gradle test task',
    expected: 'test_failure',
    log: lines(
      '> Task :app:test FAILED',
      '',
      'ReportServiceTest > generatesMonthlyTotals() FAILED',
      '    java.lang.AssertionError at ReportServiceTest.kt:44',
      '',
      '12 tests completed, 1 failed',
      '',
      'FAILURE: Build failed with an exception.',
      "Execution failed for task ':app:test'.",
      '> There were failing tests. See the report at: file:///home/runner/work/app/build/reports/tests/test/index.html',
    ),
  },
  {
    name: 'go test',
    expected: 'test_failure',
    log: lines(
      '=== RUN   TestParseDuration',
      '    duration_test.go:27: ParseDuration("1h30m") = 5400s, want 5300s',
      '--- FAIL: TestParseDuration (0.00s)',
      'FAIL',
      'FAIL\tgithub.com/example/clock\t0.012s',
    ),
  },
  {
    name: 'cargo test',
    expected: 'test_failure',
    log: lines(
      'test parser::tests::parses_empty ... ok',
      'test parser::tests::rejects_tab ... FAILED',
      '',
      'failures:',
      '',
      '---- parser::tests::rejects_tab stdout ----',
      "thread 'parser::tests::rejects_tab' panicked at src/parser.rs:88:9:",
      'assertion `left == right` failed',
      '',
      'test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s',
      'error: test failed, to rerun pass `--lib`',
    ),
  },
  // ---------------------------------------------------------------- flaky_test
  {
    name: 'Surefire rerun that passed',
    expected: 'flaky_test',
    confident: true,
    log: lines(
      '[WARNING] Tests run: 40, Failures: 0, Errors: 0, Skipped: 0, Flakes: 1',
      '[WARNING] Flakes:',
      '[WARNING] com.example.cache.CacheEvictionTest.evictsAfterTtl',
      '[ERROR]   Run 1: CacheEvictionTest.evictsAfterTtl:52 expected: <0> but was: <1>',
      '[INFO]   Run 2: PASS',
    ),
  },
  {
    name: 'Bazel flaky target',
    expected: 'flaky_test',
    confident: true,
    log: lines(
      'INFO: Build completed, 1 test FAILED, 214 total actions',
      '//services/api:integration_test                                 FLAKY, failed in 1 out of 2 in 12.4s',
    ),
  },
  {
    name: 'Playwright flaky summary',
    expected: 'flaky_test',
    confident: true,
    log: lines(
      '  1 flaky',
      '    [chromium] › checkout.spec.ts:14:5 › checkout › pays with card',
      '  57 passed (1.2m)',
    ),
  },
  // ---------------------------------------------------------------- compile_error
  {
    name: 'tsc',
    expected: 'compile_error',
    log: lines(
      '> web@2.3.0 build',
      '> tsc -p tsconfig.build.json',
      '',
      "src/api/client.ts(42,17): error TS2339: Property 'retries' does not exist on type 'Options'.",
      'Found 1 error in src/api/client.ts:42',
    ),
  },
  {
    name: 'rustc',
    expected: 'compile_error',
    log: lines(
      '   Compiling ledger v0.4.1 (/home/runner/work/ledger)',
      'error[E0425]: cannot find value `cfg` in this scope',
      '  --> src/main.rs:17:22',
      'error: could not compile `ledger` (bin "ledger") due to 1 previous error',
    ),
  },
  {
    name: 'javac through Gradle',
    expected: 'compile_error',
    log: lines(
      '> Task :app:compileJava FAILED',
      '/home/runner/work/app/src/main/java/com/example/Report.java:27: error: incompatible types: String cannot be converted to int',
      '        int total = row.get("total");',
      "Execution failed for task ':app:compileJava'.",
      '> Compilation failed; see the compiler error output for details.',
    ),
  },
  {
    name: 'go build',
    expected: 'compile_error',
    log: lines(
      '# github.com/example/api',
      './handler.go:14:2: undefined: respondJSON',
      'make: *** [build] Error 1',
    ),
  },
  {
    name: 'g++',
    expected: 'compile_error',
    log: lines(
      "src/engine/physics.cpp:118:23: error: 'clampVelocity' was not declared in this scope",
      'make[2]: *** [CMakeFiles/engine.dir/build.make:76: CMakeFiles/engine.dir/src/engine/physics.cpp.o] Error 1',
    ),
  },
  {
    name: 'mypy',
    expected: 'compile_error',
    log: lines(
      'app/models.py:52: error: Argument 1 to "save" has incompatible type "str"; expected "int"  [arg-type]',
      'Found 1 error in 1 file (checked 48 source files)',
    ),
  },
  // ---------------------------------------------------------------- dependency_resolution
  {
    name: 'npm ETARGET',
    expected: 'dependency_resolution',
    log: lines(
      'npm ERR! code ETARGET',
      'npm ERR! notarget No matching version found for left-pad@^9.0.0.',
      'npm ERR! notarget In most cases you or one of your dependencies are requesting',
    ),
  },
  {
    name: 'yarn frozen lockfile',
    expected: 'dependency_resolution',
    log: lines(
      'yarn install v1.22.19',
      '[1/4] Resolving packages...',
      'error Your lockfile needs to be updated, but yarn was run with `--frozen-lockfile`.',
    ),
  },
  {
    name: 'pip no matching distribution',
    expected: 'dependency_resolution',
    log: lines(
      'ERROR: Could not find a version that satisfies the requirement torch==1.99.0 (from versions: 2.0.0, 2.0.1)',
      'ERROR: No matching distribution found for torch==1.99.0',
    ),
  },
  {
    name: 'poetry solver',
    expected: 'dependency_resolution',
    log: lines(
      'Updating dependencies',
      'Resolving dependencies...',
      'Because app depends on both pydantic (^1.10) and fastapi (0.110.0) which depends on pydantic (>=2.0), version solving failed.',
    ),
  },
  {
    name: 'Gradle unresolved artifact',
    expected: 'dependency_resolution',
    log: lines(
      "Execution failed for task ':app:compileKotlin'.",
      "> Could not resolve all files for configuration ':app:compileClasspath'.",
      '   > Could not find com.example:missing-lib:1.0.0.',
    ),
  },
  {
    name: 'go modules',
    expected: 'dependency_resolution',
    log: 'go: github.com/example/lib@v1.9.9: invalid version: unknown revision v1.9.9',
  },
  {
    name: 'cargo version selection',
    expected: 'dependency_resolution',
    log: lines(
      '    Updating crates.io index',
      'error: failed to select a version for the requirement `serde = "^9.0"`',
      "candidate versions found which didn't match: 1.0.197, 1.0.196",
    ),
  },
  // ---------------------------------------------------------------- transient_network
  {
    name: 'npm ETIMEDOUT',
    expected: 'transient_network',
    confident: true,
    log: lines(
      'npm ERR! code ETIMEDOUT',
      'npm ERR! errno ETIMEDOUT',
      'npm ERR! network request to https://registry.example.org/react failed, reason: connect ETIMEDOUT 104.16.1.35:443',
    ),
  },
  {
    name: 'pip DNS failure while retrying',
    expected: 'transient_network',
    confident: true,
    log: "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f2c>: Failed to establish a new connection: [Errno -3] Temporary failure in name resolution')': /simple/requests/",
  },
  {
    name: 'go proxy connection reset',
    expected: 'transient_network',
    confident: true,
    log: 'go: golang.org/x/sys@v0.15.0: Get "https://proxy.example.org/golang.org/x/sys/@v/v0.15.0.zip": read tcp 10.1.0.4:51234->10.9.8.7:443: read: connection reset by peer',
  },
  {
    name: 'docker registry client timeout',
    expected: 'transient_network',
    confident: true,
    log: 'Error response from daemon: Get "https://registry.example.io/v2/": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)',
  },
  {
    name: 'cargo spurious network error',
    expected: 'transient_network',
    confident: true,
    log: 'warning: spurious network error (2 tries remaining): [28] Timeout was reached (failed to download from `https://static.example.io/crates/serde/1.0.197/download`)',
  },
  // ---------------------------------------------------------------- rate_limited_or_quota
  {
    name: 'Docker Hub pull limit',
    expected: 'rate_limited_or_quota',
    confident: true,
    log: lines(
      'Step 1/9 : FROM node:20-alpine',
      'toomanyrequests: You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit',
    ),
  },
  {
    name: 'GitHub API rate limit',
    expected: 'rate_limited_or_quota',
    confident: true,
    log: 'Error: API rate limit exceeded for installation ID 4815162.',
  },
  {
    name: 'AWS throttling',
    expected: 'rate_limited_or_quota',
    confident: true,
    log: 'An error occurred (ThrottlingException) when calling the DescribeStacks operation (reached max retries: 4): Rate exceeded',
  },
  {
    name: 'EIP quota in Terraform',
    expected: 'rate_limited_or_quota',
    confident: true,
    log: lines(
      '│ Error: creating EC2 EIP: AddressLimitExceeded: The maximum number of addresses has been reached.',
      '│ \tstatus code: 400, request id: 0f5c',
    ),
  },
  {
    name: 'PyPI 429',
    expected: 'rate_limited_or_quota',
    confident: true,
    log: 'ERROR: HTTP error 429 while getting https://files.example.org/packages/numpy-2.0.0.tar.gz',
  },
  // ---------------------------------------------------------------- permissions
  {
    name: 'AWS CLI access denied',
    expected: 'permissions',
    confident: true,
    log: 'An error occurred (AccessDeniedException) when calling the UpdateFunctionCode operation: User: arn:aws:sts::111122223333:assumed-role/deploy/ci is not authorized to perform: lambda:UpdateFunctionCode on resource: arn:aws:lambda:eu-west-1:111122223333:function:api',
  },
  {
    name: 'ECR login missing',
    expected: 'permissions',
    confident: true,
    log: lines(
      'The push refers to repository [111122223333.dkr.ecr.eu-west-1.amazonaws.com/api]',
      'no basic auth credentials',
    ),
  },
  {
    name: 'git push denied',
    expected: 'permissions',
    confident: true,
    log: lines(
      'remote: Permission to example/site.git denied to deploy-bot.',
      "fatal: unable to access 'https://git.example.com/example/site.git/': The requested URL returned error: 403",
    ),
  },
  {
    name: 'kubectl RBAC',
    expected: 'permissions',
    confident: true,
    log: 'Error from server (Forbidden): deployments.apps "web" is forbidden: User "system:serviceaccount:ci:deployer" cannot patch resource "deployments" in API group "apps" in the namespace "prod"',
  },
  {
    name: 'npm publish forbidden',
    expected: 'permissions',
    confident: true,
    log: lines(
      'npm ERR! code E403',
      'npm ERR! 403 403 Forbidden - PUT https://registry.example.org/@acme%2fui - You do not have permission to publish "@acme/ui".',
    ),
  },
  // ---------------------------------------------------------------- infra_resource
  {
    name: 'Node heap exhausted',
    expected: 'infra_resource',
    confident: true,
    log: lines(
      '<--- Last few GCs --->',
      'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
      ' 1: 0xb09c10 node::Abort() [node]',
    ),
  },
  {
    name: 'JVM heap exhausted in Maven',
    expected: 'infra_resource',
    confident: true,
    log: lines(
      '[ERROR] Java heap space',
      'java.lang.OutOfMemoryError: Java heap space',
      '    at java.util.Arrays.copyOf',
    ),
  },
  {
    name: 'runner disk full during docker build',
    expected: 'infra_resource',
    confident: true,
    log: 'ERROR: failed to solve: failed to copy files: copy file range failed: no space left on device',
  },
  {
    name: 'Gradle daemon killed',
    expected: 'infra_resource',
    confident: true,
    log: 'Gradle build daemon disappeared unexpectedly (it may have been killed or may have crashed)',
  },
  // ---------------------------------------------------------------- config_error
  {
    name: 'CodeBuild buildspec missing',
    expected: 'config_error',
    log: '[Container] 2025/02/03 11:12:13.456789 Phase context status code: YAML_FILE_ERROR Message: stat /codebuild/output/src1/src/ci/buildspec-test.yml: no such file or directory',
  },
  {
    name: 'Terraform unsupported argument',
    expected: 'config_error',
    log: lines(
      '╷',
      '│ Error: Unsupported argument',
      '│ ',
      '│   on main.tf line 14, in resource "aws_s3_bucket" "logs":',
      '│   14:   acl_policy = "private"',
      '╵',
    ),
  },
  {
    name: 'CloudFormation template error',
    expected: 'config_error',
    log: 'An error occurred (ValidationError) when calling the CreateChangeSet operation: Template format error: Unresolved resource dependencies [AppBucket] in the Resources block of the template',
  },
  {
    name: 'kubectl manifest validation',
    expected: 'config_error',
    log: 'error: error validating "deploy.yaml": error validating data: ValidationError(Deployment.spec.template.spec.containers[0]): unknown field "imagePullPolicyy" in io.k8s.api.core.v1.Container',
  },
  {
    name: 'npm missing script',
    expected: 'config_error',
    log: lines(
      'npm ERR! Missing script: "build:prod"',
      'npm ERR!',
      'npm ERR! To see a list of scripts, run:',
    ),
  },
  {
    name: 'GitLab CI invalid',
    expected: 'config_error',
    log: 'Found errors in your .gitlab-ci.yml: jobs:deploy config contains unknown keys: enviroment',
  },
  // ---------------------------------------------------------------- deploy_health
  {
    name: 'kubectl rollout deadline',
    expected: 'deploy_health',
    confident: true,
    log: lines(
      'Waiting for deployment "checkout" rollout to finish: 1 of 3 updated replicas are available...',
      'error: deployment "checkout" exceeded its progress deadline',
    ),
  },
  {
    name: 'ECS circuit breaker through CloudFormation',
    expected: 'deploy_health',
    confident: true,
    log: '12:01:44 | UPDATE_FAILED | AWS::ECS::Service | WebService Resource handler returned message: "Error occurred during operation \'ECS Deployment Circuit Breaker was triggered\'."',
  },
  {
    name: 'CodeDeploy alarm stop',
    expected: 'deploy_health',
    confident: true,
    log: 'Deployment d-7QX2EXAMPLE failed: The deployment was stopped because one or more alarms were activated: [api-5xx-rate]',
  },
  {
    name: 'CodeDeploy instance health',
    expected: 'deploy_health',
    confident: true,
    log: 'The overall deployment failed because too many individual instances failed deployment, too few healthy instances are available for deployment, or some instances in your deployment group are experiencing problems.',
  },
  {
    name: 'helm --wait with crashing pods',
    expected: 'deploy_health',
    confident: true,
    log: lines(
      'Error: UPGRADE FAILED: timed out waiting for the condition',
      'api-6d9f7-x2kqp   0/1     CrashLoopBackOff   5 (30s ago)   4m',
    ),
  },
  // ---------------------------------------------------------------- timeout
  {
    name: 'GitHub Actions job timeout',
    expected: 'timeout',
    confident: true,
    log: '2025-03-04T10:11:12.0000000Z ##[error]The job running on runner GitHub Actions 12 has exceeded the maximum execution time of 60 minutes.',
  },
  {
    name: 'CodeBuild timed out',
    expected: 'timeout',
    confident: true,
    log: '[Container] 2025/03/04 10:11:12.345678 Phase complete: BUILD State: TIMED_OUT',
  },
  {
    name: 'Jenkins timeout step',
    expected: 'timeout',
    confident: true,
    log: lines(
      'Cancelling nested steps due to timeout',
      'Sending interrupt signal to process',
      'Finished: ABORTED',
    ),
  },
  {
    name: 'go test binary timeout',
    expected: 'timeout',
    confident: true,
    log: lines('panic: test timed out after 5m0s', 'running tests:', '\tTestReplicationCatchUp (5m0s)'),
  },
  {
    name: 'Lambda action timeout',
    expected: 'timeout',
    confident: true,
    log: '2025-03-04T10:11:12.000Z 5b1c Task timed out after 30.03 seconds',
  },
];

describe('classifyLog — realistic excerpts per class and ecosystem', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, testCase) => {
    // Prepare: the excerpt comes from the table.

    // Act
    const result = classifyLog(testCase.log);

    // Assess
    expect(result.class).toBe(testCase.expected);
    expect(result.signature).not.toBeNull();
    expect(testCase.log).toContain(result.matched_line);
    if (testCase.confident === true) expect(result.confidence).toBeGreaterThanOrEqual(AUTO);
    expect(ClassificationSchema.parse(result)).toEqual(result);
  });

  it('covers every class that owns a signature file', () => {
    // Prepare
    const covered = new Set(CASES.map((c) => c.expected));

    // Act
    const missing = SIGNATURE_CLASSES.filter((name) => !covered.has(name));

    // Assess
    expect(missing).toEqual([]);
  });
});

describe('classifyLog — unknown', () => {
  it.each([
    ['empty log', ''],
    [
      'green build',
      lines('> Task :app:build', 'BUILD SUCCESSFUL in 42s', '37 actionable tasks: 37 executed'),
    ],
    ['passing Surefire summary', '[INFO] Tests run: 120, Failures: 0, Errors: 0, Skipped: 2'],
    ['tsc with zero errors', 'Found 0 errors. Watching for file changes.'],
    [
      'generic exit code',
      lines('Error: Process completed with exit code 1.', 'Cleaning up orphan processes'),
    ],
    ['prose', 'The quick brown fox jumps over the lazy dog while the pipeline is idle.'],
  ])('answers unknown for %s', (_name, log) => {
    // Act
    const result = classifyLog(log);

    // Assess
    expect(result).toEqual({ class: 'unknown', confidence: 0, signature: null, matched_line: null });
  });

  it('answers unknown when only weak evidence is below the threshold', () => {
    // Prepare: "deadline exceeded" alone is weak evidence (network clients print it too).
    const log = 'rpc error: code = Unknown desc = context deadline exceeded';

    // Act
    const defaultResult = classifyLog(log);
    const strictResult = classifyLog(log, { unknownThreshold: 0.9 });

    // Assess
    expect(defaultResult.class).toBe('timeout');
    expect(defaultResult.confidence).toBeGreaterThanOrEqual(DEFAULT_UNKNOWN_THRESHOLD);
    expect(defaultResult.confidence).toBeLessThan(AUTO);
    expect(strictResult.class).toBe('unknown');
    expect(strictResult.confidence).toBe(defaultResult.confidence);
    expect(strictResult.signature).toBeNull();
  });
});

describe('classifyLog — ANSI and line handling', () => {
  it('classifies coloured output like plain output and reports the line without escapes', () => {
    // Prepare
    const plain = lines('npm ERR! code ECONNRESET', 'npm ERR! network aborted');
    const coloured = lines(
      '\u001b[31mnpm\u001b[39m \u001b[41mERR!\u001b[49m code \u001b[1mECONNRESET\u001b[22m',
      '\u001b]8;;https://docs.example\u0007npm ERR! network aborted\u001b]8;;\u0007',
    );

    // Act
    const fromPlain = classifyLog(plain);
    const fromColoured = classifyLog(coloured);

    // Assess
    expect(fromColoured).toEqual(fromPlain);
    expect(fromColoured.matched_line).toBe('npm ERR! code ECONNRESET');
  });

  it('reads through CI prefixes and CRLF line endings', () => {
    // Prepare
    const log = [
      '2025-01-02T03:04:05.6789012Z ##[group]Run pytest',
      '2025-01-02T03:04:05.6789012Z FAILED tests/test_api.py::test_login - AssertionError',
    ].join('\r\n');

    // Act
    const result = classifyLog(log);

    // Assess
    expect(result.class).toBe('test_failure');
    expect(result.signature).toBe('pytest-failed-node');
  });

  it('trims the matched line and caps it at 300 characters', () => {
    // Prepare
    const log = `      no space left on device ${'x'.repeat(500)}   `;

    // Act
    const result = classifyLog(log);

    // Assess
    expect(result.class).toBe('infra_resource');
    expect(result.matched_line).toHaveLength(300);
    expect(result.matched_line?.startsWith('no space left on device')).toBe(true);
  });

  it('analyses the tail of a very large log', () => {
    // Prepare
    const log = `${'progress: downloading layer\n'.repeat(10_000)}toomanyrequests: rate limit`;

    // Act
    const started = Date.now();
    const result = classifyLog(log);
    const elapsed = Date.now() - started;

    // Assess
    expect(result.class).toBe('rate_limited_or_quota');
    expect(elapsed).toBeLessThan(1000);
  });

  it('stays fast on a pathological 16 KiB single line', () => {
    // Prepare: long runs of characters that many patterns start on, with no line break.
    const log = 'error: Error: at a.go:1:2: Could not '.repeat(450);

    // Act
    const started = Date.now();
    classifyLog(log);
    const elapsed = Date.now() - started;

    // Assess
    expect(elapsed).toBeLessThan(500);
  });
});

describe('classifyLog — confidence', () => {
  it('orders specific evidence above generic evidence of the same class', () => {
    // Prepare
    const generic = 'Error: reading S3 bucket: Forbidden';
    const specific =
      'AccessDenied: User: arn:aws:iam::111122223333:user/ci is not authorized to perform: s3:GetBucketPolicy';

    // Act
    const weak = classifyLog(generic);
    const strong = classifyLog(specific);

    // Assess
    expect(weak.class).toBe('permissions');
    expect(strong.class).toBe('permissions');
    expect(weak.confidence).toBeLessThan(AUTO);
    expect(strong.confidence).toBeGreaterThan(weak.confidence);
  });

  it('adds a small bonus for corroborating signatures of the same class', () => {
    // Prepare
    const single = 'npm ERR! code E429';
    const corroborated = lines(
      'npm ERR! code E429',
      'npm ERR! 429 Too Many Requests - GET https://registry.example.org/lodash',
    );

    // Act
    const one = classifyLog(single);
    const two = classifyLog(corroborated);

    // Assess
    expect(two.class).toBe(one.class);
    expect(two.confidence).toBeGreaterThan(one.confidence);
    expect(two.confidence - one.confidence).toBeLessThanOrEqual(0.1);
  });

  it('never lets a single-run test failure reach the auto threshold', () => {
    // Prepare: plenty of strong test-failure evidence, but no rerun that passed.
    const log = CASES.filter((c) => c.expected === 'test_failure')
      .map((c) => c.log)
      .join('\n');

    // Act
    const result = classifyLog(log);

    // Assess
    expect(result.class).toBe('test_failure');
    expect(result.confidence).toBe(SINGLE_RUN_TEST_CAP);
    expect(result.confidence).toBeLessThan(AUTO);
  });

  it('lowers confidence when two classes conflict', () => {
    // Prepare: Maven reports a missing dependency whose cause is a reset connection.
    const log =
      '[ERROR] Failed to execute goal on project api: Could not resolve dependencies for project com.example:api:jar:1.0: ' +
      'Could not transfer artifact org.slf4j:slf4j-api:jar:2.0.9 from/to central (https://repo.example.org/maven2): Connection reset -> [Help 1]';
    const networkOnly =
      'Could not transfer artifact org.slf4j:slf4j-api:jar:2.0.9 from/to central: Connection reset';

    // Act
    const conflicted = classifyLog(log);
    const clear = classifyLog(networkOnly);

    // Assess
    expect(conflicted.class).toBe('transient_network');
    expect(clear.class).toBe('transient_network');
    expect(conflicted.confidence).toBeLessThan(AUTO);
    expect(clear.confidence).toBeGreaterThanOrEqual(AUTO);
  });

  it('applies the documented conflict penalty on an exact tie', () => {
    // Prepare
    const signatureSet = compileSignatureFiles([
      { className: 'timeout', fileName: 'timeout.json', data: [signature('t-job', 'JOBLIMIT', 0.9)] },
      { className: 'infra_resource', fileName: 'infra.json', data: [signature('i-node', 'NODELOST', 0.9)] },
    ]);

    // Act
    const tie = classifyLog('JOBLIMIT\nNODELOST', { signatureSet });
    const alone = classifyLog('JOBLIMIT', { signatureSet });

    // Assess: ties go to the class listed first in FAILURE_CLASSES.
    expect(alone).toMatchObject({ class: 'timeout', confidence: 0.9, signature: 't-job' });
    expect(tie.class).toBe('infra_resource');
    expect(tie.confidence).toBeCloseTo(0.9 - CONFLICT_PENALTY, 6);
  });

  it('does not treat flaky-test and test-failure evidence as a conflict', () => {
    // Prepare
    const signatureSet = compileSignatureFiles([
      {
        className: 'test_failure',
        fileName: 'test_failure.json',
        data: [signature('t-fail', 'TESTFAIL', 0.75)],
      },
      {
        className: 'flaky_test',
        fileName: 'flaky_test.json',
        data: [signature('f-rerun', 'RERUNPASS', 0.9)],
      },
    ]);

    // Act
    const result = classifyLog('TESTFAIL\nRERUNPASS', { signatureSet });

    // Assess
    expect(result).toMatchObject({ class: 'flaky_test', confidence: 0.9, signature: 'f-rerun' });
  });

  it('is deterministic', () => {
    // Prepare
    const log = CASES.map((c) => c.log).join('\n');

    // Act
    const first = classifyLog(log);
    const second = classifyLog(log);

    // Assess
    expect(second).toEqual(first);
  });

  it('never throws and always answers a known class with confidence in [0, 1]', () => {
    // Prepare: arbitrary text, and arbitrary text spliced with fragments of real evidence.
    const fragments = fc.constantFrom(
      'npm ERR! code E404',
      '\u001b[31m',
      'error TS2322:',
      '--- FAIL: TestX',
      'Run 2: PASS',
      'toomanyrequests',
      'AccessDenied',
      '\r\n',
      '│ Error: ',
      '#12 3.4 ',
    );
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 400 }),
      fc
        .array(fc.oneof(fragments, fc.string({ maxLength: 40 })), { maxLength: 30 })
        .map((parts) => parts.join('')),
    );
    const known = new Set<string>(FAILURE_CLASSES);

    // Act / Assess
    fc.assert(
      fc.property(text, (log) => {
        const result = classifyLog(log);
        expect(known.has(result.class)).toBe(true);
        expect(result.confidence).toBeGreaterThanOrEqual(0);
        expect(result.confidence).toBeLessThanOrEqual(1);
        expect(ClassificationSchema.safeParse(result).success).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('classifyJsonLines', () => {
  async function run(input: string): Promise<{ summary: { lines: number; errors: number }; out: unknown[] }> {
    const output = new PassThrough();
    const chunks: Buffer[] = [];
    output.on('data', (chunk: Buffer) => chunks.push(chunk));
    const summary = await classifyJsonLines(Readable.from([input]), output);
    output.end();
    const text = Buffer.concat(chunks).toString('utf8');
    return {
      summary,
      out: text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as unknown),
    };
  }

  it('answers every line, in order, with a result or a clear error', async () => {
    // Prepare
    const input = [
      JSON.stringify({ id: 'a', log: 'npm ERR! code E429' }),
      '{"id": "b", "log": ',
      JSON.stringify({ id: 'c' }),
      JSON.stringify({ id: 'd', log: 42 }),
      '',
      JSON.stringify([1, 2]),
      JSON.stringify({ log: 'no id here' }),
      JSON.stringify({ id: 7, log: 'all good', extra: true }),
    ].join('\n');

    // Act
    const { summary, out } = await run(`${input}\n`);

    // Assess
    expect(summary).toEqual({ lines: 8, errors: 6 });
    expect(out).toHaveLength(8);
    expect(out[0]).toEqual({
      id: 'a',
      class: 'rate_limited_or_quota',
      confidence: expect.any(Number),
      signature: 'npm-e429',
    });
    expect(out[1]).toEqual({ error: expect.stringMatching(/^line 2: not valid JSON/) });
    expect(out[2]).toEqual({ id: 'c', error: 'line 3: field "log" must be a string' });
    expect(out[3]).toEqual({ id: 'd', error: 'line 4: field "log" must be a string' });
    expect(out[4]).toEqual({ error: expect.stringMatching(/^line 5: empty line/) });
    expect(out[5]).toEqual({ error: 'line 6: expected a JSON object {id, log}, got an array' });
    expect(out[6]).toEqual({ error: 'line 7: field "id" must be a string or a finite number' });
    expect(out[7]).toEqual({ id: 7, class: 'unknown', confidence: 0, signature: null });
  });

  it('handles CRLF input and a missing final newline', async () => {
    // Prepare
    const input = `${JSON.stringify({ id: 'x', log: 'panic: test timed out after 10m0s' })}\r\n${JSON.stringify({ id: 'y', log: '' })}`;

    // Act
    const { summary, out } = await run(input);

    // Assess
    expect(summary).toEqual({ lines: 2, errors: 0 });
    expect(out).toEqual([
      { id: 'x', class: 'timeout', confidence: expect.any(Number), signature: 'go-test-timeout' },
      { id: 'y', class: 'unknown', confidence: 0, signature: null },
    ]);
  });

  it('returns zero counts for empty input', async () => {
    // Act
    const { summary, out } = await run('');

    // Assess
    expect(summary).toEqual({ lines: 0, errors: 0 });
    expect(out).toEqual([]);
  });
});

describe('signature files', () => {
  it('ships one valid file per class with unique ids', () => {
    // Prepare
    const ids = DEFAULT_SIGNATURE_SET.signatures.map((s) => s.id);

    // Act
    const classes = new Set(DEFAULT_SIGNATURE_SET.signatures.map((s) => s.className));

    // Assess
    expect([...classes].sort()).toEqual([...SIGNATURE_CLASSES].sort());
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of DEFAULT_SIGNATURE_SET.signatures) {
      expect(s.lineRegex.global || s.lineRegex.sticky).toBe(false);
    }
  });

  it('rejects a pattern that does not compile, naming the file and the signature', () => {
    // Prepare
    const data = [signature('good-one', 'fine', 0.5), signature('broken-one', '(unclosed', 0.5)];

    // Act
    const act = () => compileSignatureFiles([{ className: 'timeout', fileName: 'timeout.json', data }]);

    // Assess
    expect(act).toThrow(SignatureFileError);
    expect(act).toThrow(/timeout\.json.*signature "broken-one" field pattern: pattern does not compile/);
  });

  it('rejects missing fields, out-of-range weights and stateful flags', () => {
    // Prepare
    const data = [
      { id: 'no-weight', description: 'd', pattern: 'x', ecosystem: 'npm' },
      { ...signature('too-heavy', 'x', 1.5) },
      { ...signature('global-flag', 'x', 0.5), flags: 'gi' },
      { description: 'no id', pattern: 'x', weight: 0.5, ecosystem: 'npm' },
    ];

    // Act
    let message = '';
    try {
      compileSignatureFiles([{ className: 'permissions', fileName: 'permissions.json', data }]);
    } catch (error) {
      message = error instanceof Error ? error.message : String(error);
    }

    // Assess
    expect(message).toContain('invalid signature file permissions.json');
    expect(message).toContain('signature "no-weight" field weight: weight must be a number');
    expect(message).toContain('signature "too-heavy" field weight: weight must be ≤ 1');
    expect(message).toContain('signature "global-flag" field flags');
    expect(message).toContain('signature #3 field id: id must be a string');
  });

  it('rejects a file that is not an array and an id defined twice', () => {
    // Prepare
    const duplicate = [
      { className: 'timeout' as const, fileName: 'timeout.json', data: [signature('same-id', 'a', 0.5)] },
      {
        className: 'config_error' as const,
        fileName: 'config_error.json',
        data: [signature('same-id', 'b', 0.5)],
      },
    ];

    // Act
    const notArray = () =>
      compileSignatureFiles([{ className: 'timeout', fileName: 'timeout.json', data: {} }]);
    const twice = () => compileSignatureFiles(duplicate);

    // Assess
    expect(notArray).toThrow(/timeout\.json: a signature file must hold a JSON array of signatures/);
    expect(twice).toThrow(/config_error\.json: signature "same-id" is already defined in timeout\.json/);
  });

  it('accepts the documented format', () => {
    // Prepare
    const data = [{ ...signature('ok', 'x', 0.5), flags: 'i' }];

    // Act
    const parsed = SignatureFileSchema.parse(data);

    // Assess
    expect(parsed).toEqual(data);
  });
});

function signature(id: string, pattern: string, weight: number) {
  return { id, description: `test signature ${id}`, pattern, weight, ecosystem: 'generic' };
}
