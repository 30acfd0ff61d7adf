import type { FailureClass } from '../../functions/commons/classify';
import { DEFAULT_SIGNATURE_SET, classifyLog, compileSignatureFiles } from '../../functions/commons/classify';
import {
  codeBuildHits,
  compileCodeBuildRules,
  readCodeBuildFailure,
} from '../../functions/commons/classify/codebuild';
import { ClassificationSchema, SignatureFileError } from '../../functions/commons/classify/schema';

/** The policy's auto threshold. */
const AUTO = 0.8;

interface Case {
  readonly name: string;
  readonly log: string;
  readonly expected: FailureClass;
  /** The deciding signature, when the case is about one signature. */
  readonly signature?: string;
  /** `true`: must reach the auto threshold; `false`: must stay below it. */
  readonly auto?: boolean;
}

const lines = (...parts: string[]) => parts.join('\n');
const container = (text: string) => `[Container] 2026/03/04 10:11:12.123456 ${text}`;

/** A CloudFormation stack event table (cdk deploy style) around one resource status reason. */
const cdkEvents = (type: string, logicalId: string, reason: string) =>
  lines(
    'MyStack: creating CloudFormation changeset...',
    `MyStack | 3/9 | 10:21:07 AM | CREATE_FAILED        | ${type} | ${logicalId} ${reason}`,
    'MyStack | 4/9 | 10:21:08 AM | ROLLBACK_IN_PROGRESS | AWS::CloudFormation::Stack | MyStack The following resource(s) failed to create: [' +
      `${logicalId}]. Rollback requested by user.`,
    'MyStack | 9/9 | 10:21:40 AM | ROLLBACK_COMPLETE    | AWS::CloudFormation::Stack | MyStack',
    '',
    ` ❌  MyStack failed: Error: The stack named MyStack failed creation, it may need to be manually deleted from the AWS console: ROLLBACK_COMPLETE`,
  );

