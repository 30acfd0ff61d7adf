import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import {
  CodePipelineFake,
  type CodePipelineFakeOptions,
  type PipelineDefinition,
} from '../../local/codepipeline/server';

/** Account and region of every fake pipeline (the same as moto's defaults in the tests). */
export const FAKE_ACCOUNT = '123456789012';
export const FAKE_REGION = 'us-west-2';

/** Starts a CodePipeline fake on 127.0.0.1; stop it in `afterAll`. */
export async function startCodePipelineFake(
  options: CodePipelineFakeOptions = {},
): Promise<CodePipelineFake> {
  const fake = new CodePipelineFake({ account: FAKE_ACCOUNT, region: FAKE_REGION, ...options });
  await fake.start();
  return fake;
}

/** The real SDK client pointed at the fake, with dummy credentials. */
export function fakeCodePipelineClient(
  fake: CodePipelineFake,
  overrides: Partial<ConstructorParameters<typeof CodePipelineClient>[0]> = {},
): CodePipelineClient {
  return new CodePipelineClient({
    endpoint: fake.endpoint,
    region: FAKE_REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    ...overrides,
  });
}

/**
 * A three-stage delivery pipeline: Source (CodeStar connection), Build (CodeBuild project
 * `buildProject`) and Deploy (CodeDeploy), tagged with a team and an environment.
 */
export function deliveryPipeline(name = 'myPipeline', buildProject = 'my-build-project'): PipelineDefinition {
  return {
    name,
    stages: [
      {
        name: 'Source',
        actions: [{ name: 'Source', category: 'Source', provider: 'CodeStarSourceConnection' }],
      },
      {
        name: 'Build',
        actions: [
          {
            name: 'Build',
            category: 'Build',
            provider: 'CodeBuild',
            configuration: { ProjectName: buildProject },
          },
        ],
      },
      {
        name: 'Deploy',
        actions: [
          { name: 'Deploy', category: 'Deploy', provider: 'CodeDeploy' },
          { name: 'Smoke', category: 'Test', provider: 'CodeBuild', runOrder: 2 },
        ],
      },
    ],
    tags: { team: 'payments', environment: 'production' },
  };
}
