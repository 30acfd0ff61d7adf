import { randomUUID } from 'node:crypto';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Client settings that point a real AWS SDK v3 client at the moto server started for the run. */
export function emulatorClientConfig() {
  const endpoint = process.env.SUTURE_TEST_AWS_ENDPOINT;
  if (!endpoint) throw new Error('SUTURE_TEST_AWS_ENDPOINT is not set: jest global setup starts moto');
  return {
    endpoint,
    region: 'us-west-2',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
}

/** Creates an on-demand table with a fresh name: string partition key, optional numeric sort key. */
export async function createTable(
  client: DynamoDBClient,
  prefix: string,
  partitionKey: string,
  sortKey?: string,
): Promise<string> {
  const tableName = `${prefix}-${randomUUID()}`;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: partitionKey, AttributeType: 'S' },
        ...(sortKey ? [{ AttributeName: sortKey, AttributeType: 'N' as const }] : []),
      ],
      KeySchema: [
        { AttributeName: partitionKey, KeyType: 'HASH' },
        ...(sortKey ? [{ AttributeName: sortKey, KeyType: 'RANGE' as const }] : []),
      ],
    }),
  );
  return tableName;
}
