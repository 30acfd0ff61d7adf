import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseArgs } from 'node:util';
import { AuditTrail, verifyChain, type AuditRecord } from '../../functions/commons/audit';
import { UsageError } from '../errors';
import { parseJsonArgument, readInputArgument } from '../io';

async function recordsFromFile(path: string): Promise<AuditRecord[]> {
  const text = (await readInputArgument(path, 'audit export')).trim();
  if (text.startsWith('[')) return parseJsonArgument(text, path) as AuditRecord[];
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => parseJsonArgument(line, `${path} line ${index + 1}`) as AuditRecord);
}

/**
 * `suture audit verify --file FILE|-` (records as JSON Lines or a JSON array) or
 * `--table NAME --incident ID [--region R] [--endpoint-url URL]` (read with the caller's own AWS
 * credentials). Exit 0 when the chain is intact, 1 when it is broken, 2 on unusable input.
 */
export async function auditVerifyCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      file: { type: 'string' },
      table: { type: 'string' },
      incident: { type: 'string' },
      region: { type: 'string' },
      'endpoint-url': { type: 'string' },
    },
    strict: true,
  });
  let records: AuditRecord[];
  if (values.file) {
    records = await recordsFromFile(values.file);
  } else if (values.table && values.incident) {
    const client = new DynamoDBClient({
      ...(values.region ? { region: values.region } : {}),
      ...(values['endpoint-url'] ? { endpoint: values['endpoint-url'] } : {}),
    });
    try {
      records = await new AuditTrail(client, values.table).records(values.incident);
    } finally {
      client.destroy();
    }
  } else {
    throw new UsageError('audit verify needs --file FILE, or --table NAME and --incident ID');
  }
  if (records.length === 0) throw new UsageError('no audit records to verify');
  const verification = verifyChain(records);
  process.stdout.write(`${JSON.stringify(verification, null, 2)}\n`);
  return verification.ok ? 0 : 1;
}
