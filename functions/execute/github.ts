/**
 * Pull requests on GitHub: a proposed patch, or the revert of the commit a failed execution
 * ran, becomes a branch `suture/<incident>` cut from the failed commit, one commit, and a pull
 * request into the pipeline's branch. Suture never merges and never moves any other branch.
 *
 * Credentials come from a Secrets Manager secret (docs/module.md): a GitHub App
 * (`{"app_id", "installation_id", "private_key"}`, preferred) or a fine-grained token
 * (`{"token"}`). The value is only ever handed to Octokit; no message built here contains it.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/rest';
import { applyPatch, parsePatch, type StructuredPatch } from 'diff';
import { awsClient } from '../commons/aws/clients';
import { isTransientAwsError, TransientAwsError } from '../commons/errors';
import { logger } from '../commons/observability';
import { redactText } from '../commons/redact';
import type { Evidence, SourceEvidence } from '../commons/workflow/schema';
import { ActionFailedError } from './errors';

/** Where pull requests go, from the execute function's environment. */
export interface GitHubSettings {
  /** The secret holding the credentials; without it every change falls back to S3. */
  readonly secretArn?: string;
  /** REST API root: `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server. */
  readonly apiUrl: string;
}

/** What the executor knows about the decision behind a change (for the pull request's body). */
export interface ChangeContext {
  readonly incident?: {
    readonly pipeline?: string;
    readonly stage?: string;
    readonly action?: string;
    readonly execution_id?: string;
  };
  readonly evidence?: Evidence;
  readonly decision?: {
    readonly allow: boolean;
    readonly require_approval: boolean;
    readonly bundle_revision: string;
    readonly reasons: ReadonlyArray<{ readonly code: string; readonly msg: string }>;
  };
  readonly approver?: string;
}

/** A pull request that now exists. */
export interface PullRequestResult {
  readonly repository: string;
  readonly number: number;
  readonly url: string;
  readonly branch: string;
  readonly base: string;
  readonly head_sha: string;
  /** True when a redelivered request found the pull request an earlier attempt opened. */
  readonly reused: boolean;
}

/** The change cannot go to GitHub, and why (the caller falls back or fails). */
export class GitHubUnavailable extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'GitHubUnavailable';
  }
}

type Credentials =
  | {
      readonly kind: 'app';
      readonly appId: string;
      readonly installationId: number;
      readonly privateKey: string;
    }
  | { readonly kind: 'token'; readonly token: string };

const LABEL = 'suture';

/** Parses the secret's value; errors name the missing fields, never a value. */
export function parseCredentials(value: string): Credentials {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new GitHubUnavailable('the GitHub secret is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new GitHubUnavailable('the GitHub secret is not a JSON object');
  }
  const record = parsed as Record<string, unknown>;
  if (typeof record.token === 'string' && record.token !== '') return { kind: 'token', token: record.token };
  const appId = record.app_id;
  const installationId = record.installation_id;
  const privateKey = record.private_key;
  const missing = [
    ...(typeof appId === 'string' || typeof appId === 'number' ? [] : ['app_id']),
    ...(Number.isInteger(Number(installationId)) && Number(installationId) > 0 ? [] : ['installation_id']),
    ...(typeof privateKey === 'string' && privateKey.includes('PRIVATE KEY') ? [] : ['private_key (PEM)']),
  ];
  if (missing.length > 0) {
    throw new GitHubUnavailable(
      `the GitHub secret has neither "token" nor a valid ${missing.join(', ')} of a GitHub App`,
    );
  }
  return {
    kind: 'app',
    appId: String(appId),
    installationId: Number(installationId),
    privateKey: privateKey as string,
  };
}

async function readCredentials(secretArn: string): Promise<Credentials> {
  let value: string | undefined;
  try {
    const output = await awsClient(SecretsManagerClient).send(
      new GetSecretValueCommand({ SecretId: secretArn }),
    );
    value = output.SecretString;
  } catch (error) {
    if (isTransientAwsError(error)) {
      throw new TransientAwsError(`GetSecretValue: ${(error as Error).name}`, { cause: error });
    }
    const name = (error as Error).name;
    if (name === 'ResourceNotFoundException') {
      throw new GitHubUnavailable('the GitHub secret has no value yet (see docs/module.md)');
    }
    throw new GitHubUnavailable(`the GitHub secret cannot be read: ${name}`);
  }
  if (!value) throw new GitHubUnavailable('the GitHub secret has no string value');
  return parseCredentials(value);
}

