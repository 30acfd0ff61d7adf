import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
// The type declarations of cdktf's jest matchers (Testing.setupJest() installs them at run time).
import type {} from 'cdktf/lib/testing/adapters/jest';
import { SelfHealingLoop, type SelfHealingLoopProps } from '../../../modules';

/** A synthesised configuration, parsed. */
export interface Synthesized {
  readonly raw: string;
  readonly json: {
    resource: Record<string, Record<string, Record<string, unknown>>>;
    data: Record<string, Record<string, Record<string, unknown>>>;
    locals: Record<string, unknown>;
    output?: Record<string, { value: unknown }>;
  };
  readonly loop: SelfHealingLoop;
  readonly stack: TerraformStack;
}

/** The props the construct tests share: two pipelines, one alarm, an email, tags. */
export const baseProps: SelfHealingLoopProps = {
  pipelines: [
    { name: 'myPipeline' },
    { name: 'release-pipeline', account: '123456789012', region: 'us-west-2', protectedStages: ['Prod'] },
  ],
  releaseHealthAlarms: [{ alarmName: 'release-5xx', pipeline: 'release-pipeline', stage: 'Prod' }],
  notificationEmails: ['oncall@example.com'],
  tags: { team: 'platform' },
};

/** Synthesises a stack holding one loop (validations on, as `cdktf synth` runs them). */
export function synthLoop(props: SelfHealingLoopProps = baseProps): Synthesized {
  const stack = new TerraformStack(Testing.app(), 'test');
  new AwsProvider(stack, 'aws', { region: 'us-west-2' });
  const loop = new SelfHealingLoop(stack, 'suture', props);
  const raw = Testing.synth(stack, true);
  return { raw, json: JSON.parse(raw) as Synthesized['json'], loop, stack };
}

/** The resources of one type, by name. */
export function resourcesOf(synth: Synthesized, type: string): Record<string, Record<string, unknown>> {
  return synth.json.resource[type] ?? {};
}

/** The one resource of `type` whose name contains `fragment`. */
export function resourceNamed(synth: Synthesized, type: string, fragment: string): Record<string, unknown> {
  const matches = Object.entries(resourcesOf(synth, type)).filter(([name]) => name.includes(fragment));
  if (matches.length !== 1) {
    throw new Error(
      `expected one ${type} named *${fragment}*, found ${matches.map(([name]) => name).join(', ')}`,
    );
  }
  return matches[0]![1];
}

interface Statement {
  sid?: string;
  effect?: string;
  actions?: string[];
  resources?: string[] | string;
  condition?: unknown[];
  principals?: unknown[];
}

/**
 * The statements granted to the role of `owner` (e.g. `functions_execute`), by inline policy
 * name: each aws_iam_role_policy's document, read from its aws_iam_policy_document.
 */
export function grantsOf(synth: Synthesized, owner: string): Record<string, Statement[]> {
  const grants: Record<string, Statement[]> = {};
  for (const [name, policy] of Object.entries(resourcesOf(synth, 'aws_iam_role_policy'))) {
    if (!name.startsWith(`suture_${owner}_role_`)) continue;
    const reference = /data\.aws_iam_policy_document\.([^.]+)\.json/.exec(String(policy.policy));
    if (!reference) throw new Error(`${name} does not use a policy document`);
    const document = synth.json.data.aws_iam_policy_document?.[reference[1]!] as { statement: Statement[] };
    grants[String(policy.name)] = document.statement;
  }
  return grants;
}

/** Every action granted to `owner`'s role. */
export function actionsOf(synth: Synthesized, owner: string): string[] {
  return Object.values(grantsOf(synth, owner))
    .flat()
    .flatMap((statement) => statement.actions ?? [])
    .sort();
}

/** The synthesised JSON with content hashes masked, for snapshots that survive code changes. */
export function maskHashes(raw: string): string {
  return raw
    .replace(/assets\/([^/"]+)\/[A-F0-9]{32}\//g, 'assets/$1/<hash>/')
    .replace(/"source_code_hash": "[A-Za-z0-9+/=]+"/g, '"source_code_hash": "<hash>"')
    .replace(/"SUTURE_POLICY_BUNDLE_SHA256": "[0-9a-f]{64}"/g, '"SUTURE_POLICY_BUNDLE_SHA256": "<hash>"')
    .replace(/sha256:[0-9a-f]{64}/g, 'sha256:<hash>');
}
