/**
 * The CLI as a production install has it: `npm install --omit=dev` into a fresh copy of the
 * package, then the compiled CLI. It is in the e2e suite because it installs the production
 * dependencies (from npm's cache when warm, else from the registry: tens of seconds to
 * minutes) and compiles the CLI; the unit suite stays fast.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { LOCAL_LOOP_PACKAGES } from '../../cli/development';
import { repoRoot } from '../../tooling/paths';

const root = repoRoot();

describe('the shipped CLI after a production-only install (npm install --omit=dev)', () => {
  const work = mkdtempSync(join(tmpdir(), 'suture-prod-install-'));
  // npm and node from the node running the tests (the pinned Node when make put it first on PATH).
  const env = {
    ...process.env,
    PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
    // The OPA of this checkout (the copy has no .tools/): its own build when there is one, else
    // the pinned opa its wrapper found on PATH (make install ran the wrapper).
    ...(process.env.SUTURE_OPA || existsSync(join(root, '.tools', 'bin', 'opa'))
      ? { SUTURE_OPA: process.env.SUTURE_OPA ?? join(root, '.tools', 'bin', 'opa') }
      : {}),
  };
  const cli = (...args: string[]): SpawnSyncReturns<string> =>
    spawnSync(process.execPath, [join(work, 'dist', 'cli', 'suture.js'), ...args], {
      cwd: work,
      env,
      encoding: 'utf8',
    });

  beforeAll(() => {
    for (const file of ['package.json', 'package-lock.json'])
      copyFileSync(join(root, file), join(work, file));
    cpSync(join(root, 'policies'), join(work, 'policies'), { recursive: true });
    cpSync(join(root, 'examples', 'policy-inputs'), join(work, 'examples', 'policy-inputs'), {
      recursive: true,
    });
    mkdirSync(join(work, 'scripts'));
    copyFileSync(join(root, 'scripts', 'opa'), join(work, 'scripts', 'opa'));
    mkdirSync(join(work, 'tools'));
    copyFileSync(join(root, 'tools', 'go.mod'), join(work, 'tools', 'go.mod'));
    const compiled = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        join(work, 'dist'),
      ],
      { cwd: root, encoding: 'utf8' },
    );
    if (compiled.status !== 0) throw new Error(`tsc failed: ${compiled.stdout}${compiled.stderr}`);
    const installed = spawnSync(
      'npm',
      ['install', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'],
      { cwd: work, env, encoding: 'utf8' },
    );
    if (installed.status !== 0) throw new Error(`npm install --omit=dev failed: ${installed.stderr}`);
  }, 600_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('installs no development package', () => {
    // Assess
    for (const name of [...LOCAL_LOOP_PACKAGES, 'typescript', 'jest', 'tsx'])
      expect([name, existsSync(join(work, 'node_modules', name))]).toEqual([name, false]);
    expect(existsSync(join(work, 'node_modules', 'zod', 'package.json'))).toBe(true);
  });

  it('builds the policy bundle and decides a policy input with it', () => {
    // Act
    const build = cli('policy', 'build', '--out', join(work, 'bundle.tar.gz'));
    const decide = cli(
      'decide',
      '--input',
      join(work, 'examples', 'policy-inputs', '01-codedeploy-failed-rollback.json'),
      '--bundle',
      join(work, 'bundle.tar.gz'),
      '--allow-unsigned',
    );

    // Assess
    expect(`${build.stderr}exit ${build.status}`).toMatch(/exit 0$/);
    expect(existsSync(join(work, 'bundle.tar.gz'))).toBe(true);
    expect(`${decide.stderr}exit ${decide.status}`).toMatch(/exit 0$/);
    expect(JSON.parse(decide.stdout)).toMatchObject({
      allow: expect.any(Boolean),
      reasons: expect.any(Array),
    });
  });

  it('answers suture simulate with the development packages it lacks, not a missing-module crash', () => {
    // Act
    const simulate = cli('simulate');

    // Assess
    expect(`${simulate.stderr}exit ${simulate.status}`).toMatch(/exit 1$/);
    expect(simulate.stderr).toMatch(
      /suture simulate runs the loop on this machine and needs the development install/,
    );
    for (const name of LOCAL_LOOP_PACKAGES) expect(simulate.stderr).toContain(name);
    expect(simulate.stderr).not.toMatch(/Cannot find module|MODULE_NOT_FOUND/);
  });
});
