import {
  GetPipelineCommand,
  ListPipelineExecutionsCommand,
  type ActionDeclaration,
  type PipelineExecution,
  CodePipelineClient,
} from '@aws-sdk/client-codepipeline';
import { awsClient } from '../commons/aws/clients';
import type { SourceEvidence } from '../commons/workflow/schema';
import type { WorkflowIncident } from '../commons/workflow/schema';

/** Executions listed when looking for the last successful one (one page). */
const SUCCESS_SEARCH = 25;

/** A source action's provider, as far as the pipeline tells it. */
function providerOf(action: ActionDeclaration, revisionUrl: string | undefined): SourceEvidence['provider'] {
  const provider = action.actionTypeId?.provider ?? '';
  if (provider === 'GitHub') return 'github';
  if (provider === 'CodeCommit') return 'codecommit';
  if (provider === 'S3') return 's3';
  if (provider !== 'CodeStarSourceConnection') return 'other';
  // A connection does not name its host in the pipeline; the revision link does.
  const host = (revisionUrl && URL.canParse(revisionUrl) ? new URL(revisionUrl).hostname : '').toLowerCase();
  if (host === 'github.com' || host.endsWith('.github.com')) return 'github';
  if (host === 'gitlab.com' || host.startsWith('gitlab.')) return 'gitlab';
  if (host === 'bitbucket.org' || host.startsWith('bitbucket.')) return 'bitbucket';
  // GitHub is what most connections point at; a GitHub Enterprise host names itself in the URL.
  return host === '' || host.endsWith('.console.aws.amazon.com') ? 'connection' : 'other';
}

const text = (value: string | undefined, max: number) =>
  value === undefined || value === '' ? undefined : value.slice(0, max);

/**
 * Where the failed execution's code came from: the pipeline's source action (for a
 * CodeConnections source its connection, repository and branch), the commit the failed
 * execution ran, and the commit of the last execution that succeeded before it (a revert of
 * the failed commit is only offered when that one is its parent). `null` when the pipeline has
 * no source action.
 */
export async function sourceEvidence(
  incident: WorkflowIncident,
  execution: PipelineExecution,
): Promise<SourceEvidence | null> {
  const client = awsClient(CodePipelineClient);
  const output = await client.send(
    new GetPipelineCommand({
      name: incident.pipeline,
      ...(execution.pipelineVersion !== undefined ? { version: execution.pipelineVersion } : {}),
    }),
  );
  const actions = (output.pipeline?.stages ?? []).flatMap((stage) => stage.actions ?? []);
  const sources = actions.filter((action) => action.actionTypeId?.category === 'Source');
  const action =
    sources.find((candidate) => candidate.actionTypeId?.provider === 'CodeStarSourceConnection') ??
    sources[0];
  if (!action?.name) return null;
  const artifact = action.outputArtifacts?.[0]?.name;
  const revisions = execution.artifactRevisions ?? [];
  const revision =
    revisions.find((candidate) => artifact !== undefined && candidate.name === artifact) ??
    (revisions.length === 1 ? revisions[0] : undefined);
  const configuration = action.configuration ?? {};

  const listed = await client.send(
    new ListPipelineExecutionsCommand({ pipelineName: incident.pipeline, maxResults: SUCCESS_SEARCH }),
  );
  const lastSuccess = (listed.pipelineExecutionSummaries ?? []).find(
    (summary) =>
      summary.pipelineExecutionId !== incident.execution_id &&
      summary.status === 'Succeeded' &&
      summary.executionType !== 'ROLLBACK',
  );
  const lastRevision = lastSuccess?.sourceRevisions?.find(
    (candidate) => candidate.actionName === action.name,
  );

  const connection = text(configuration.ConnectionArn, 256);
  const repository = text(configuration.FullRepositoryId ?? configuration.RepositoryName, 256);
  const branch = text(configuration.BranchName, 256);
  const commit = text(revision?.revisionId, 64);
  const lastCommit = text(lastRevision?.revisionId, 64);
  return {
    action: action.name,
    provider: providerOf(action, revision?.revisionUrl),
    ...(connection ? { connection_arn: connection } : {}),
    ...(repository ? { repository } : {}),
    ...(branch ? { branch } : {}),
    ...(commit ? { revision: commit } : {}),
    ...(lastSuccess?.pipelineExecutionId && lastCommit
      ? { last_success: { execution_id: lastSuccess.pipelineExecutionId, revision: lastCommit } }
      : {}),
  };
}
