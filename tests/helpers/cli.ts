import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../cli/paths';

const root = repoRoot();

/** Runs the real `suture` CLI (from source, through tsx) with optional stdin and environment. */
export function suture(
  args: string[],
  stdin?: string,
  env: NodeJS.ProcessEnv = process.env,
): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(
    join(root, 'node_modules', '.bin', 'tsx'),
    [join(root, 'cli', 'suture.ts'), ...args],
    {
      input: stdin,
      encoding: 'utf8',
      env,
    },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
