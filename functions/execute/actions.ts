import { createHash } from 'node:crypto';
import {
  ListPipelineExecutionsCommand,
  RetryStageExecutionCommand,
  RollbackStageCommand,
  StartPipelineExecutionCommand,
  StopPipelineExecutionCommand,
  CodePipelineClient,
} from '@aws-sdk/client-codepipeline';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { RedriveExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  GetParameterHistoryCommand,
  PutParameterCommand,
  type ParameterHistory,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { awsClient, awsMutationClient, s3ClientConfig } from '../commons/aws/clients';
import { rethrowAws } from '../commons/errors';
import { redactText } from '../commons/redact';
import type { ExecutionResult } from '../commons/workflow/schema';
import { ActionFailedError, ExecuteInputError } from './errors';
import { GitHubUnavailable, openPullRequest, type ChangeContext, type GitHubSettings } from './github';
import { ActionParameterSchemas, type ActionName, type MutationRequest } from './schema';

/** Where the executor may write patches and notices. */
export interface ActionSettings {
  readonly evidenceBucket?: string;
  readonly topicArn?: string;
  /** Where pull requests go (open_patch_proposal, revert_commit). */
  readonly github?: GitHubSettings;
}

/**
 * CodePipeline errors that mean the state the action wants is already reached or another
 * actor is already on it: the failure is being handled, so the executor reports
 * `already_handled` instead of failing (and never tries a second mutation).
 */
const ALREADY_HANDLED = new Set([
  'ConflictException',
  'PipelineExecutionOutdatedException',
  'StageNotRetryableException',
  'PipelineExecutionNotStoppableException',
  'DuplicatedStopRequestException',
]);

type Outcome = Omit<ExecutionResult, 'at' | 'action'>;

function parametersOf<A extends ActionName>(action: A, parameters: Record<string, unknown>) {
  const parsed = ActionParameterSchemas[action].safeParse(parameters);
  if (!parsed.success) {
    const detail = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new ExecuteInputError(`parameters of ${action} are invalid: ${detail.join('; ')}`);
  }
  return parsed.data as ReturnType<(typeof ActionParameterSchemas)[A]['parse']>;
}

/** A CodePipeline call whose "already done" errors become `already_handled`. */
async function pipelineCall(what: string, call: () => Promise<Outcome>): Promise<Outcome> {
  try {
    return await call();
  } catch (error) {
    const errorName = (error as Error).name;
    if (ALREADY_HANDLED.has(errorName)) {
      return { outcome: 'already_handled', detail: { reason: errorName, message: (error as Error).message } };
    }
    if (errorName === 'UnableToRollbackStageException' || errorName === 'PipelineNotFoundException') {
      throw new ActionFailedError(`${what}: ${errorName}: ${(error as Error).message}`, { cause: error });
    }
    return rethrowAws(error, what);
  }
}

/** CodePipeline `clientRequestToken`: the same incident and action never start two executions. */
function requestToken(request: MutationRequest): string {
  return createHash('sha256')
    .update(`${request.incident_id}\u0000${request.action}\u0000${JSON.stringify(request.parameters)}`)
    .digest('hex')
    .slice(0, 64);
}

/**
 * The rollback execution to `target` that started after the failed execution `failed` (newer
 * in ListPipelineExecutions, which lists newest first), if there is one: a rollback this
 * incident already started, whose answer was lost. Looks at the newest page only (50), and
 * not at all without the failed execution's id.
 */
async function rollbackSince(
  pipeline: string,
  target: string,
  failed: string | undefined,
): Promise<string | undefined> {
  // Without the failed execution there is no "after": an older rollback is another incident's.
  if (failed === undefined) return undefined;
  const page = await awsClient(CodePipelineClient).send(
    new ListPipelineExecutionsCommand({ pipelineName: pipeline, maxResults: 50 }),
  );
  for (const summary of page.pipelineExecutionSummaries ?? []) {
    if (summary.pipelineExecutionId === failed) return undefined;
    if (
      summary.executionType === 'ROLLBACK' &&
      summary.rollbackMetadata?.rollbackTargetPipelineExecutionId === target
    )
      return summary.pipelineExecutionId;
  }
  return undefined;
}

/** Every retained version of a parameter (at most 100), read once, page by page. */
async function parameterHistory(name: string): Promise<ParameterHistory[]> {
  const versions: ParameterHistory[] = [];
  let nextToken: string | undefined;
  do {
    const page = await awsClient(SSMClient).send(
      new GetParameterHistoryCommand({
        Name: name,
        WithDecryption: true,
        MaxResults: 50,
        NextToken: nextToken,
      }),
    );
    versions.push(...(page.Parameters ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return versions;
}

async function revertParameter(name: string, toVersion: number): Promise<Outcome> {
  let history: ParameterHistory[];
  try {
    history = await parameterHistory(name);
  } catch (error) {
    if ((error as Error).name === 'ParameterNotFound') {
      throw new ActionFailedError(`parameter ${name} does not exist`, { cause: error });
    }
    return rethrowAws(error, `GetParameterHistory ${name}`);
  }
  const target = history.find((p) => p.Version === toVersion);
  if (!target)
    throw new ActionFailedError(`parameter ${name} has no version ${toVersion} (100 versions are kept)`);
  const latest = history.reduce((a, b) => ((b.Version ?? 0) > (a.Version ?? 0) ? b : a));
  // Values are compared, never reported: a parameter may be a SecureString.
  if (latest.Value === target.Value && latest.Type === target.Type) {
    return {
      outcome: 'already_handled',
      detail: {
        parameter_name: name,
        current_version: latest.Version,
        reason: 'value already equals the target',
      },
    };
  }
  try {
    // One attempt: a PutParameter whose answer was lost made a version; the task's retry reads
    // the history again and finds the value restored instead of writing another version.
    const put = await awsMutationClient(SSMClient).send(
      new PutParameterCommand({
        Name: name,
        Value: target.Value,
        Type: target.Type,
        ...(target.Type === 'SecureString' && target.KeyId ? { KeyId: target.KeyId } : {}),
        Overwrite: true,
      }),
    );
    return {
      outcome: 'executed',
      detail: { parameter_name: name, restored_from_version: toVersion, new_version: put.Version },
    };
  } catch (error) {
    return rethrowAws(error, `PutParameter ${name}`);
  }
}

async function publish(
  settings: ActionSettings,
  subject: string,
  message: string,
): Promise<string | undefined> {
  if (!settings.topicArn) return undefined;
  const published = await awsClient(SNSClient).send(
    new PublishCommand({ TopicArn: settings.topicArn, Subject: subject.slice(0, 99), Message: message }),
  );
  return published.MessageId;
}

/**
 * A patch becomes a pull request on GitHub when the source is a GitHub repository and
 * credentials are configured; otherwise (or when GitHub refuses or is down) it is stored in S3
 * as before and the notice says why. A patch that does not apply cleanly is rejected.
 */
async function openPatchProposal(
  request: MutationRequest,
  parameters: { title: string; summary?: string | undefined; patch: string; branch?: string | undefined },
  settings: ActionSettings,
  context: ChangeContext,
): Promise<Outcome> {
  let fallback: string;
  try {
    const pull = await openPullRequest(
      settings.github ?? { apiUrl: 'https://api.github.com' },
      request.incident_id,
      {
        kind: 'patch',
        title: parameters.title,
        ...(parameters.summary ? { summary: parameters.summary } : {}),
        patch: parameters.patch,
        ...(parameters.branch ? { branch: parameters.branch } : {}),
      },
      context,
    );
    const messageId = pull.reused
      ? undefined
      : await publish(
          settings,
          `[suture] pull request opened: ${redactText(parameters.title).text}`,
          `Suture opened pull request ${pull.url} for incident ${request.incident_id}. It has not been merged.`,
        ).catch((error: unknown) => rethrowAws(error, 'open_patch_proposal notice'));
    return {
      outcome: 'executed',
      detail: { pull_request: pull, ...(messageId ? { message_id: messageId } : {}) },
    };
  } catch (error) {
    if (!(error instanceof GitHubUnavailable)) throw error;
    fallback = error.reason;
  }
  return storePatch(request, parameters, settings, fallback);
}

async function storePatch(
  request: MutationRequest,
  parameters: { title: string; summary?: string | undefined; patch: string },
  settings: ActionSettings,
  fallback: string,
): Promise<Outcome> {
  if (!settings.evidenceBucket) {
    throw new ExecuteInputError('open_patch_proposal needs SUTURE_EVIDENCE_BUCKET to store the patch');
  }
  // A patch comes from a log or a model: redact it like any other text that leaves the loop.
  const patch = redactText(parameters.patch).text;
  const title = redactText(parameters.title).text;
  const summary = parameters.summary ? redactText(parameters.summary).text : undefined;
  const sha256 = createHash('sha256').update(patch).digest('hex');
  const key = `patches/${request.incident_id}/${sha256}.patch`;
  try {
    await awsClient(S3Client, s3ClientConfig()).send(
      new PutObjectCommand({
        Bucket: settings.evidenceBucket,
        Key: key,
        Body: patch,
        ContentType: 'text/x-diff; charset=utf-8',
        Metadata: { incident: request.incident_id, sha256 },
      }),
    );
    const messageId = await publish(
      settings,
      `[suture] patch proposed for review: ${title}`,
      [
        `A patch was proposed for incident ${request.incident_id}. It has not been applied.`,
        summary ? `\n${summary}` : '',
        `\nReview it at s3://${settings.evidenceBucket}/${key} (SHA-256 ${sha256}).`,
        `\nNo pull request was opened: ${fallback}.`,
      ].join('\n'),
    );
    return {
      outcome: 'executed',
      detail: {
        bucket: settings.evidenceBucket,
        key,
        sha256,
        title,
        pull_request_fallback: fallback,
        ...(messageId ? { message_id: messageId } : {}),
      },
    };
  } catch (error) {
    return rethrowAws(error, 'open_patch_proposal');
  }
}

/**
 * Performs one allowed mutation. Deterministic: the same request always makes the same call
 * with the same client tokens. Called only through the idempotent wrapper in `index.ts`.
 */
export async function performAction(
  request: MutationRequest,
  settings: ActionSettings,
  context: ChangeContext = {},
): Promise<Outcome> {
  switch (request.action) {
    case 'retry_stage': {
      const p = parametersOf('retry_stage', request.parameters);
      return pipelineCall(`RetryStageExecution ${p.pipeline}/${p.stage}`, async () => {
        // One attempt: a retry whose answer was lost started the stage, and CodePipeline
        // refuses a second one (StageNotRetryableException → already_handled).
        const response = await awsMutationClient(CodePipelineClient).send(
          new RetryStageExecutionCommand({
            pipelineName: p.pipeline,
            stageName: p.stage,
            pipelineExecutionId: p.execution_id,
            retryMode: p.retry_mode,
          }),
        );
        return {
          outcome: 'executed',
          pipeline_execution_id: response.pipelineExecutionId ?? p.execution_id,
          detail: { pipeline: p.pipeline, stage: p.stage, retry_mode: p.retry_mode },
        };
      });
    }
    case 'start_pipeline_execution': {
      const p = parametersOf('start_pipeline_execution', request.parameters);
      return pipelineCall(`StartPipelineExecution ${p.pipeline}`, async () => {
        const response = await awsClient(CodePipelineClient).send(
          new StartPipelineExecutionCommand({ name: p.pipeline, clientRequestToken: requestToken(request) }),
        );
        return {
          outcome: 'executed',
          ...(response.pipelineExecutionId ? { pipeline_execution_id: response.pipelineExecutionId } : {}),
          detail: { pipeline: p.pipeline },
        };
      });
    }
    case 'rollback_stage': {
      const p = parametersOf('rollback_stage', request.parameters);
      return pipelineCall(`RollbackStage ${p.pipeline}/${p.stage}`, async () => {
        const earlier = await rollbackSince(
          p.pipeline,
          p.target_execution_id,
          context.incident?.execution_id,
        );
        if (earlier) {
          return {
            outcome: 'already_handled',
            pipeline_execution_id: earlier,
            detail: {
              reason: 'a rollback to this target started after the failed execution',
              pipeline: p.pipeline,
              stage: p.stage,
              target_execution_id: p.target_execution_id,
            },
          };
        }
        // One attempt: CodePipeline takes a second RollbackStage once the first one ended, so
        // a resend after a lost answer would roll back twice; the retry looks first (above).
        const response = await awsMutationClient(CodePipelineClient).send(
          new RollbackStageCommand({
            pipelineName: p.pipeline,
            stageName: p.stage,
            targetPipelineExecutionId: p.target_execution_id,
          }),
        );
        return {
          outcome: 'executed',
          ...(response.pipelineExecutionId ? { pipeline_execution_id: response.pipelineExecutionId } : {}),
          detail: { pipeline: p.pipeline, stage: p.stage, target_execution_id: p.target_execution_id },
        };
      });
    }
    case 'stop_pipeline_execution': {
      const p = parametersOf('stop_pipeline_execution', request.parameters);
      return pipelineCall(`StopPipelineExecution ${p.pipeline}`, async () => {
        const response = await awsMutationClient(CodePipelineClient).send(
          new StopPipelineExecutionCommand({
            pipelineName: p.pipeline,
            pipelineExecutionId: p.execution_id,
            abandon: p.abandon,
            reason: p.reason
              ? redactText(p.reason).text.slice(0, 200)
              : `suture incident ${request.incident_id}`,
          }),
        );
        return {
          outcome: 'executed',
          pipeline_execution_id: response.pipelineExecutionId ?? p.execution_id,
          detail: { pipeline: p.pipeline, abandon: p.abandon },
        };
      });
    }
    case 'revert_parameter': {
      const p = parametersOf('revert_parameter', request.parameters);
      return revertParameter(p.parameter_name, p.to_version);
    }
    case 'open_patch_proposal':
      return openPatchProposal(
        request,
        parametersOf('open_patch_proposal', request.parameters),
        settings,
        context,
      );
    case 'revert_commit': {
      const p = parametersOf('revert_commit', request.parameters);
      const lastSuccess = context.evidence?.source?.last_success?.revision;
      if (!lastSuccess) {
        throw new ActionFailedError('revert_commit needs evidence of the last successful execution’s commit');
      }
      try {
        const pull = await openPullRequest(
          settings.github ?? { apiUrl: 'https://api.github.com' },
          request.incident_id,
          {
            kind: 'revert',
            commit: p.commit,
            expectedParent: lastSuccess,
            ...(p.branch ? { branch: p.branch } : {}),
          },
          context,
        );
        const messageId = pull.reused
          ? undefined
          : await publish(
              settings,
              `[suture] revert pull request opened for ${p.commit.slice(0, 12)}`,
              `Suture opened pull request ${pull.url} reverting ${p.commit} for incident ${request.incident_id}. It has not been merged.`,
            ).catch((error: unknown) => rethrowAws(error, 'revert_commit notice'));
        return {
          outcome: 'executed',
          detail: { pull_request: pull, ...(messageId ? { message_id: messageId } : {}) },
        };
      } catch (error) {
        if (error instanceof GitHubUnavailable) {
          throw new ActionFailedError(`revert_commit: no pull request was opened: ${error.reason}`, {
            cause: error,
          });
        }
        throw error;
      }
    }
    case 'redrive_execution': {
      const p = parametersOf('redrive_execution', request.parameters);
      try {
        const response = await awsClient(SFNClient).send(
          new RedriveExecutionCommand({ executionArn: p.execution_arn, clientToken: requestToken(request) }),
        );
        return {
          outcome: 'executed',
          detail: { execution_arn: p.execution_arn, redrive_date: response.redriveDate?.toISOString() },
        };
      } catch (error) {
        const errorName = (error as Error).name;
        if (errorName === 'ExecutionNotRedrivable' || errorName === 'ExecutionDoesNotExist') {
          throw new ActionFailedError(`RedriveExecution: ${errorName}: ${(error as Error).message}`, {
            cause: error,
          });
        }
        return rethrowAws(error, 'RedriveExecution');
      }
    }
    case 'escalate':
      parametersOf('escalate', request.parameters);
      return { outcome: 'no_op', detail: { reason: 'escalation is the workflow’s job, not a mutation' } };
  }
}