// Excerpts written for these tests from each service's documented error formats.
const WRAPPED: readonly Case[] = [
  // ------------------------------------------------ CloudFormation / CDK / SAM wrappers
  {
    name: 'CloudFormation wrapper around AccessDenied is permissions, not deploy_health',
    expected: 'permissions',
    auto: true,
    log: cdkEvents(
      'AWS::SQS::Queue',
      'OrdersQueue',
      'Resource handler returned message: "User: arn:aws:sts::123456789012:assumed-role/cdk-hnb659fds-cfn-exec-role/AWSCloudFormation is not authorized to perform: sqs:createqueue on resource: arn:aws:sqs:eu-west-1:123456789012:orders because no identity-based policy allows the sqs:createqueue action (Service: Sqs, Status Code: 403, Request ID: 5b7c4e7a-1111-2222-3333-444455556666)" (RequestToken: 0c7f, HandlerErrorCode: AccessDenied)',
    ),
  },
  {
    name: 'CloudFormation wrapper around Rate exceeded is rate_limited_or_quota',
    expected: 'rate_limited_or_quota',
    auto: true,
    log: cdkEvents(
      'AWS::Lambda::Function',
      'Handler886CB40B',
      'Resource handler returned message: "Rate exceeded (Service: Lambda, Status Code: 400, Request ID: 9d2a-aa)" (RequestToken: 77e1, HandlerErrorCode: Throttling)',
    ),
  },
  {
    name: 'CloudFormation wrapper around a LimitExceeded code is rate_limited_or_quota',
    expected: 'rate_limited_or_quota',
    signature: 'aws-error-code-throttling-quota',
    log: cdkEvents(
      'AWS::EC2::EIP',
      'NatEip',
      'The maximum number of addresses has been reached. (Service: AmazonEC2; Status Code: 400; Error Code: AddressLimitExceeded; Request ID: 1f0c-77; Proxy: null)',
    ),
  },
  {
    name: 'CloudFormation wrapper around AlreadyExists is infra_resource',
    expected: 'infra_resource',
    auto: true,
    log: cdkEvents(
      'AWS::Logs::LogGroup',
      'ApiAccessLogs',
      `Resource handler returned message: "Resource of type 'AWS::Logs::LogGroup' with identifier '/app/api-access' already exists." (RequestToken: 1a2b, HandlerErrorCode: AlreadyExists)`,
    ),
  },
  {
    name: 'CloudFormation wrapper around NotFound is infra_resource',
    expected: 'infra_resource',
    auto: true,
    log: cdkEvents(
      'AWS::ECS::Service',
      'WebService',
      'Resource handler returned message: "Cluster not found. (Service: AmazonECS; Status Code: 400; Error Code: ClusterNotFoundException; Request ID: 0aa1)" (RequestToken: 3c4d, HandlerErrorCode: NotFound)',
    ),
  },
  {
    name: 'CloudFormation wrapper around a ValidationError code is config_error',
    expected: 'config_error',
    signature: 'aws-error-code-validation',
    log: cdkEvents(
      'AWS::SSM::Parameter',
      'FeatureFlag',
      'Parameter value cannot be empty (Service: AmazonSSM; Status Code: 400; Error Code: ValidationException; Request ID: 44aa)',
    ),
  },
  {
    name: 'a bare CloudFormation rollback is weak deploy_health evidence',
    expected: 'deploy_health',
    auto: false,
    log: cdkEvents('Custom::Seed', 'SeedData', 'Resource creation cancelled'),
  },
  {
    name: 'CloudFormation IAM status reason "API: svc:Action User:" is permissions',
    expected: 'permissions',
    signature: 'cloudformation-api-user-not-authorized',
    log: lines(
      'CREATE_FAILED   AWS::IAM::Role   DeployRole   API: iam:CreateRole User: arn:aws:sts::123456789012:assumed-role/ci-deployer/session',
      'ROLLBACK_COMPLETE   AWS::CloudFormation::Stack   my-stack',
    ),
  },
  {
    name: 'an ECS circuit breaker inside the handler envelope stays deploy_health',
    expected: 'deploy_health',
    signature: 'ecs-circuit-breaker',
    auto: true,
    log: cdkEvents(
      'AWS::ECS::Service',
      'ApiService',
      `Resource handler returned message: "Error occurred during operation 'ECS Deployment Circuit Breaker was triggered'." (RequestToken: 9f, HandlerErrorCode: GeneralServiceException)`,
    ),
  },
  {
    name: 'stack in UPDATE_ROLLBACK_FAILED, reported as ValidationError, is infra_resource',
    expected: 'infra_resource',
    signature: 'aws-resource-state',
    auto: true,
    log: 'An error occurred (ValidationError) when calling the UpdateStack operation: Stack:arn:aws:cloudformation:us-east-1:123456789012:stack/app/4f1c is in UPDATE_ROLLBACK_FAILED state and can not be updated.',
  },
  {
    name: 'a role CloudFormation cannot assume, reported as ValidationError, is permissions',
    expected: 'permissions',
    signature: 'role-cannot-be-assumed',
    auto: true,
    log: lines(
      'Action execution failed',
      'Role arn:aws:iam::123456789012:role/cfn-deploy is invalid or cannot be assumed (Service: AmazonCloudFormation; Status Code: 400; Error Code: ValidationError; Request ID: 71aa; Proxy: null)',
    ),
  },
  {
    name: 'SAM change set waiter failure is decided by its Reason',
    expected: 'config_error',
    log: lines(
      'Waiting for changeset to be created..',
      'Error: Failed to create changeset for the stack: api, ex: Waiter ChangeSetCreateComplete failed: Waiter encountered a terminal failure state: For expression "Status" we matched expected path: "FAILED" Status: FAILED. Reason: Template format error: Unresolved resource dependencies [ApiGatewayRole] in the Resources block of the template',
    ),
  },
  // ------------------------------------------------ Terraform (AWS SDK for Go v2)
  {
    name: 'Terraform 403 AccessDeniedException is permissions',
    expected: 'permissions',
    auto: true,
    log: lines(
      '╷',
      '│ Error: creating Lambda Function (ingest): operation error Lambda: CreateFunction, https response error StatusCode: 403, RequestID: 2f6a-11, api error AccessDeniedException: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/ingest',
      '│',
      '│   with aws_lambda_function.ingest,',
      '│   on main.tf line 12, in resource "aws_lambda_function" "ingest":',
      '╵',
    ),
  },
  {
    name: 'Terraform throttling is rate_limited_or_quota',
    expected: 'rate_limited_or_quota',
    auto: true,
    log: '│ Error: reading IAM Role (deploy): operation error IAM: GetRole, exceeded maximum number of attempts, 25, https response error StatusCode: 400, RequestID: 0c1d, api error Throttling: Rate exceeded',
  },
  {
    name: 'Terraform EntityAlreadyExists is infra_resource',
    expected: 'infra_resource',
    log: '│ Error: creating IAM Role (deploy): operation error IAM: CreateRole, https response error StatusCode: 409, RequestID: 7e2b, EntityAlreadyExists: Role with name deploy already exists.',
  },
  {
    name: 'Terraform state wait timeout is timeout',
    expected: 'timeout',
    signature: 'terraform-state-wait-timeout',
    log: `│ Error: waiting for EKS Cluster (prod) create: timeout while waiting for state to become 'ACTIVE' (last state: 'CREATING', timeout: 30m0s)`,
  },
  {
    name: 'Terraform DependencyViolation is infra_resource',
    expected: 'infra_resource',
    log: '│ Error: deleting EC2 Subnet (subnet-0abc): operation error EC2: DeleteSubnet, https response error StatusCode: 400, RequestID: 51ee, api error DependencyViolation: The subnet has dependencies and cannot be deleted.',
  },
  // ------------------------------------------------ AWS CLI
  {
    name: 'AWS CLI AccessDenied is permissions',
    expected: 'permissions',
    auto: true,
    log: 'An error occurred (AccessDenied) when calling the PutObject operation: Access Denied',
  },
  {
    name: 'AWS CLI ResourceNotFoundException is infra_resource',
    expected: 'infra_resource',
    log: 'An error occurred (ResourceNotFoundException) when calling the UpdateFunctionCode operation: Function not found: arn:aws:lambda:us-east-1:123456789012:function:ingest',
  },
  {
    name: 'AWS CLI ValidationError is config_error',
    expected: 'config_error',
    log: 'An error occurred (ValidationError) when calling the CreateChangeSet operation: Parameters: [VpcId] must have values',
  },
  {
    name: 'AWS CLI waiter that gave up is timeout',
    expected: 'timeout',
    signature: 'aws-waiter-max-attempts',
    log: 'Waiter StackUpdateComplete failed: Max attempts exceeded',
  },
];

