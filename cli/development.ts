import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../tooling/paths';
import type * as LocalLoop from './local-loop';

/**
 * The development packages (devDependencies) the local loop runs on. A production install
 * (`npm install --omit=dev`) has none of them: the commands that need them say so instead of
 * failing on a missing module, and every other command works without them
 * (tests/e2e/cli-production-install.test.ts).
 */
export const LOCAL_LOOP_PACKAGES = [
  'aws-local-stepfunctions',
  '@smithy/eventstream-codec',
  '@cloud-copilot/iam-simulate',
] as const;

/** Thrown when a command needs the development install and runs on a production one. */
export class DevelopmentInstallError extends Error {
  constructor(command: string, missing: readonly string[]) {
    super(
      `${command} runs the loop on this machine and needs the development install: ` +
        `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not installed ` +
        '(devDependencies). Run `npm install` (without --omit=dev) in a checkout of the repository.',
    );
    this.name = 'DevelopmentInstallError';
  }
}

/** The local loop (cli/local-loop.ts), loaded on demand, or {@link DevelopmentInstallError}. */
export async function loadLocalLoop(command: string): Promise<typeof LocalLoop> {
  const modules = join(repoRoot(), 'node_modules');
  const missing = LOCAL_LOOP_PACKAGES.filter((name) => !existsSync(join(modules, name, 'package.json')));
  if (missing.length > 0) throw new DevelopmentInstallError(command, missing);
  return import('./local-loop.js');
}