function client(settings: GitHubSettings, credentials: Credentials): Octokit {
  const log = {
    debug: () => undefined,
    info: () => undefined,
    warn: (message: string) => logger.warn('github', { message: redactText(String(message)).text }),
    error: () => undefined,
  };
  if (credentials.kind === 'token') {
    return new Octokit({ baseUrl: settings.apiUrl, auth: credentials.token, log, userAgent: 'suture' });
  }
  return new Octokit({
    baseUrl: settings.apiUrl,
    authStrategy: createAppAuth,
    auth: {
      appId: credentials.appId,
      installationId: credentials.installationId,
      privateKey: credentials.privateKey,
    },
    log,
    userAgent: 'suture',
  });
}

/** A failed GitHub call, described by status and GitHub's message only (no header, no URL query). */
function describe(error: unknown, what: string): string {
  const status = (error as { status?: number }).status;
  const message = (error as Error).message ?? String(error);
  return redactText(`${what}: ${status ? `HTTP ${status}: ` : ''}${message}`).text.slice(0, 300);
}

/** True when GitHub itself failed (5xx, network, rate limit): the change is not wrong, GitHub is away. */
function isOutage(error: unknown): boolean {
  const status = (error as { status?: number }).status;
  return status === undefined || status >= 500 || status === 429;
}

