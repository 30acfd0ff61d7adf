/**
 * A protocol-level fake of the GitHub REST API on 127.0.0.1, for tests and `suture simulate`.
 * The real Octokit client talks to it unchanged (`baseUrl` = {@link GitHubFake.endpoint}).
 *
 * What it serves, as api.github.com does (JSON bodies, `{"message": …}` errors, 201 on create,
 * 401 for bad credentials, 404 for what the caller may not see, 422 for invalid requests):
 * - `POST /app/installations/{id}/access_tokens`: a GitHub App's JWT (RS256, `iss` = app id,
 *   verified against the app's public key) exchanged for an installation token;
 * - `GET /repos/{owner}/{repo}`;
 * - git data: `GET|POST /git/refs`, `GET /git/ref/{ref}`, `PATCH /git/refs/{ref}`,
 *   `GET|POST /git/commits`, `GET|POST /git/trees` (`base_tree`, `recursive`), `GET|POST /git/blobs`;
 * - `GET /contents/{path}?ref=`;
 * - pulls: `POST /pulls`, `GET /pulls?head=owner:branch&state=`, `GET /pulls/{n}`;
 * - `POST /issues/{n}/labels`.
 *
 * Each repository is a real bare git repository ({@link BareRepository}); refs, trees and
 * commits are git's own. Branch protection is modelled on the default branch: no token may
 * move it. {@link GitHubFake.setDown} makes every request answer 503 (GitHub being down).
 */
import { randomBytes, createPublicKey, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwtVerify } from 'jose';
import { BareRepository, type TreeChange } from './git';

export { BareRepository, GitError } from './git';

const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** A GitHub App installed on some repositories of the fake. */
export interface FakeApp {
  readonly appId: number;
  readonly installationId: number;
  /** The app's public key (PEM or KeyObject): the fake verifies the app's JWTs with it. */
  readonly publicKey: string | KeyObject;
  /** Repositories (`owner/name`) the installation may reach. @default every repository */
  readonly repositories?: readonly string[];
  /** @default `{ contents: 'write', pull_requests: 'write', metadata: 'read' }` */
  readonly permissions?: Readonly<Record<string, 'read' | 'write'>>;
}

/** A pull request in the fake. */
export interface FakePullRequest {
  readonly number: number;
  readonly repository: string;
  readonly title: string;
  readonly body: string;
  readonly head: string;
  readonly base: string;
  readonly headSha: string;
  readonly labels: string[];
  readonly htmlUrl: string;
  state: 'open' | 'closed';
  readonly createdAt: string;
}

/** One request the fake received (no header is kept: they carry credentials). */
export interface GitHubCall {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

interface FakeRepository {
  readonly owner: string;
  readonly name: string;
  readonly git: BareRepository;
  readonly defaultBranch: string;
  readonly pulls: FakePullRequest[];
  readonly labels: Set<string>;
}

interface Grant {
  readonly installationId?: number;
  readonly repositories?: readonly string[];
  readonly permissions: Readonly<Record<string, string>>;
  readonly expiresAt: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: unknown[],
  ) {
    super(message);
  }
}

const notFound = () => new HttpError(404, 'Not Found');

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'Request body is too large'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

type Body = Record<string, unknown>;

function field<T>(body: Body, name: string, type: 'string' | 'object' | 'boolean', required = true): T {
  const value = body[name];
  if (value === undefined || value === null) {
    if (required) throw new HttpError(422, `Invalid request.\n\n"${name}" wasn't supplied.`);
    return undefined as T;
  }
  if (type === 'object' ? typeof value !== 'object' : typeof value !== type) {
    throw new HttpError(422, `Invalid request.\n\nFor '${name}', ${JSON.stringify(value)} is not a ${type}.`);
  }
  return value as T;
}