const SERVICES: readonly Case[] = [
  // ------------------------------------------------ CodeDeploy
  {
    name: 'CodeDeploy ApplicationStop script failure is config_error, not deploy_health',
    expected: 'config_error',
    signature: 'codedeploy-install-hook-failed',
    log: lines(
      'Deployment d-ABCD12345 failed',
      'LifecycleEvent - ApplicationStop failed with error code ScriptFailed',
      'Script Name: scripts/stop_server.sh',
      'Message: Script at specified location: scripts/stop_server.sh run as user root failed with exit code 1',
    ),
  },
  {
    name: 'CodeDeploy BeforeInstall script failure is config_error',
    expected: 'config_error',
    log: lines(
      'Event BeforeInstall Failed ScriptFailed',
      'Script at specified location: scripts/install_deps.sh run as user root failed with exit code 2',
    ),
  },
  {
    name: 'CodeDeploy ValidateService failure is deploy_health',
    expected: 'deploy_health',
    signature: 'codedeploy-validate-hook-failed',
    auto: true,
    log: lines(
      'LifecycleEvent - ValidateService failed with error code ScriptFailed',
      'Script at specified location: scripts/health_check.sh run as user ec2-user failed with exit code 7',
    ),
  },
  {
    name: 'CodeDeploy health-constraint failure is deploy_health',
    expected: 'deploy_health',
    auto: true,
    log: lines(
      'Error code: HEALTH_CONSTRAINTS',
      'Message: The overall deployment failed because too many individual instances failed deployment, too few healthy instances are available for deployment, or some instances in your deployment group are experiencing problems.',
    ),
  },
  {
    name: 'CodeDeploy ScriptTimedOut is timeout',
    expected: 'timeout',
    log: lines(
      'LifecycleEvent - AfterInstall',
      'Error Code: ScriptTimedOut',
      'Script Name: scripts/migrate.sh',
    ),
  },
  {
    name: 'CodeDeploy ScriptMissing is config_error',
    expected: 'config_error',
    signature: 'codedeploy-config-codes',
    log: lines(
      'Error Code: ScriptMissing',
      'Script Name: scripts/start.sh',
      'Message: Script does not exist at specified location',
    ),
  },
  {
    name: 'CodeDeploy agent restart is infra_resource',
    expected: 'infra_resource',
    log: lines(
      'Error Code: UnknownError',
      'Message: Failed: Failing in-progress lifecycle event after an agent restart.',
    ),
  },
  // ------------------------------------------------ ECS
  {
    name: 'ECS CannotPullContainerError with an ECR AccessDenied is permissions',
    expected: 'permissions',
    log: 'STOPPED (CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1.4: pulling from host 123456789012.dkr.ecr.us-east-1.amazonaws.com failed with status code [manifests 1.4]: 403 Forbidden)',
  },
  {
    name: 'ECS CannotPullContainerError with an i/o timeout is transient_network',
    expected: 'transient_network',
    log: 'Stopped reason: CannotPullContainerError: inspect image has been retried 1 time(s): failed to resolve ref docker.io/library/nginx:1.27: failed to do request: Head "https://registry-1.docker.io/v2/library/nginx/manifests/1.27": dial tcp 54.236.113.205:443: i/o timeout',
  },
  {
    name: 'ECS ResourceInitializationError around a secret AccessDenied is permissions',
    expected: 'permissions',
    log: 'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/3f2a is not authorized to perform: secretsmanager:GetSecretValue',
  },
  {
    name: 'ECS CannotPullContainerError alone is weak deploy_health',
    expected: 'deploy_health',
    auto: false,
    log: 'service api (instance i-0abc) (port 8080) stopped 1 running tasks: CannotPullContainerError',
  },
  {
    name: 'ECS task placement failure is infra_resource',
    expected: 'infra_resource',
    signature: 'capacity-insufficient',
    log: 'service web was unable to place a task because no container instance met all of its requirements. The closest matching container-instance 5c1e has insufficient memory available.',
  },
  {
    name: 'ECS container killed for memory is infra_resource',
    expected: 'infra_resource',
    log: 'Stopped reason: OutOfMemoryError: Container killed due to memory usage',
  },
  {
    name: 'ECS deployment circuit breaker service event is deploy_health',
    expected: 'deploy_health',
    auto: true,
    log: '(service api) (deployment ecs-svc/123) deployment failed: tasks failed to start.',
  },
  // ------------------------------------------------ Lambda deploy
  {
    name: 'Lambda ResourceConflictException is infra_resource',
    expected: 'infra_resource',
    log: 'An error occurred (ResourceConflictException) when calling the UpdateFunctionConfiguration operation: The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:eu-west-1:123456789012:function:ingest',
  },
  {
    name: 'Lambda CodeStorageExceededException is rate_limited_or_quota',
    expected: 'rate_limited_or_quota',
    log: 'An error occurred (CodeStorageExceededException) when calling the PublishVersion operation: Code storage limit exceeded.',
  },
  {
    name: 'Lambda unzipped size limit is rate_limited_or_quota',
    expected: 'rate_limited_or_quota',
    signature: 'lambda-package-limits',
    log: 'Resource handler returned message: "Unzipped size must be smaller than 262144000 bytes (Service: Lambda, Status Code: 400, Request ID: 0f1e)" (RequestToken: aa, HandlerErrorCode: InvalidRequest)',
  },
];

