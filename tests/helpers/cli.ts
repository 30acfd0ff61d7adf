import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../cli/paths';

const root = repoRoot();

/** Runs the real `suture` CLI (from source, through tsx) with optional stdin. */
export function suture(
  args: string[],
  stdin?: string,
): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(
    join(root, 'node_modules', '.bin', 'tsx'),
    [join(root, 'cli', 'suture.ts'), ...args],
    {
      input: stdin,
      encoding: 'utf8',
    },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
