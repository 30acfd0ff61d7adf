import {
  CodeBuildClient,
  CreateProjectCommand,
  ListBuildsForProjectCommand,
  StartBuildCommand,
} from '@aws-sdk/client-codebuild';
import { emulatorClientConfig } from '../helpers/aws';

/** Where the emulator the tests run on is patched to behave as the service does (local/moto). */
describe('moto, as the local loop runs it', () => {
  const codeBuild = new CodeBuildClient(emulatorClientConfig());
  afterAll(() => codeBuild.destroy());

  it('lists a project’s builds newest first, as ListBuildsForProject does by default, and oldest first on request', async () => {
    // Prepare: a project with more builds than validate inspects (25)
    const project = `fidelity-${Date.now()}`;
    await codeBuild.send(
      new CreateProjectCommand({
        name: project,
        source: { type: 'NO_SOURCE', location: 'none', buildspec: 'version: 0.2' },
        artifacts: { type: 'NO_ARTIFACTS' },
        environment: {
          type: 'LINUX_CONTAINER',
          image: 'aws/codebuild/standard:7.0',
          computeType: 'BUILD_GENERAL1_SMALL',
        },
        serviceRole: 'arn:aws:iam::123456789012:role/fidelity',
      }),
    );
    const started: string[] = [];
    for (let i = 0; i < 30; i += 1)
      started.push((await codeBuild.send(new StartBuildCommand({ projectName: project }))).build!.id!);

    // Act
    const byDefault = await codeBuild.send(new ListBuildsForProjectCommand({ projectName: project }));
    const ascending = await codeBuild.send(
      new ListBuildsForProjectCommand({ projectName: project, sortOrder: 'ASCENDING' }),
    );

    // Assess
    expect(byDefault.ids?.[0]).toBe(started.at(-1));
    expect(byDefault.ids).toEqual([...started].reverse());
    expect(ascending.ids).toEqual(started);
  });
});