/** Options of {@link GitHubFake.start}. */
export interface GitHubFakeOptions {
  /** @default 0 (any free port) */
  readonly port?: number;
  readonly apps?: readonly FakeApp[];
  /** Tokens accepted as they are (fine-grained personal access tokens), each with its grant. */
  readonly tokens?: Readonly<Record<string, { repositories?: readonly string[] }>>;
}

export class GitHubFake {
  private readonly repositories = new Map<string, FakeRepository>();
  private readonly grants = new Map<string, Grant>();
  private readonly apps: Array<FakeApp & { key: KeyObject }>;
  private downStatus: number | undefined;
  private nextPull = 1;
  readonly calls: GitHubCall[] = [];
  /**
   * Asked once per request (method, path with numbers and SHAs replaced by `:id`): a fault to
   * answer with instead (`suture simulate --faults`). `throttling` is GitHub's rate limit
   * (403, no requests remaining), `server_error` a 502, `connection_reset` and `timeout` close
   * the connection unanswered, and `response_lost` does what was asked, then closes it.
   */
  faults: ((method: string, route: string) => string | undefined) | undefined;

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
    options: GitHubFakeOptions,
  ) {
    this.apps = (options.apps ?? []).map((app) => ({
      ...app,
      key: typeof app.publicKey === 'string' ? createPublicKey(app.publicKey) : app.publicKey,
    }));
    for (const [token, grant] of Object.entries(options.tokens ?? {})) {
      this.grants.set(token, {
        ...(grant.repositories ? { repositories: grant.repositories } : {}),
        permissions: { contents: 'write', pull_requests: 'write', metadata: 'read' },
        expiresAt: Number.POSITIVE_INFINITY,
      });
    }
  }

  static async start(options: GitHubFakeOptions = {}): Promise<GitHubFake> {
    const holder: { fake?: GitHubFake } = {};
    const server = createServer((request, response) => void holder.fake!.handle(request, response));
    await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    holder.fake = new GitHubFake(server, `http://127.0.0.1:${port}`, options);
    return holder.fake;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Keep-alive connections (a client that never read its last answer, such as a request the
    // fault injector cut short) would hold close() open for ever.
    this.server.closeAllConnections();
    await closed;
    await Promise.all([...this.repositories.values()].map((repository) => repository.git.remove()));
  }

  /** Every request answers `status` (503 by default) until `setDown(false)`. */
  setDown(down: boolean | number): void {
    this.downStatus = down === false ? undefined : down === true ? 503 : down;
  }

  /**
   * A repository whose default branch holds `files` in one commit; returns that commit.
   * The default branch is protected: no request may move it.
   */
  async addRepository(
    fullName: string,
    files: Readonly<Record<string, string>>,
    defaultBranch = 'main',
  ): Promise<string> {
    const [owner, name] = fullName.split('/');
    if (!owner || !name) throw new Error(`repository ${fullName} is not owner/name`);
    await this.repositories.get(fullName.toLowerCase())?.git.remove();
    const git = await BareRepository.create();
    this.repositories.set(fullName.toLowerCase(), {
      owner,
      name,
      git,
      defaultBranch,
      pulls: [],
      labels: new Set(),
    });
    return this.commit(fullName, files, 'Initial commit', defaultBranch);
  }

  /** A commit on `branch` changing `files` (a `null` content deletes the file); returns its SHA. */
  async commit(
    fullName: string,
    files: Readonly<Record<string, string | null>>,
    message: string,
    branch?: string,
  ): Promise<string> {
    const repository = this.requireRepository(fullName);
    const ref = `refs/heads/${branch ?? repository.defaultBranch}`;
    const parent = await repository.git.readRef(ref);
    const base = parent ? (await repository.git.readCommit(parent)).tree : undefined;
    const changes: TreeChange[] = [];
    for (const [path, content] of Object.entries(files)) {
      changes.push({
        path,
        mode: '100644',
        sha: content === null ? null : await repository.git.writeBlob(content),
      });
    }
    const tree = await repository.git.writeTree(base, changes);
    const sha = await repository.git.commitTree(tree, parent ? [parent] : [], message);
    await repository.git.updateRef(ref, sha);
    return sha;
  }

  /** The bare repository behind `owner/name` (to inspect with git). */
  repository(fullName: string): BareRepository {
    return this.requireRepository(fullName).git;
  }

  /** The pull requests of a repository, oldest first. */
  pulls(fullName: string): readonly FakePullRequest[] {
    return this.requireRepository(fullName).pulls;
  }

  /** A file's content at a ref or commit, or undefined when it does not exist there. */
  async fileAt(fullName: string, refOrSha: string, path: string): Promise<string | undefined> {
    const git = this.requireRepository(fullName).git;
    try {
      return (await git.git(['show', `${refOrSha}:${path}`])).toString('utf8');
    } catch {
      return undefined;
    }
  }

  private requireRepository(fullName: string): FakeRepository {
    const repository = this.repositories.get(fullName.toLowerCase());
    if (!repository) throw new Error(`no repository ${fullName} in the GitHub fake`);
    return repository;
  }

  // ---- HTTP -----------------------------------------------------------------------------

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.endpoint);
    const method = request.method ?? 'GET';
    const fault = this.faults?.(method, url.pathname.replace(/\/(?:\d+|[0-9a-f]{40})(?=\/|$)/g, '/:id'));
    if (fault === 'connection_reset' || fault === 'timeout') {
      this.calls.push({ method, path: url.pathname, status: 0 });
      request.socket.destroy();
      return;
    }
    let status: number;
    let payload: unknown;
    try {
      if (fault === 'throttling') throw new HttpError(403, 'API rate limit exceeded (injected fault)');
      if (fault === 'server_error') throw new HttpError(502, 'Server Error (injected fault)');
      if (this.downStatus !== undefined) {
        throw new HttpError(this.downStatus, 'Service Unavailable: the GitHub fake is down');
      }
      const raw = await readBody(request);
      let body: Body = {};
      if (raw !== '') {
        try {
          body = JSON.parse(raw) as Body;
        } catch {
          throw new HttpError(400, 'Problems parsing JSON');
        }
      }
      ({ status, payload } = await this.route(method, url, body, request.headers.authorization));
    } catch (error) {
      if (error instanceof HttpError) {
        status = error.status;
        payload = {
          message: error.message,
          documentation_url: 'https://docs.github.com/rest',
          ...(error.errors ? { errors: error.errors } : {}),
          status: String(error.status),
        };
      } else {
        status = 500;
        payload = { message: `GitHub fake: ${(error as Error).message}` };
      }
    }
    this.calls.push({ method, path: url.pathname, status });
    if (fault === 'response_lost') {
      request.socket.destroy();
      return;
    }
    const text = payload === undefined ? '' : JSON.stringify(payload);
    response.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-github-request-id': randomBytes(8).toString('hex').toUpperCase(),
      'x-ratelimit-remaining': fault === 'throttling' ? '0' : '4999',
    });
    response.end(text);
  }

  private async route(
    method: string,
    url: URL,
    body: Body,
    authorization: string | undefined,
  ): Promise<{ status: number; payload: unknown }> {
    const path = url.pathname.replace(/\/+$/, '');
    const exchange = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path);
    if (exchange && method === 'POST') {
      return { status: 201, payload: await this.exchange(Number(exchange[1]), authorization) };
    }
    const grant = this.authenticate(authorization);
    const repo = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    if (!repo) throw notFound();
    const fullName = `${repo[1]}/${repo[2]}`;
    const repository = this.repositories.get(fullName.toLowerCase());
    if (
      !repository ||
      (grant.repositories && !grant.repositories.some((r) => r.toLowerCase() === fullName.toLowerCase()))
    ) {
      throw notFound();
    }
    const rest = repo[3] ?? '';
    const write = method !== 'GET';
    const need = (permission: string) => {
      const level = grant.permissions[permission];
      if (!level || (write && level !== 'write')) {
        throw new HttpError(403, 'Resource not accessible by integration');
      }
    };
    if (rest === '' && method === 'GET') return { status: 200, payload: this.repositoryJson(repository) };
    if (rest.startsWith('/git/') || rest.startsWith('/contents/')) need('contents');
    if (rest.startsWith('/pulls') || rest.startsWith('/issues/')) need('pull_requests');
    return this.repositoryRoute(repository, method, rest, url.searchParams, body);
  }

  private async exchange(installationId: number, authorization: string | undefined): Promise<Body> {
    const jwt = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
    if (!jwt) throw new HttpError(401, 'A JSON web token could not be decoded');
    const app = this.apps.find((candidate) => candidate.installationId === installationId);
    if (!app) throw notFound();
    try {
      const { payload } = await jwtVerify(jwt, app.key, { algorithms: ['RS256'] });
      if (String(payload.iss) !== String(app.appId)) throw new Error('iss is not the app id');
      if (payload.exp === undefined || payload.iat === undefined || payload.exp - payload.iat > 600) {
        throw new Error('the JWT must expire within 10 minutes of iat');
      }
    } catch (error) {
      throw new HttpError(401, `A JSON web token could not be decoded (${(error as Error).message})`);
    }
    const token = `ghs_${randomBytes(18).toString('base64url')}`;
    const expiresAt = Date.now() + 3600_000;
    const permissions = app.permissions ?? { contents: 'write', pull_requests: 'write', metadata: 'read' };
    this.grants.set(token, {
      installationId,
      ...(app.repositories ? { repositories: app.repositories } : {}),
      permissions,
      expiresAt,
    });
    return {
      token,
      expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      permissions,
      repository_selection: app.repositories ? 'selected' : 'all',
    };
  }

  private authenticate(authorization: string | undefined): Grant {
    const token = /^(?:token|Bearer) (.+)$/i.exec(authorization ?? '')?.[1];
    const grant = token ? this.grants.get(token) : undefined;
    if (!grant || grant.expiresAt <= Date.now()) throw new HttpError(401, 'Bad credentials');
    return grant;
  }

  private repositoryJson(repository: FakeRepository): Body {
    const fullName = `${repository.owner}/${repository.name}`;
    return {
      name: repository.name,
      full_name: fullName,
      owner: { login: repository.owner },
      private: true,
      default_branch: repository.defaultBranch,
      html_url: `${this.endpoint}/${fullName}`,
      url: `${this.endpoint}/repos/${fullName}`,
    };
  }

  private async repositoryRoute(
    repository: FakeRepository,
    method: string,
    rest: string,
    query: URLSearchParams,
    body: Body,
  ): Promise<{ status: number; payload: unknown }> {
    const git = repository.git;
    const ok = (payload: unknown) => ({ status: 200, payload });
    const created = (payload: unknown) => ({ status: 201, payload });
    let match: RegExpExecArray | null;

    // refs
    if ((match = /^\/git\/ref\/(.+)$/.exec(rest)) && method === 'GET') {
      const ref = `refs/${decodeURIComponent(match[1]!)}`;
      const sha = await git.readRef(ref);
      if (!sha) throw notFound();
      return ok(this.refJson(repository, ref, sha));
    }
    if (rest === '/git/refs' && method === 'POST') {
      const ref = field<string>(body, 'ref', 'string');
      const sha = field<string>(body, 'sha', 'string');
      if (!/^refs\/[^/]+\/.+/.test(ref)) {
        throw new HttpError(422, 'Reference name must start with refs/ and have at least two slashes');
      }
      if ((await git.typeOf(sha)) !== 'commit') throw new HttpError(422, 'Object does not exist');
      try {
        await git.updateRef(ref, sha, '');
      } catch {
        throw new HttpError(422, 'Reference already exists');
      }
      return created(this.refJson(repository, ref, sha));
    }
    if ((match = /^\/git\/refs\/(.+)$/.exec(rest)) && method === 'PATCH') {
      const ref = `refs/${decodeURIComponent(match[1]!)}`;
      const sha = field<string>(body, 'sha', 'string');
      const force = field<boolean>(body, 'force', 'boolean', false) === true;
      const current = await git.readRef(ref);
      if (!current) throw new HttpError(422, 'Reference does not exist');
      if (ref === `refs/heads/${repository.defaultBranch}`) {
        throw new HttpError(422, `Protected branch update failed for ${ref}.`);
      }
      if ((await git.typeOf(sha)) !== 'commit') throw new HttpError(422, 'Object does not exist');
      if (!force) {
        const ancestor = await git
          .git(['merge-base', '--is-ancestor', current, sha])
          .then(() => true)
          .catch(() => false);
        if (!ancestor) throw new HttpError(422, 'Update is not a fast forward');
      }
      await git.updateRef(ref, sha, current);
      return ok(this.refJson(repository, ref, sha));
    }

    // commits
    if ((match = /^\/git\/commits\/([0-9a-f]{4,40})$/.exec(rest)) && method === 'GET') {
      if ((await git.typeOf(match[1]!)) !== 'commit') throw notFound();
      return ok(this.commitJson(repository, await git.readCommit(match[1]!)));
    }
    if (rest === '/git/commits' && method === 'POST') {
      const message = field<string>(body, 'message', 'string');
      const tree = field<string>(body, 'tree', 'string');
      const parents = (field<unknown[]>(body, 'parents', 'object', false) ?? []) as unknown[];
      if ((await git.typeOf(tree)) !== 'tree') throw new HttpError(422, 'Tree SHA does not exist');
      for (const parent of parents) {
        if (typeof parent !== 'string' || (await git.typeOf(parent)) !== 'commit') {
          throw new HttpError(422, 'Parent SHA does not exist or is not a commit object');
        }
      }
      const author = field<{ name?: string; email?: string; date?: string }>(body, 'author', 'object', false);
      const sha = await git.commitTree(
        tree,
        parents as string[],
        message,
        author?.name && author.email
          ? { name: author.name, email: author.email, ...(author.date ? { date: author.date } : {}) }
          : undefined,
      );
      return created(this.commitJson(repository, await git.readCommit(sha)));
    }

    // trees
    if ((match = /^\/git\/trees\/(.+)$/.exec(rest)) && method === 'GET') {
      const ref = decodeURIComponent(match[1]!);
      const type = await git.typeOf(ref);
      if (type !== 'tree' && type !== 'commit') throw notFound();
      const sha = (await git.git(['rev-parse', `${ref}^{tree}`])).toString().trim();
      const recursive = query.has('recursive') && !['0', 'false'].includes(query.get('recursive')!);
      const entries = await git.readTree(sha, recursive);
      return ok({
        sha,
        url: `${this.endpoint}/repos/${repository.owner}/${repository.name}/git/trees/${sha}`,
        tree: entries.map((entry) => ({
          path: entry.path,
          mode: entry.mode,
          type: entry.type,
          sha: entry.sha,
          ...(entry.size !== undefined ? { size: entry.size } : {}),
        })),
        truncated: false,
      });
    }
    if (rest === '/git/trees' && method === 'POST') {
      const base = field<string>(body, 'base_tree', 'string', false);
      if (base !== undefined && (await git.typeOf(base)) !== 'tree')
        throw new HttpError(422, 'base_tree is not a valid tree oid');
      const entries = field<Body[]>(body, 'tree', 'object');
      if (!Array.isArray(entries)) throw new HttpError(422, 'Invalid tree info');
      const changes: TreeChange[] = [];
      for (const entry of entries) {
        const path = entry.path;
        const mode = entry.mode;
        if (
          typeof path !== 'string' ||
          path === '' ||
          path.startsWith('/') ||
          path.split('/').includes('..')
        ) {
          throw new HttpError(422, `tree.path ${JSON.stringify(path)} is invalid`);
        }
        if (!['100644', '100755', '120000'].includes(String(mode))) {
          throw new HttpError(422, `tree.mode ${JSON.stringify(mode)} is not supported by the fake`);
        }
        if (typeof entry.content === 'string') {
          changes.push({ path, mode: String(mode), sha: await git.writeBlob(entry.content) });
        } else if (entry.sha === null) {
          if (base === undefined) throw new HttpError(422, 'a null sha deletes a path of base_tree');
          changes.push({ path, mode: String(mode), sha: null });
        } else if (typeof entry.sha === 'string' && (await git.typeOf(entry.sha)) === 'blob') {
          changes.push({ path, mode: String(mode), sha: entry.sha });
        } else {
          throw new HttpError(422, `tree.sha ${JSON.stringify(entry.sha)} is not a blob`);
        }
      }
      const sha = await git.writeTree(base, changes);
      return created({
        sha,
        url: `${this.endpoint}/repos/${repository.owner}/${repository.name}/git/trees/${sha}`,
      });
    }

    // blobs
    if ((match = /^\/git\/blobs\/([0-9a-f]{4,40})$/.exec(rest)) && method === 'GET') {
      if ((await git.typeOf(match[1]!)) !== 'blob') throw notFound();
      const content = await git.readBlob(match[1]!);
      return ok({
        sha: match[1],
        size: content.length,
        encoding: 'base64',
        content: content.toString('base64'),
      });
    }
    if (rest === '/git/blobs' && method === 'POST') {
      const content = field<string>(body, 'content', 'string');
      const encoding = field<string>(body, 'encoding', 'string', false) ?? 'utf-8';
      if (encoding !== 'utf-8' && encoding !== 'base64')
        throw new HttpError(422, `encoding ${encoding} is not supported`);
      const sha = await git.writeBlob(Buffer.from(content, encoding === 'base64' ? 'base64' : 'utf8'));
      return created({
        sha,
        url: `${this.endpoint}/repos/${repository.owner}/${repository.name}/git/blobs/${sha}`,
      });
    }

    // contents
    if ((match = /^\/contents\/(.+)$/.exec(rest)) && method === 'GET') {
      const path = decodeURIComponent(match[1]!);
      const ref = query.get('ref') ?? repository.defaultBranch;
      let blob: string;
      try {
        blob = (await git.git(['rev-parse', `${ref}:${path}`])).toString().trim();
      } catch {
        throw notFound();
      }
      if ((await git.typeOf(blob)) !== 'blob') throw new HttpError(404, 'the fake serves files only');
      const content = await git.readBlob(blob);
      return ok({
        type: 'file',
        encoding: 'base64',
        size: content.length,
        name: path.split('/').pop(),
        path,
        sha: blob,
        content: content.toString('base64'),
      });
    }

    // pulls
    if (rest === '/pulls' && method === 'GET') {
      const head = query.get('head');
      const base = query.get('base');
      const state = query.get('state') ?? 'open';
      const pulls = repository.pulls.filter(
        (pull) =>
          (state === 'all' || pull.state === state) &&
          (!head || `${repository.owner}:${pull.head}`.toLowerCase() === head.toLowerCase()) &&
          (!base || pull.base === base),
      );
      return ok(pulls.map((pull) => this.pullJson(repository, pull)));
    }
    if ((match = /^\/pulls\/(\d+)$/.exec(rest)) && method === 'GET') {
      const pull = repository.pulls.find((candidate) => candidate.number === Number(match![1]));
      if (!pull) throw notFound();
      return ok(this.pullJson(repository, pull));
    }
    if (rest === '/pulls' && method === 'POST') {
      const title = field<string>(body, 'title', 'string');
      const head = field<string>(body, 'head', 'string').replace(
        new RegExp(`^${repository.owner}:`, 'i'),
        '',
      );
      const base = field<string>(body, 'base', 'string');
      const text = field<string>(body, 'body', 'string', false) ?? '';
      const headSha = await git.readRef(`refs/heads/${head}`);
      const baseSha = await git.readRef(`refs/heads/${base}`);
      const invalid = (fieldName: string, code: string, message?: string) =>
        new HttpError(422, 'Validation Failed', [
          { resource: 'PullRequest', field: fieldName, code, ...(message ? { message } : {}) },
        ]);
      if (!headSha) throw invalid('head', 'invalid');
      if (!baseSha) throw invalid('base', 'invalid');
      if (
        repository.pulls.some((pull) => pull.state === 'open' && pull.head === head && pull.base === base)
      ) {
        throw invalid('head', 'custom', `A pull request already exists for ${repository.owner}:${head}.`);
      }
      const ahead = (await git.git(['rev-list', '--count', `${baseSha}..${headSha}`])).toString().trim();
      if (ahead === '0') throw invalid('head', 'custom', `No commits between ${base} and ${head}`);
      const number = this.nextPull++;
      const pull: FakePullRequest = {
        number,
        repository: `${repository.owner}/${repository.name}`,
        title,
        body: text,
        head,
        base,
        headSha,
        labels: [],
        htmlUrl: `${this.endpoint}/${repository.owner}/${repository.name}/pull/${number}`,
        state: 'open',
        createdAt: new Date().toISOString(),
      };
      repository.pulls.push(pull);
      return created(this.pullJson(repository, pull));
    }

    // labels
    if ((match = /^\/issues\/(\d+)\/labels$/.exec(rest)) && method === 'POST') {
      const pull = repository.pulls.find((candidate) => candidate.number === Number(match![1]));
      if (!pull) throw notFound();
      const labels = body.labels;
      if (!Array.isArray(labels) || labels.some((label) => typeof label !== 'string' || label === '')) {
        throw new HttpError(422, 'Invalid request.\n\n"labels" must be an array of names.');
      }
      for (const label of labels as string[]) {
        repository.labels.add(label);
        if (!pull.labels.includes(label)) pull.labels.push(label);
      }
      return ok(pull.labels.map((name) => ({ name, color: 'ededed', default: false })));
    }
    throw notFound();
  }

  private refJson(repository: FakeRepository, ref: string, sha: string): Body {
    return {
      ref,
      url: `${this.endpoint}/repos/${repository.owner}/${repository.name}/git/${ref}`,
      object: {
        type: 'commit',
        sha,
        url: `${this.endpoint}/repos/${repository.owner}/${repository.name}/git/commits/${sha}`,
      },
    };
  }

  private commitJson(
    repository: FakeRepository,
    commit: Awaited<ReturnType<BareRepository['readCommit']>>,
  ): Body {
    const base = `${this.endpoint}/repos/${repository.owner}/${repository.name}`;
    return {
      sha: commit.sha,
      url: `${base}/git/commits/${commit.sha}`,
      message: commit.message.replace(/\n$/, ''),
      author: commit.author,
      committer: commit.author,
      tree: { sha: commit.tree, url: `${base}/git/trees/${commit.tree}` },
      parents: commit.parents.map((sha) => ({ sha, url: `${base}/git/commits/${sha}` })),
    };
  }

  private pullJson(repository: FakeRepository, pull: FakePullRequest): Body {
    const fullName = `${repository.owner}/${repository.name}`;
    return {
      number: pull.number,
      state: pull.state,
      title: pull.title,
      body: pull.body,
      html_url: pull.htmlUrl,
      url: `${this.endpoint}/repos/${fullName}/pulls/${pull.number}`,
      head: { ref: pull.head, sha: pull.headSha, label: `${repository.owner}:${pull.head}` },
      base: { ref: pull.base, label: `${repository.owner}:${pull.base}` },
      labels: pull.labels.map((name) => ({ name })),
      merged: false,
      draft: false,
      created_at: pull.createdAt,
    };
  }
}
