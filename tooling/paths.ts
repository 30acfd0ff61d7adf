import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Finds the repository root (the folder whose package.json is named "suture"), walking up
 * from this file so the same code works from `cli/` (tsx, jest) and from `dist/cli/` (node).
 */
export function repoRoot(start: string = __dirname): string {
  let dir = start;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name;
      if (name === 'suture') return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the suture repository root above ${start}`);
    dir = parent;
  }
}
