/**
 * Triage throughput, in process.
 *
 * 1. The pure part (parse, redact, classify the summary, fingerprint) over distinct events.
 * 2. The whole handler against moto on 127.0.0.1 (loop guard transaction, audit append,
 *    StartExecution): distinct failures, then a storm of duplicate deliveries of one failure.
 *
 * Usage: npx tsx bench/triage/run.ts [--events N] [--concurrency C]
 * moto's server is single-threaded, so part 2 measures the handler plus the emulator; in AWS
 * the DynamoDB and Step Functions round trips dominate and Lambda scales out per delivery.
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { resetAwsClients } from '../../functions/commons/aws/clients';
import { incidentFromCodePipeline, resetTriageForTests, triage } from '../../functions/triage';
import { CodePipelineEventSchema } from '../../functions/triage/schema';
import { startMoto, stopMoto } from '../../local/moto/server';
import { machine, quantile, table } from '../common';

const SUMMARIES = [
  'Error: connect ETIMEDOUT 140.82.112.4:443 while fetching https://registry.npmjs.org/react',
  'Deployment d-7GQ4 failed: 3 of 4 instances failed health checks',
  'BUILD FAILED: error TS2322: Type string is not assignable to type number (src/app.ts:41)',
  'ThrottlingException: Rate exceeded when calling DescribeStacks; aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'FAIL src/cart.test.ts › adds an item (flaky: passed on rerun)',
];

function failedActionEvent(i: number) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'CodePipeline Action Execution State Change',
    source: 'aws.codepipeline',
    account: '123456789012',
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'us-west-2',
    resources: ['arn:aws:codepipeline:us-west-2:123456789012:myPipeline'],
    detail: {
      pipeline: `pipeline-${i % 40}`,
      'execution-id': randomUUID(),
      stage: 'Build',
      action: `Build${i % 7}`,
      state: 'FAILED',
      region: 'us-west-2',
      type: { owner: 'AWS', provider: 'CodeBuild', category: 'Build', version: '1' },
      'execution-result': {
        'external-execution-summary': SUMMARIES[i % SUMMARIES.length],
        'external-execution-id': `build:${randomUUID()}`,
        'error-code': 'JobFailed',
      },
      version: 3,
    },
  };
}

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

async function runPool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

async function main(): Promise<void> {
  const eventCount = argument('--events', 1000);
  const concurrency = argument('--concurrency', 8);
  const rows: string[][] = [['measurement', 'events', 'events/s', 'p50 ms', 'p99 ms']];

  // 1. Pure part.
  const pure = Array.from({ length: 20_000 }, (_, i) => failedActionEvent(i));
  for (const event of pure.slice(0, 500))
    incidentFromCodePipeline(CodePipelineEventSchema.parse(event), new Date());
  const pureStarted = performance.now();
  for (const event of pure) incidentFromCodePipeline(CodePipelineEventSchema.parse(event), new Date());
  const pureSeconds = (performance.now() - pureStarted) / 1000;
  rows.push([
    'parse + redact + classify + fingerprint',
    String(pure.length),
    (pure.length / pureSeconds).toFixed(0),
    '',
    '',
  ]);

  // 2. Whole handler against moto.
  const moto = await startMoto();
  try {
    const config = {
      endpoint: moto.endpoint,
      region: 'us-west-2',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    };
    const dynamo = new DynamoDBClient(config);
    const table = async (name: string, keys: { name: string; type: 'S' | 'N'; role: 'HASH' | 'RANGE' }[]) => {
      await dynamo.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
          KeySchema: keys.map((k) => ({ AttributeName: k.name, KeyType: k.role })),
        }),
      );
      return name;
    };
    const machineArn = (
      await new SFNClient(config).send(
        new CreateStateMachineCommand({
          name: 'suture-bench',
          roleArn: 'arn:aws:iam::123456789012:role/suture-bench',
          definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }),
        }),
      )
    ).stateMachineArn!;
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: 'us-west-2',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      SUTURE_STATE_MACHINE_ARN: machineArn,
      SUTURE_GUARD_TABLE: await table('bench-guard', [{ name: 'pk', type: 'S', role: 'HASH' }]),
      SUTURE_AUDIT_TABLE: await table('bench-audit', [
        { name: 'incident_id', type: 'S', role: 'HASH' },
        { name: 'seq', type: 'N', role: 'RANGE' },
      ]),
      POWERTOOLS_METRICS_NAMESPACE: 'SutureBench',
      SUTURE_LOG_LEVEL: 'ERROR',
    });
    resetAwsClients();
    resetTriageForTests();

    const measure = async (label: string, events: readonly object[], expectStarted: number | undefined) => {
      const latencies: number[] = [];
      let started = 0;
      const begun = performance.now();
      await runPool(events, concurrency, async (event) => {
        const t0 = performance.now();
        const result = await triage(event);
        latencies.push(performance.now() - t0);
        if (result.status === 'started') started += 1;
      });
      const seconds = (performance.now() - begun) / 1000;
      latencies.sort((a, b) => a - b);
      if (expectStarted !== undefined && started !== expectStarted) {
        throw new Error(`${label}: ${started} workflows started, expected ${expectStarted}`);
      }
      rows.push([
        label,
        String(events.length),
        (events.length / seconds).toFixed(0),
        quantile(latencies, 0.5).toFixed(1),
        quantile(latencies, 0.99).toFixed(1),
      ]);
    };
    // Silence Powertools' EMF output: it goes to stdout and would bury the table.
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      await measure(
        `handler → moto, distinct failures, concurrency ${concurrency}`,
        Array.from({ length: eventCount }, (_, i) => failedActionEvent(i)),
        undefined,
      );
      const one = failedActionEvent(0);
      await measure(
        `handler → moto, ${eventCount} deliveries of one failure`,
        Array.from({ length: eventCount }, () => one),
        1,
      );
    } finally {
      process.stdout.write = write;
    }
    dynamo.destroy();
  } finally {
    stopMoto(moto.pid);
  }

  console.log('Triage throughput (bench/triage/run.ts)\n');
  console.log(table(rows));
  console.log(`\n${machine().join('\n')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
