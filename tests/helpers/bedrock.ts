import {
  BedrockAgentRuntimeClient,
  type InvokeAgentCommandOutput,
  type ResponseStream,
} from '@aws-sdk/client-bedrock-agent-runtime';
import type { FailureClass } from '../../functions/commons/classify/schema';
import { BedrockAgentFake, type BedrockAgentFakeOptions } from '../../local/bedrock-agent/server';

/** Starts a {@link BedrockAgentFake} on 127.0.0.1. */
export function startBedrockFake(options: BedrockAgentFakeOptions = {}): Promise<BedrockAgentFake> {
  return new BedrockAgentFake(options).start();
}

/** A real client pointed at the fake; `maxAttempts` 1 unless given, so each reply is seen once. */
export function fakeBedrockClient(fake: BedrockAgentFake, maxAttempts = 1): BedrockAgentRuntimeClient {
  return new BedrockAgentRuntimeClient({
    endpoint: fake.endpoint,
    region: 'us-west-2',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts,
  });
}

/** Reads the whole `completion` stream into a list of union members, as production code would. */
export async function readCompletion(output: InvokeAgentCommandOutput): Promise<ResponseStream[]> {
  const events: ResponseStream[] = [];
  for await (const event of output.completion ?? []) events.push(event);
  return events;
}

/** The text of every `chunk` event, joined. */
export function chunkText(events: readonly ResponseStream[]): string {
  return events
    .map((event) => (event.chunk?.bytes ? Buffer.from(event.chunk.bytes).toString('utf8') : ''))
    .join('');
}

/** Options of {@link planState}. */
export interface PlanStateOptions {
  readonly id?: string;
  readonly failureClass?: FailureClass;
  readonly confidence?: number;
  readonly excerpt?: string;
  readonly summary?: string;
  readonly stage?: string;
  readonly rollbackTarget?: string | null;
  readonly pipelineTags?: Record<string, string>;
}

/**
 * A state document as PlanRemediation receives it (incident, attempts, evidence,
 * classification) for a failed Build action of myPipeline, which the default policy data scopes.
 */
export function planState(options: PlanStateOptions = {}) {
  const stage = options.stage ?? 'Build';
  const summary = options.summary ?? 'Build failed: exit status 1';
  return {
    incident: {
      id: options.id ?? 'inc-0001',
      source: 'codepipeline' as const,
      detail_type: 'CodePipeline Action Execution State Change',
      state: 'FAILED',
      pipeline: 'myPipeline',
      stage,
      action: stage === '' ? '' : 'Build',
      execution_id: '12345678-1234-5678-abcd-12345678abcd',
      account: '123456789012',
      region: 'us-west-2',
      event_id: '01234567-0123-0123-0123-012345678901',
      event_time: '2026-11-23T10:00:00Z',
      detected_at: '2026-11-23T10:00:02.000Z',
      error_code: 'JobFailed',
      summary,
      provider: 'CodeBuild',
      category: 'Build',
      fingerprint: 'fp-7f3a',
    },
    attempts: { fingerprint_24h: 0, pipeline_1h: 0 },
    evidence: {
      pipeline_execution: { status: 'Failed', trigger: 'StartPipelineExecution' },
      failed_actions: [
        { stage, action: 'Build', status: 'Failed', provider: 'CodeBuild', error_code: 'JobFailed', summary },
      ],
      build: { id: 'build-project:0b1c2d3e', status: 'FAILED' },
      excerpt: options.excerpt ?? '41 | npm ERR! code ECONNRESET\n42 | npm ERR! network socket hang up',
      alarms: [],
      rollback_target:
        options.rollbackTarget === null
          ? null
          : { execution_id: options.rollbackTarget ?? 'aaaaaaaa-1234-5678-abcd-12345678abcd' },
      recent_failed_validations: 0,
      stage_protected: false,
      pipeline_tags: options.pipelineTags ?? {},
      object: {
        bucket: 'suture-evidence',
        key: 'inc-0001/evidence.json',
        sha256: 'a'.repeat(64),
        bytes: 2048,
      },
    },
    classification: {
      class: options.failureClass ?? 'transient_network',
      confidence: options.confidence ?? 0.92,
      signature: 'npm-econnreset',
      matched_line: 'npm ERR! code ECONNRESET',
    },
  };
}
