/**
 * A real bare git repository driven with git plumbing (hash-object, mktree via a private index,
 * commit-tree, update-ref, cat-file, ls-tree): what the GitHub fake stores. Every object the
 * fake reports is a git object with its real SHA-1, so a branch the executor creates really
 * contains the patched file and `git diff` between two commits is the real diff.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Author and committer of commits made without one. */
const DEFAULT_IDENTITY = { name: 'Suture Fake', email: 'fake@suture.invalid' };

/** One entry of a tree (as `git ls-tree -r -l` lists it). */
export interface TreeEntry {
  readonly mode: string;
  readonly type: 'blob' | 'tree' | 'commit';
  readonly sha: string;
  readonly path: string;
  readonly size?: number;
}

/** A commit (as `git cat-file commit` shows it). */
export interface CommitObject {
  readonly sha: string;
  readonly tree: string;
  readonly parents: readonly string[];
  readonly author: { readonly name: string; readonly email: string; readonly date: string };
  readonly message: string;
}

/** One change a new tree makes to its base: a blob at a path, or the path removed (`sha: null`). */
export interface TreeChange {
  readonly path: string;
  readonly mode: string;
  readonly sha: string | null;
}

/** `git` failed: the repository does not have what was asked. */
export class GitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitError';
  }
}

export class BareRepository {
  private constructor(readonly path: string) {}

  /** A new bare repository in a fresh temporary directory. */
  static async create(): Promise<BareRepository> {
    const path = await mkdtemp(join(tmpdir(), 'suture-github-'));
    const repository = new BareRepository(path);
    await repository.git(['init', '--bare', '--quiet', '--initial-branch=main', path], { bare: false });
    return repository;
  }

  async remove(): Promise<void> {
    await rm(this.path, { recursive: true, force: true });
  }