/** A path of a unified diff, without its `a/` / `b/` prefix; `null` for /dev/null. */
function diffPath(name: string | undefined): string | null {
  if (name === undefined || name === '/dev/null') return null;
  const path = name.replace(/^[ab]\//, '').split('\t')[0]!;
  if (
    path === '' ||
    path.startsWith('/') ||
    path.split('/').some((part) => part === '..' || part === '.git')
  ) {
    throw new ActionFailedError(`the patch names an unsafe path: ${JSON.stringify(path).slice(0, 200)}`);
  }
  return path;
}

/** Where the change goes, from the evidence, or why it cannot go to GitHub. */
function target(source: SourceEvidence | null | undefined): {
  owner: string;
  repo: string;
  base: string;
  revision: string;
} {
  if (!source) throw new GitHubUnavailable('the evidence names no source action for this pipeline');
  if (source.provider !== 'github' && source.provider !== 'connection') {
    throw new GitHubUnavailable(
      `the pipeline's source is ${source.provider}; pull requests are opened on GitHub only`,
    );
  }
  const [owner, repo, extra] = (source.repository ?? '').split('/');
  if (!owner || !repo || extra !== undefined) {
    throw new GitHubUnavailable('the source action names no GitHub repository (FullRepositoryId owner/name)');
  }
  if (!source.branch) throw new GitHubUnavailable('the source action names no branch');
  if (!source.revision) throw new GitHubUnavailable('the failed execution has no source revision');
  return { owner, repo, base: source.branch, revision: source.revision };
}

/** The body of a pull request: incident, evidence summary, the policy's decision. */
function pullRequestBody(
  incidentId: string,
  summary: string | undefined,
  context: ChangeContext,
  extra: string[],
) {
  const incident = context.incident ?? {};
  const evidence = context.evidence;
  const decision = context.decision;
  const lines = [
    `Suture opened this pull request for incident \`${incidentId}\`. It will not be merged by Suture.`,
    '',
    ...(summary ? [redactText(summary).text, ''] : []),
    '### Incident',
    `- Pipeline \`${incident.pipeline ?? '?'}\`, stage \`${incident.stage ?? '?'}\`, action \`${incident.action ?? '?'}\``,
    `- Execution \`${incident.execution_id ?? '?'}\``,
    ...extra,
    '',
    '### Evidence',
    ...(evidence
      ? [
          `- Execution status: ${evidence.pipeline_execution.status}`,
          ...evidence.failed_actions
            .slice(0, 5)
            .map(
              (failed) =>
                `- Failed \`${failed.stage}/${failed.action}\`${failed.error_code ? ` (${failed.error_code})` : ''}${failed.summary ? `: ${failed.summary.slice(0, 200)}` : ''}`,
            ),
          `- Full evidence: \`s3://${evidence.object.bucket}/${evidence.object.key}\` (SHA-256 ${evidence.object.sha256})`,
        ]
      : ['- (no evidence in the workflow state)']),
    '',
    '### Policy decision',
    ...(decision
      ? [
          `- ${decision.allow ? 'Allowed' : decision.require_approval ? 'Allowed after approval' : 'Denied'}${context.approver ? ` (approved by ${context.approver})` : ''}`,
          `- Policy bundle revision \`${decision.bundle_revision}\``,
          ...decision.reasons.map((reason) => `- \`${reason.code}\`: ${reason.msg}`),
        ]
      : ['- (no decision in the workflow state)']),
  ];
  return redactText(lines.join('\n')).text.slice(0, 60_000);
}

/** A change to propose: the files of a new tree on top of the failed commit. */
type Change = { readonly branch?: string } & (
  | { readonly kind: 'patch'; readonly title: string; readonly summary?: string; readonly patch: string }
  | { readonly kind: 'revert'; readonly commit: string; readonly expectedParent: string }
);

/**
 * Opens (or, redelivered, finds) the pull request for `change`. Throws GitHubUnavailable when
 * the change cannot go to GitHub (no credentials, not a GitHub source, GitHub refused or is
 * down) and ActionFailedError when the change itself is wrong (a patch that does not apply,
 * a revert whose parent is not the last successful commit).
 */
export async function openPullRequest(
  settings: GitHubSettings,
  incidentId: string,
  change: Change,
  context: ChangeContext,
): Promise<PullRequestResult> {
  const { owner, repo, base, revision } = target(context.evidence?.source);
  if (!settings.secretArn) {
    throw new GitHubUnavailable(
      'no GitHub credentials are configured (the module variable github_secret_arn)',
    );
  }
  const octokit = client(settings, await readCredentials(settings.secretArn));
  const repository = `${owner}/${repo}`;
  const branch = change.branch ?? `suture/${incidentId}`;
  if (!branch.startsWith('suture/')) throw new ActionFailedError(`branch ${branch} is not under suture/`);
  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof ActionFailedError || error instanceof GitHubUnavailable) throw error;
      throw new GitHubUnavailable(
        isOutage(error) ? `GitHub is unavailable (${describe(error, what)})` : describe(error, what),
      );
    }
  };

  const existing = await call('list pull requests', () =>
    octokit.rest.pulls.list({ owner, repo, head: `${owner}:${branch}`, state: 'all', per_page: 10 }),
  );
  const found = existing.data[0];
  if (found) {
    return {
      repository,
      number: found.number,
      url: found.html_url,
      branch,
      base: found.base.ref,
      head_sha: found.head.sha,
      reused: true,
    };
  }

  const failed = (
    await call(`get commit ${revision}`, () =>
      octokit.rest.git.getCommit({ owner, repo, commit_sha: revision }),
    )
  ).data;
  let tree: string;
  let message: string;
  let title: string;
  let summary: string | undefined;
  const extra: string[] = [`- Failed commit \`${revision}\``];
  if (change.kind === 'revert') {
    if (change.commit !== revision) {
      throw new ActionFailedError(
        `revert_commit names ${change.commit}, but the failed execution ran ${revision}`,
      );
    }
    const parent = failed.parents.length === 1 ? failed.parents[0]!.sha : undefined;
    if (parent !== change.expectedParent) {
      throw new ActionFailedError(
        `commit ${revision} has parent(s) ${failed.parents.map((p) => p.sha).join(', ') || 'none'}, not the last successful commit ${change.expectedParent}: a revert would not restore a known-good state`,
      );
    }
    tree = (
      await call(`get commit ${parent}`, () =>
        octokit.rest.git.getCommit({ owner, repo, commit_sha: parent }),
      )
    ).data.tree.sha;
    const subject = failed.message.split('\n')[0] ?? revision;
    title = `Revert "${subject}"`.slice(0, 200);
    message = `${title}\n\nThis reverts commit ${revision}.\n\nSuture incident ${incidentId}.`;
    extra.push(`- Restores the tree of \`${parent}\`, the commit of the last successful execution`);
  } else {
    title = redactText(change.title).text.slice(0, 200);
    summary = change.summary;
    const files = await applyToCommit(octokit, owner, repo, revision, change.patch, call);
    tree = (
      await call('create tree', () =>
        octokit.rest.git.createTree({ owner, repo, base_tree: failed.tree.sha, tree: files }),
      )
    ).data.sha;
    message = `${title}\n\nProposed by Suture for incident ${incidentId}.`;
  }
  const commit = (
    await call('create commit', () =>
      octokit.rest.git.createCommit({ owner, repo, message, tree, parents: [revision] }),
    )
  ).data.sha;
  await call(`create branch ${branch}`, async () => {
    try {
      await octokit.rest.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha: commit });
    } catch (error) {
      if ((error as { status?: number }).status !== 422) throw error;
      // A branch left by an attempt that died before its pull request: Suture's own branch, reset.
      await octokit.rest.git.updateRef({ owner, repo, ref: `heads/${branch}`, sha: commit, force: true });
    }
  });
  const body = pullRequestBody(incidentId, summary, context, extra);
  const pull = await call('create pull request', () =>
    octokit.rest.pulls.create({ owner, repo, head: branch, base, title, body, maintainer_can_modify: false }),
  );
  await call('label pull request', () =>
    octokit.rest.issues.addLabels({
      owner,
      repo,
      issue_number: pull.data.number,
      labels: [LABEL, `${LABEL}:${change.kind}`],
    }),
  );
  return {
    repository,
    number: pull.data.number,
    url: pull.data.html_url,
    branch,
    base,
    head_sha: commit,
    reused: false,
  };
}

