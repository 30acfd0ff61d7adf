import { generateKeyPairSync } from 'node:crypto';
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/rest';
import { GitHubFake } from '../../local/github';

describe('GitHub REST fake (real Octokit, real git repositories)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const APP_ID = 4242;
  const INSTALLATION_ID = 777;
  const REPO = 'acme/payments';
  let fake: GitHubFake;
  let octokit: Octokit;
  let initial: string;

  beforeAll(async () => {
    fake = await GitHubFake.start({
      apps: [
        {
          appId: APP_ID,
          installationId: INSTALLATION_ID,
          publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          repositories: [REPO],
        },
      ],
    });
    initial = await fake.addRepository(REPO, {
      'src/app.ts': 'export const a = 1;\n',
      'README.md': '# app\n',
    });
    await fake.addRepository('acme/secret-project', { 'x.txt': 'x\n' });
    octokit = new Octokit({
      baseUrl: fake.endpoint,
      authStrategy: createAppAuth,
      auth: {
        appId: APP_ID,
        installationId: INSTALLATION_ID,
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    });
  });

  afterAll(async () => {
    await fake.stop();
  });

  it('exchanges the app JWT for an installation token and refuses a key it does not know', async () => {
    // Act
    const { data } = await octokit.rest.repos.get({ owner: 'acme', repo: 'payments' });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const impostor = new Octokit({
      baseUrl: fake.endpoint,
      authStrategy: createAppAuth,
      auth: {
        appId: APP_ID,
        installationId: INSTALLATION_ID,
        privateKey: other.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    });

    // Assess
    expect(data.default_branch).toBe('main');
    await expect(impostor.rest.repos.get({ owner: 'acme', repo: 'payments' })).rejects.toMatchObject({
      status: 401,
    });
    // The installation sees only its repositories.
    await expect(octokit.rest.repos.get({ owner: 'acme', repo: 'secret-project' })).rejects.toMatchObject({
      status: 404,
    });
    expect(
      fake.calls.some((call) => call.path === `/app/installations/${INSTALLATION_ID}/access_tokens`),
    ).toBe(true);
  });

  it('creates a branch whose commit really holds the new file, and opens, lists and labels a pull request', async () => {
    // Prepare
    const owner = 'acme';
    const repo = 'payments';
    const commit = (await octokit.rest.git.getCommit({ owner, repo, commit_sha: initial })).data;

    // Act
    const tree = await octokit.rest.git.createTree({
      owner,
      repo,
      base_tree: commit.tree.sha,
      tree: [
        { path: 'src/app.ts', mode: '100644', type: 'blob', content: 'export const a = 2;\n' },
        { path: 'README.md', mode: '100644', type: 'blob', sha: null },
      ],
    });
    const created = await octokit.rest.git.createCommit({
      owner,
      repo,
      message: 'Fix a',
      tree: tree.data.sha,
      parents: [initial],
    });
    await octokit.rest.git.createRef({ owner, repo, ref: 'refs/heads/suture/inc-1', sha: created.data.sha });
    const pull = await octokit.rest.pulls.create({
      owner,
      repo,
      head: 'suture/inc-1',
      base: 'main',
      title: 'Fix a',
      body: 'why',
    });
    await octokit.rest.issues.addLabels({ owner, repo, issue_number: pull.data.number, labels: ['suture'] });
    const listed = await octokit.rest.pulls.list({ owner, repo, head: 'acme:suture/inc-1', state: 'all' });

    // Assess
    expect(await fake.fileAt(REPO, 'suture/inc-1', 'src/app.ts')).toBe('export const a = 2;\n');
    expect(await fake.fileAt(REPO, 'suture/inc-1', 'README.md')).toBeUndefined();
    expect(await fake.fileAt(REPO, 'main', 'src/app.ts')).toBe('export const a = 1;\n');
    expect(await fake.repository(REPO).changedPaths(initial, created.data.sha)).toEqual([
      'README.md',
      'src/app.ts',
    ]);
    expect(listed.data.map((p) => p.number)).toEqual([pull.data.number]);
    expect(fake.pulls(REPO)[0]!.labels).toEqual(['suture']);
    await expect(
      octokit.rest.git.createRef({ owner, repo, ref: 'refs/heads/suture/inc-1', sha: created.data.sha }),
    ).rejects.toMatchObject({ status: 422 });
    await expect(
      octokit.rest.pulls.create({ owner, repo, head: 'suture/inc-1', base: 'main', title: 'again' }),
    ).rejects.toMatchObject({ status: 422 });
  });

  it('protects the default branch and answers 503 while down', async () => {
    // Prepare
    const owner = 'acme';
    const repo = 'payments';
    const head = (await octokit.rest.git.getRef({ owner, repo, ref: 'heads/main' })).data.object.sha;

    // Act / Assess
    await expect(
      octokit.rest.git.updateRef({ owner, repo, ref: 'heads/main', sha: head, force: true }),
    ).rejects.toMatchObject({
      status: 422,
    });
    fake.setDown(true);
    await expect(octokit.rest.repos.get({ owner, repo })).rejects.toMatchObject({ status: 503 });
    fake.setDown(false);
    await expect(octokit.rest.repos.get({ owner, repo })).resolves.toMatchObject({ status: 200 });
  });
});