const CODEBUILD: readonly Case[] = [
  {
    name: 'CodeBuild: a package install that fails in INSTALL is dependency_resolution',
    expected: 'dependency_resolution',
    signature: 'codebuild-package-install-failed',
    log: lines(
      container('Entering phase INSTALL'),
      container('Running command npm ci'),
      'npm error process exited with code 1',
      container('Command did not exit successfully npm ci exit status 1'),
      container('Phase complete: INSTALL State: FAILED'),
      container(
        'Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command: npm ci. Reason: exit status 1',
      ),
    ),
  },
  {
    name: 'CodeBuild: exit status 127 is config_error (command not found)',
    expected: 'config_error',
    signature: 'codebuild-command-not-found',
    log: lines(
      container('Running command yarn lint'),
      '/codebuild/output/tmp/script.sh: 4: yarn: not found',
      container('Command did not exit successfully yarn lint exit status 127'),
      container('Phase complete: PRE_BUILD State: FAILED'),
      container(
        'Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command: yarn lint. Reason: exit status 127',
      ),
    ),
  },
  {
    name: 'CodeBuild: CLIENT_ERROR naming an authentication failure is permissions',
    expected: 'permissions',
    signature: 'codebuild-client-error-auth',
    log: lines(
      container('Waiting for DOWNLOAD_SOURCE'),
      container('Phase complete: DOWNLOAD_SOURCE State: FAILED'),
      container(
        'Phase context status code: CLIENT_ERROR Message: authentication required for primary source and source version main',
      ),
    ),
  },
  {
    name: 'CodeBuild: YAML_FILE_ERROR is config_error',
    expected: 'config_error',
    auto: true,
    log: lines(
      container('Phase complete: DOWNLOAD_SOURCE State: FAILED'),
      container(
        'Phase context status code: YAML_FILE_ERROR Message: wrong number of container tags, expected 1',
      ),
    ),
  },
  {
    name: 'CodeBuild: a failing test command in BUILD is test_failure',
    expected: 'test_failure',
    signature: 'codebuild-test-command-failed',
    log: lines(
      container('Running command make check'),
      container('Command did not exit successfully make check exit status 2'),
      container('Phase complete: BUILD State: FAILED'),
      container(
        'Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command: make check. Reason: exit status 2',
      ),
    ),
  },
  {
    name: 'CodeBuild: an unreachable Docker daemon is config_error (privileged mode)',
    expected: 'config_error',
    signature: 'codebuild-docker-not-privileged',
    auto: true,
    log: lines(
      container('Running command docker build -t app .'),
      'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
      container('Command did not exit successfully docker build -t app . exit status 1'),
      container('Phase complete: BUILD State: FAILED'),
    ),
  },
];