  /** Runs git in the repository; `input` goes to stdin. */
  git(
    args: readonly string[],
    options: { input?: Buffer | string; env?: NodeJS.ProcessEnv; bare?: boolean; binary?: boolean } = {},
  ): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        'git',
        options.bare === false ? [...args] : ['--git-dir', this.path, ...args],
        {
          encoding: 'buffer',
          maxBuffer: 64 * 1024 * 1024,
          env: {
            PATH: process.env.PATH,
            HOME: this.path,
            GIT_CONFIG_NOSYSTEM: '1',
            GIT_CONFIG_GLOBAL: '/dev/null',
            ...options.env,
          },
        },
        (error, stdout, stderr) => {
          if (error) reject(new GitError(`git ${args[0]}: ${stderr.toString().trim() || error.message}`));
          else resolve(stdout);
        },
      );
      // git may exit before reading its input (an error): the exit status reports that, not EPIPE.
      child.stdin?.on('error', () => undefined);
      if (options.input === undefined) child.stdin?.end();
      else child.stdin?.end(options.input);
    });
  }

  private async text(args: readonly string[], input?: string | Buffer): Promise<string> {
    return (await this.git(args, input === undefined ? {} : { input })).toString('utf8').trim();
  }

  /** Stores a blob; returns its SHA. */
  writeBlob(content: Buffer | string): Promise<string> {
    return this.text(['hash-object', '-w', '--stdin'], content);
  }

  /** The type of an object, or undefined when the repository does not have it. */
  async typeOf(sha: string): Promise<string | undefined> {
    if (!/^[0-9a-f]{4,40}$/.test(sha)) return undefined;
    try {
      return await this.text(['cat-file', '-t', sha]);
    } catch {
      return undefined;
    }
  }

  async readBlob(sha: string): Promise<Buffer> {
    return this.git(['cat-file', 'blob', sha]);
  }

  /** Every blob of a tree, recursively, or its direct entries. */
  async readTree(sha: string, recursive: boolean): Promise<TreeEntry[]> {
    const out = await this.text(['ls-tree', '-l', '-z', ...(recursive ? ['-r', '-t'] : []), sha]);
    return out
      .split('\0')
      .filter((line) => line !== '')
      .map((line) => {
        const tab = line.indexOf('\t');
        const [mode, type, object, size] = line.slice(0, tab).split(/\s+/);
        return {
          mode: mode!,
          type: type as TreeEntry['type'],
          sha: object!,
          path: line.slice(tab + 1),
          ...(size && size !== '-' ? { size: Number(size) } : {}),
        };
      });
  }

  /**
   * A new tree: `base` (or the empty tree) with `changes` applied, written through a private
   * index (`read-tree`, `update-index --index-info`, `write-tree`).
   */
  async writeTree(base: string | undefined, changes: readonly TreeChange[]): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'suture-index-'));
    const env = { GIT_INDEX_FILE: join(dir, 'index') };
    try {
      await this.git(base ? ['read-tree', base] : ['read-tree', '--empty'], { env });
      // `--index-info`: `<mode> <sha>\t<path>` records; mode 0 removes the path.
      const records = changes.map((change) =>
        change.sha === null
          ? `0 ${'0'.repeat(40)}\t${change.path}`
          : `${change.mode} ${change.sha}\t${change.path}`,
      );
      if (records.length > 0) {
        await this.git(['update-index', '-z', '--index-info'], { env, input: `${records.join('\0')}\0` });
      }
      return (await this.git(['write-tree'], { env })).toString('utf8').trim();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** A commit of `tree` on `parents`. */
  commitTree(
    tree: string,
    parents: readonly string[],
    message: string,
    author: { name: string; email: string; date?: string } = DEFAULT_IDENTITY,
  ): Promise<string> {
    const date = author.date ?? new Date().toISOString();
    return this.git(['commit-tree', tree, ...parents.flatMap((parent) => ['-p', parent])], {
      input: message,
      env: {
        GIT_AUTHOR_NAME: author.name,
        GIT_AUTHOR_EMAIL: author.email,
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_NAME: author.name,
        GIT_COMMITTER_EMAIL: author.email,
        GIT_COMMITTER_DATE: date,
      },
    }).then((out) => out.toString('utf8').trim());
  }

  async readCommit(sha: string): Promise<CommitObject> {
    const raw = await this.text(['cat-file', 'commit', sha]);
    const split = raw.indexOf('\n\n');
    const headers = (split >= 0 ? raw.slice(0, split) : raw).split('\n');
    const message = split >= 0 ? raw.slice(split + 2) : '';
    let tree = '';
    const parents: string[] = [];
    let author = { name: '', email: '', date: new Date(0).toISOString() };
    for (const header of headers) {
      const [key, ...rest] = header.split(' ');
      const value = rest.join(' ');
      if (key === 'tree') tree = value;
      else if (key === 'parent') parents.push(value);
      else if (key === 'author') {
        const match = /^(.*) <(.*)> (\d+) ([+-]\d{4})$/.exec(value);
        if (match) {
          author = {
            name: match[1]!,
            email: match[2]!,
            date: new Date(Number(match[3]) * 1000).toISOString().replace('.000Z', 'Z'),
          };
        }
      }
    }
    return { sha: await this.text(['rev-parse', `${sha}^{commit}`]), tree, parents, author, message };
  }

  /** The SHA a ref (`refs/heads/main`) points at, or undefined. */
  async readRef(ref: string): Promise<string | undefined> {
    try {
      return await this.text(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
    } catch {
      return undefined;
    }
  }

  /** Every ref under `prefix` (`refs/heads/`), with its SHA. */
  async listRefs(prefix: string): Promise<Array<{ ref: string; sha: string }>> {
    const out = await this.text(['for-each-ref', '--format=%(refname) %(objectname)', prefix]);
    return out
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const [ref, sha] = line.split(' ');
        return { ref: ref!, sha: sha! };
      });
  }

  /** Points `ref` at `sha`; with `expected`, only if it still points there (`''` = must not exist). */
  async updateRef(ref: string, sha: string, expected?: string): Promise<void> {
    await this.git(['update-ref', ref, sha, ...(expected === undefined ? [] : [expected])]);
  }

  /** `git diff --name-status` between two commits, e.g. to check what a branch changed. */
  async changedPaths(from: string, to: string): Promise<string[]> {
    const out = await this.text(['diff', '--name-only', from, to]);
    return out.split('\n').filter((line) => line !== '');
  }
}