/** The tree entries a unified diff makes at `revision`; a hunk that does not apply rejects it all. */
async function applyToCommit(
  octokit: Octokit,
  owner: string,
  repo: string,
  revision: string,
  patch: string,
  call: <T>(what: string, run: () => Promise<T>) => Promise<T>,
): Promise<Array<{ path: string; mode: '100644'; type: 'blob'; content?: string; sha?: null }>> {
  let parsed: StructuredPatch[];
  try {
    parsed = parsePatch(patch);
  } catch (error) {
    throw new ActionFailedError(`the patch is not a unified diff: ${(error as Error).message.slice(0, 200)}`);
  }
  const files = parsed.filter((file) => file.hunks.length > 0);
  if (files.length === 0) throw new ActionFailedError('the patch changes no file (no hunk found)');
  const entries: Array<{ path: string; mode: '100644'; type: 'blob'; content?: string; sha?: null }> = [];
  for (const file of files) {
    const oldPath = diffPath(file.oldFileName);
    const newPath = diffPath(file.newFileName);
    let original = '';
    if (oldPath !== null) {
      const content = await call(`read ${oldPath} at ${revision}`, async () => {
        try {
          return (await octokit.rest.repos.getContent({ owner, repo, path: oldPath, ref: revision })).data;
        } catch (error) {
          if ((error as { status?: number }).status === 404) {
            throw new ActionFailedError(`the patch changes ${oldPath}, which does not exist at ${revision}`);
          }
          throw error;
        }
      });
      if (Array.isArray(content) || content.type !== 'file' || !('content' in content)) {
        throw new ActionFailedError(`the patch changes ${oldPath}, which is not a file at ${revision}`);
      }
      original = Buffer.from(content.content, 'base64').toString('utf8');
    }
    const result = applyPatch(original, file);
    if (result === false) {
      throw new ActionFailedError(
        `the patch does not apply cleanly to ${oldPath ?? newPath} at ${revision}; nothing was pushed`,
      );
    }
    if (newPath === null) {
      entries.push({ path: oldPath!, mode: '100644', type: 'blob', sha: null });
    } else {
      entries.push({ path: newPath, mode: '100644', type: 'blob', content: result });
      if (oldPath !== null && oldPath !== newPath) {
        entries.push({ path: oldPath, mode: '100644', type: 'blob', sha: null });
      }
    }
  }
  return entries;
}