function check(testCase: Case): void {
  const result = classifyLog(testCase.log);
  expect({ name: testCase.name, class: result.class }).toEqual({
    name: testCase.name,
    class: testCase.expected,
  });
  if (testCase.signature !== undefined) expect(result.signature).toBe(testCase.signature);
  if (testCase.auto === true) expect(result.confidence).toBeGreaterThanOrEqual(AUTO);
  if (testCase.auto === false) expect(result.confidence).toBeLessThan(AUTO);
  expect(ClassificationSchema.parse(result)).toEqual(result);
}

describe('classifyLog — the cause inside an AWS release-plane wrapper decides', () => {
  it.each(WRAPPED.map((c) => [c.name, c] as const))('%s', (_name, testCase) => {
    // Prepare: the excerpt comes from the table.

    // Act and assess
    check(testCase);
  });

  it('never lets the wrapper lower the confidence of the cause inside it', () => {
    // Prepare: CloudFormation's bare "<name> already exists" reason, alone and inside a full rollback.
    const cause = 'orders-artifacts-123456789012 already exists';
    const wrapped = cdkEvents('AWS::S3::Bucket', 'ArtifactsBucket', '') + '\n' + cause;

    // Act
    const alone = classifyLog(cause);
    const inWrapper = classifyLog(wrapped);

    // Assess: the envelope neither changes the class nor counts as conflicting evidence.
    expect(alone.class).toBe('infra_resource');
    expect(inWrapper.class).toBe('infra_resource');
    expect(inWrapper.confidence).toBe(alone.confidence);
  });
});

describe('classifyLog — AWS services', () => {
  it.each(SERVICES.map((c) => [c.name, c] as const))('%s', (_name, testCase) => {
    check(testCase);
  });
});

