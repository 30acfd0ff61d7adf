import type { AwsCallTiming } from '../../local/aws/instrument';
import { spanCost } from '../../local/simulate/run';

const attempt = (start: number, end: number, service = 'DynamoDBClient'): AwsCallTiming => ({
  kind: 'attempt',
  service,
  operation: 'PutItemCommand',
  start,
  end,
});
const call = (start: number, end: number, service: string): AwsCallTiming => ({
  kind: 'call',
  service,
  operation: 'InvokeAgentCommand',
  start,
  end,
});

describe('spanCost: the loop’s own time is the wall time no emulated AWS call was waiting', () => {
  it('counts overlapping calls once and clips calls to the span', () => {
    // Act: calls at 10–30 and 20–40 overlap (30 ms waited), 90–120 is clipped at 100.
    const cost = spanCost(
      [attempt(10, 30), attempt(20, 40), attempt(90, 120), attempt(150, 160)],
      { at: 0, cpuUs: 1_000 },
      { at: 100, cpuUs: 26_000 },
    );

    // Assess
    expect(cost).toEqual({ wall_ms: 100, aws_ms: 40, aws_calls: 3, own_ms: 60, cpu_ms: 25 });
  });

  it('counts the IAM replay’s authorisation as emulated AWS time, not as a call', () => {
    // Act: authorised 10–14, then the round trip 14–30.
    const cost = spanCost(
      [{ ...attempt(10, 14), kind: 'authorization' }, attempt(14, 30)],
      { at: 0, cpuUs: 0 },
      { at: 50, cpuUs: 0 },
    );

    // Assess
    expect(cost).toMatchObject({ wall_ms: 50, aws_ms: 20, aws_calls: 1, own_ms: 30 });
  });

  it('takes the model’s whole calls (retries and back-off) and only the other services’ attempts', () => {
    // Prepare: two attempts of InvokeAgent 0–10 and 40–50, one call spanning the back-off.
    const calls = [
      attempt(0, 10, 'BedrockAgentRuntimeClient'),
      attempt(40, 50, 'BedrockAgentRuntimeClient'),
      call(0, 50, 'BedrockAgentRuntimeClient'),
      call(60, 80, 'DynamoDBClient'),
      attempt(62, 78),
    ];

    // Act
    const cost = spanCost(calls, { at: 0, cpuUs: 0 }, { at: 100, cpuUs: 0 });

    // Assess: 50 ms of model + 16 ms of DynamoDB round trip.
    expect(cost.aws_ms).toBe(66);
    expect(cost.own_ms).toBe(34);
    expect(cost.aws_calls).toBe(2);
  });
});
