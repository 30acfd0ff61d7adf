import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AuditTrail, verifyChain } from '../../functions/commons/audit';
import { createTable, emulatorClientConfig } from '../helpers/aws';

type Handler = (args: { input?: unknown }) => Promise<unknown>;

/**
 * A DynamoDB client whose first PutItem reaches moto and then loses its answer: the SDK sees a
 * timeout and resends, as it does when a response is lost on the network.
 */
function clientLosingFirstPut(): DynamoDBClient {
  const client = new DynamoDBClient(emulatorClientConfig());
  let lost = false;
  client.middlewareStack.add(
    ((next: Handler, context: { commandName?: string }) => async (args: { input?: unknown }) => {
      if (context.commandName === 'PutItemCommand' && !lost) {
        lost = true;
        await next(args);
        throw Object.assign(new Error('socket timed out before the response arrived'), {
          name: 'TimeoutError',
          $metadata: {},
        });
      }
      return next(args);
    }) as never,
    { step: 'deserialize', priority: 'high', name: 'loseFirstPut' },
  );
  return client;
}

describe('fixes found by suture simulate --faults (each fault reproduced without the injector)', () => {
  it('an audit append whose answer was lost is in the chain once, not twice', async () => {
    // Prepare
    const setup = new DynamoDBClient(emulatorClientConfig());
    const table = await createTable(setup, 'suture-audit', 'incident_id', 'seq');
    const client = clientLosingFirstPut();
    const trail = new AuditTrail(client, table);

    // Act
    await trail.append('inc-lost-answer', 'triage', { n: 1 }, new Date(), { expectNew: true });
    await trail.append('inc-lost-answer', 'policy_decision', { n: 2 });

    // Assess
    const records = await new AuditTrail(setup, table).records('inc-lost-answer');
    expect(records.map((record) => record.step)).toEqual(['triage', 'policy_decision']);
    expect(verifyChain(records).ok).toBe(true);
    client.destroy();
    setup.destroy();
  });
});