describe('classifyLog — CodeBuild structure as features', () => {
  it.each(CODEBUILD.map((c) => [c.name, c] as const))('%s', (_name, testCase) => {
    check(testCase);
  });

  it('reads the failed phase, status code, message, command and exit status', () => {
    // Prepare
    const normalised = [
      'Entering phase INSTALL',
      'Running command pip install -r requirements.txt',
      'Command did not exit successfully pip install -r requirements.txt exit status 1',
      'Phase complete: INSTALL State: FAILED',
      'Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command: pip install -r requirements.txt. Reason: exit status 1',
    ];

    // Act
    const failure = readCodeBuildFailure(normalised);

    // Assess
    expect(failure).toEqual({
      phase: 'INSTALL',
      statusCode: 'COMMAND_EXECUTION_ERROR',
      message: 'Error while executing command: pip install -r requirements.txt. Reason: exit status 1',
      command: 'pip install -r requirements.txt',
      exitStatus: 1,
      lineIndex: 4,
    });
  });

  it('reads nothing from a log without CodeBuild failure lines', () => {
    expect(readCodeBuildFailure(['npm test', 'Tests: 1 failed'])).toBeUndefined();
  });

  it('draws the phase rule only from its phase: the same install command failing in BUILD is not dependency evidence', () => {
    // Prepare
    const rules = DEFAULT_SIGNATURE_SET.codeBuildRules ?? [];
    const inPhase = (phase: string) => [
      'Command did not exit successfully npm ci exit status 1',
      `Phase complete: ${phase} State: FAILED`,
      'Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command: npm ci. Reason: exit status 1',
    ];

    // Act
    const install = codeBuildHits(inPhase('INSTALL'), rules).map((hit) => hit.signature.id);
    const build = codeBuildHits(inPhase('BUILD'), rules).map((hit) => hit.signature.id);

    // Assess
    expect(install).toContain('codebuild-package-install-failed');
    expect(build).not.toContain('codebuild-package-install-failed');
  });

  it('applies CodeBuild-only signatures and rules only to CodeBuild logs', () => {
    // Prepare: the same Docker message and command failure, without CodeBuild's own lines.
    const daemon =
      'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?';
    const outside = lines('$ docker build -t app .', daemon);
    const notFound = lines(
      'Command did not exit successfully yarn lint exit status 127',
      'Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command: yarn lint. Reason: exit status 127',
    );

    // Act
    const docker = classifyLog(outside);
    const plain = classifyLog(notFound);

    // Assess
    expect(docker.class).toBe('infra_resource');
    expect(docker.signature).toBe('docker-daemon-unavailable');
    expect(plain.signature).not.toBe('codebuild-command-not-found');
  });

  it('rejects a malformed rule file, naming the rule and the field', () => {
    // Prepare
    const data = [
      { id: 'codebuild-bad', description: 'x', class: 'timeout', weight: 0.5, command: '(' },
      { id: 'codebuild-empty', description: 'x', class: 'timeout', weight: 0.5 },
      { id: 'codebuild-class', description: 'x', class: 'unknown', weight: 0.5, exitStatus: [1] },
    ];

    // Act
    const act = () => compileCodeBuildRules('codebuild-rules.json', data);

    // Assess
    expect(act).toThrow(SignatureFileError);
    expect(act).toThrow(
      /codebuild-rules\.json: rule "codebuild-bad" field command: command does not compile/,
    );
    expect(act).toThrow(/rule "codebuild-empty": a rule needs at least one of/);
    expect(act).toThrow(/rule "codebuild-class" field class/);
  });
});

describe('signature roles, contexts and supersedes', () => {
  const signature = (id: string, pattern: string, weight: number, extra: Record<string, unknown> = {}) => ({
    id,
    description: 'test signature',
    pattern,
    weight,
    ecosystem: 'test',
    ...extra,
  });

  it('scores a wrapper only when no cause hit', () => {
    // Prepare
    const signatureSet = compileSignatureFiles([
      {
        className: 'deploy_health',
        fileName: 'deploy_health.json',
        data: [signature('envelope', 'ROLLBACK_COMPLETE', 0.95, { role: 'wrapper' })],
      },
      {
        className: 'permissions',
        fileName: 'permissions.json',
        data: [signature('denied', 'AccessDenied', 0.6)],
      },
    ]);

    // Act
    const both = classifyLog('AccessDenied\nROLLBACK_COMPLETE', { signatureSet });
    const wrapperOnly = classifyLog('ROLLBACK_COMPLETE', { signatureSet });

    // Assess: a heavier wrapper still loses to the cause, and does not count as a conflict.
    expect(both).toMatchObject({ class: 'permissions', confidence: 0.6, signature: 'denied' });
    expect(wrapperOnly).toMatchObject({ class: 'deploy_health', signature: 'envelope' });
  });

  it('drops the hit of a superseded signature', () => {
    // Prepare
    const signatureSet = compileSignatureFiles([
      {
        className: 'infra_resource',
        fileName: 'infra_resource.json',
        data: [signature('generic', 'daemon', 0.8)],
      },
      {
        className: 'config_error',
        fileName: 'config_error.json',
        data: [signature('specific', 'daemon in ci', 0.7, { supersedes: ['generic'] })],
      },
    ]);

    // Act
    const result = classifyLog('daemon in ci', { signatureSet });

    // Assess: no conflict penalty either, the generic reading is gone.
    expect(result).toMatchObject({ class: 'config_error', confidence: 0.7, signature: 'specific' });
  });

  it('rejects a supersedes id that no file defines, a bad role and a bad context', () => {
    // Prepare
    const compile = (extra: Record<string, unknown>) => () =>
      compileSignatureFiles([
        { className: 'timeout', fileName: 'timeout.json', data: [signature('one', 'x', 0.5, extra)] },
      ]);

    // Act and assess
    expect(compile({ supersedes: ['ghost'] })).toThrow(
      /signature "one" supersedes "ghost", which no file defines/,
    );
    expect(compile({ role: 'envelope' })).toThrow(
      /signature "one" field role: role must be one of cause, wrapper/,
    );
    expect(compile({ context: 'jenkins' })).toThrow(
      /signature "one" field context: context must be one of codebuild/,
    );
  });
});
