import { StateMachine } from 'aws-local-stepfunctions';

type JSONValue = Parameters<StateMachine['run']>[0];
import {
  buildWorkflowDefinition,
  LAMBDA_INVOKE_WAIT_FOR_TASK_TOKEN,
  StateName,
  WORKFLOW_FUNCTIONS,
  WorkflowError,
  type TaskState,
  type WorkflowDefinition,
  type WorkflowDefinitionProps,
} from '../../../modules/workflow/definition';
import {
  assertValidDefinition,
  assertValidWorkflow,
  InvalidWorkflowDefinitionError,
  placeholderFunctionArn,
  validateDefinition,
} from '../../../modules/workflow/validate';

const functionArns = Object.fromEntries(
  WORKFLOW_FUNCTIONS.map((name) => [name, placeholderFunctionArn(name)]),
) as WorkflowDefinitionProps['functionArns'];
const props: WorkflowDefinitionProps = { functionArns, bakeSeconds: 300, approvalTimeoutSeconds: 3600 };

function tasks(definition: WorkflowDefinition): [string, TaskState][] {
  return Object.entries(definition.States).filter(
    (entry): entry is [string, TaskState] => entry[1].Type === 'Task',
  );
}

/** A named error, as a handler throws it (the name is what Retry/Catch match). */
function namedError(name: string, message = name): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

const input = {
  incident: { id: 'inc-1', pipeline: 'myPipeline', stage: 'Deploy' },
  attempts: { fingerprint_24h: 0, pipeline_1h: 0 },
};

type Handlers = Record<string, (input: JSONValue) => Promise<JSONValue> | JSONValue>;

/** Handlers that follow the happy path; each scenario replaces what it needs. */
function happyHandlers(calls: string[]): Handlers {
  const record =
    (state: string, result: JSONValue) =>
    (event: JSONValue): JSONValue => {
      calls.push(state);
      void event;
      return result;
    };
  return {
    // CollectEvidence returns the whole state document: the completed incident and the evidence.
    [StateName.collectEvidence]: (event: JSONValue): JSONValue => {
      calls.push(StateName.collectEvidence);
      const state = event as { incident: Record<string, JSONValue> };
      return { ...state, incident: { ...state.incident, completed: true }, evidence: { excerpt: 'boom' } };
    },
    [StateName.classify]: record(StateName.classify, { class: 'transient_network', confidence: 0.9 }),
    [StateName.planRemediation]: record(StateName.planRemediation, {
      proposal: { action: 'retry_stage' },
      gate_input: { incident: { id: 'inc-1' }, proposal: { action: 'retry_stage' }, context: {} },
    }),
    [StateName.policyGate]: record(StateName.policyGate, {
      allow: true,
      require_approval: false,
      reasons: [],
    }),
    [StateName.requestApproval]: record(StateName.requestApproval, {
      approved: true,
      approver: 'alice',
      action: 'retry_stage',
      at: '2026-01-01T00:00:00Z',
    }),
    [StateName.executeRepair]: record(StateName.executeRepair, {
      action: 'retry_stage',
      outcome: 'executed',
    }),
    [StateName.validate]: record(StateName.validate, { healthy: true, observed: {} }),
    [StateName.notifyResolved]: record(StateName.notifyResolved, { message_id: 'm-1' }),
    [StateName.escalate]: record(StateName.escalate, { message_id: 'm-2' }),
  };
}

async function run(handlers: Handlers): Promise<Record<string, unknown>> {
  const machine = new StateMachine(buildWorkflowDefinition(props) as never, {
    validationOptions: { checkArn: true, checkPaths: true },
  });
  const execution = machine.run(input, {
    // The interpreter does not mint task tokens; the context object supplies one.
    context: { Task: { Token: 'task-token-1' } } as never,
    overrides: {
      taskResourceLocalHandlers: handlers,
      waitTimeOverrides: { [StateName.bakeTime]: 0, [StateName.delayRepair]: 0 },
      retryIntervalOverrides: Object.fromEntries(Object.values(StateName).map((name) => [name, 0])),
    },
  });
  return (await execution.result) as Record<string, unknown>;
}

describe('workflow definition', () => {
  it('is valid ASL (asl-validator, ARNs and JSONPath checked)', () => {
    // Prepare
    const definition = buildWorkflowDefinition(props);

    // Act
    const problems = validateDefinition(definition);

    // Assess
    expect(problems).toEqual([]);
    expect(() => assertValidWorkflow(props)).not.toThrow();
  });

  it('is pure: equal props give equal definitions and the input is not touched', () => {
    const frozen = Object.freeze({ ...props, functionArns: Object.freeze({ ...functionArns }) });
    expect(buildWorkflowDefinition(frozen)).toEqual(buildWorkflowDefinition(frozen));
    expect(JSON.stringify(buildWorkflowDefinition(frozen))).toBe(
      JSON.stringify(buildWorkflowDefinition(props)),
    );
  });

  it('rejects an invalid definition with every problem named', () => {
    // Prepare: a transition to a state that does not exist
    const definition = structuredClone(buildWorkflowDefinition(props)) as unknown as {
      States: Record<string, { Next?: string }>;
    };
    definition.States[StateName.classify]!.Next = 'Nowhere';

    // Act
    const act = () => assertValidDefinition(definition);

    // Assess
    expect(act).toThrow(InvalidWorkflowDefinitionError);
    expect(act).toThrow(/Nowhere/);
  });

  it('rejects timings out of range at construction', () => {
    expect(() => buildWorkflowDefinition({ ...props, bakeSeconds: -1 })).toThrow(/bakeSeconds/);
    expect(() => buildWorkflowDefinition({ ...props, approvalTimeoutSeconds: 10 })).toThrow(
      /approvalTimeout/,
    );
    expect(() => buildWorkflowDefinition({ ...props, taskTimeoutSeconds: 0 })).toThrow(/taskTimeout/);
    const { notify: _notify, ...missing } = functionArns;
    expect(() => buildWorkflowDefinition({ ...props, functionArns: missing as never })).toThrow(/notify/);
  });

  it('stays on JSONPath with the Lambda and Lambda-callback integrations only', () => {
    const definition = buildWorkflowDefinition(props);
    expect(definition.QueryLanguage).toBe('JSONPath');
    const resources = tasks(definition).map(([, state]) => state.Resource);
    const allowed = new Set([...Object.values(functionArns), LAMBDA_INVOKE_WAIT_FOR_TASK_TOKEN]);
    expect(resources.every((resource) => allowed.has(resource))).toBe(true);
    expect(JSON.stringify(definition)).not.toMatch(/JSONata|\{%/);
  });

  it('references exactly the workflow functions', () => {
    const definition = buildWorkflowDefinition(props);
    const referenced = new Set<string>();
    for (const [, state] of tasks(definition)) {
      referenced.add(
        state.Resource === LAMBDA_INVOKE_WAIT_FOR_TASK_TOKEN
          ? String(state.Parameters?.FunctionName)
          : state.Resource,
      );
    }
    expect([...referenced].sort()).toEqual(Object.values(functionArns).sort());
  });

  it('retries transient errors and catches everything into Escalate on every Task but Escalate', () => {
    for (const [name, state] of tasks(buildWorkflowDefinition(props))) {
      const retried = state.Retry.flatMap((rule) => rule.ErrorEquals);
      expect(retried).toEqual(
        expect.arrayContaining([...WorkflowError.lambdaService, WorkflowError.transientAws]),
      );
      if (name === StateName.escalate) {
        expect(state.Catch).toBeUndefined();
        continue;
      }
      const last = state.Catch?.at(-1);
      expect(last).toEqual({
        ErrorEquals: [WorkflowError.all],
        Next: StateName.escalate,
        ResultPath: '$.error',
      });
      expect(
        state.Catch?.every((rule) => rule.Next === StateName.escalate && rule.ResultPath === '$.error'),
      ).toBe(true);
    }
  });

  it('writes each result where docs/workflow.md says', () => {
    const states = buildWorkflowDefinition(props).States as Record<string, TaskState>;
    // No ResultPath: CollectEvidence's result is the whole state document.
    expect(states[StateName.collectEvidence]).not.toHaveProperty('ResultPath');
    expect(states[StateName.classify]!.ResultPath).toBe('$.classification');
    expect(states[StateName.planRemediation]!.ResultPath).toBe('$.plan');
    expect(states[StateName.policyGate]).toMatchObject({
      InputPath: '$.plan.gate_input',
      ResultPath: '$.decision',
    });
    expect(states[StateName.requestApproval]).toMatchObject({
      Resource: LAMBDA_INVOKE_WAIT_FOR_TASK_TOKEN,
      Parameters: {
        FunctionName: functionArns.notify,
        Payload: { 'state.$': '$', 'task_token.$': '$$.Task.Token', kind: 'approval' },
      },
      ResultPath: '$.approval',
      TimeoutSeconds: 3600,
    });
    expect(states[StateName.executeRepair]!.ResultPath).toBe('$.execution');
    expect(states[StateName.validate]!.ResultPath).toBe('$.validation');
    expect(states[StateName.validate]!.Retry).toContainEqual({
      ErrorEquals: [WorkflowError.validationPending],
      IntervalSeconds: 30,
      MaxAttempts: 10,
      BackoffRate: 1.5,
    });
    expect(states[StateName.escalate]).toMatchObject({
      Parameters: { 'state.$': '$', kind: 'escalation' },
      ResultPath: '$.escalation',
    });
    expect(states[StateName.notifyResolved]!.Parameters).toEqual({ 'state.$': '$', kind: 'resolved' });
    expect(buildWorkflowDefinition(props).States[StateName.bakeTime]).toMatchObject({
      Type: 'Wait',
      Seconds: 300,
    });
  });

  describe('executed by a local ASL interpreter', () => {
    it('HappyPath: allow → execute → bake → validate → resolved', async () => {
      const calls: string[] = [];
      const output = await run(happyHandlers(calls));
      expect(calls).toEqual([
        StateName.collectEvidence,
        StateName.classify,
        StateName.planRemediation,
        StateName.policyGate,
        StateName.executeRepair,
        StateName.validate,
        StateName.notifyResolved,
      ]);
      expect(output).toMatchObject({
        incident: { ...input.incident, completed: true },
        evidence: { excerpt: 'boom' },
        decision: { allow: true },
        execution: { outcome: 'executed' },
        validation: { healthy: true },
        notification: { message_id: 'm-1' },
      });
    });

    it('hands PolicyGate exactly the plan’s gate_input', async () => {
      let seen: JSONValue = null;
      const handlers = happyHandlers([]);
      const gate = handlers[StateName.policyGate]!;
      handlers[StateName.policyGate] = (event) => {
        seen = event;
        return gate(event);
      };
      await run(handlers);
      expect(seen).toEqual({ incident: { id: 'inc-1' }, proposal: { action: 'retry_stage' }, context: {} });
    });

    it('ApprovalPath: require_approval → approval → execute', async () => {
      const calls: string[] = [];
      const handlers = happyHandlers(calls);
      handlers[StateName.policyGate] = () => ({ allow: false, require_approval: true, reasons: [] });
      let approvalEvent: JSONValue = null;
      const approve = handlers[StateName.requestApproval]!;
      handlers[StateName.requestApproval] = (event) => {
        approvalEvent = event;
        return approve(event);
      };
      const output = await run(handlers);
      expect(calls).toContain(StateName.requestApproval);
      expect(calls).toContain(StateName.executeRepair);
      expect(output).toMatchObject({ approval: { approved: true, approver: 'alice' } });
      expect(approvalEvent).toMatchObject({
        FunctionName: functionArns.notify,
        Payload: {
          kind: 'approval',
          task_token: 'task-token-1',
          state: { decision: { require_approval: true } },
        },
      });
    });

    it('ApprovalRejected: a rejection escalates and records the error', async () => {
      const calls: string[] = [];
      const handlers = happyHandlers(calls);
      handlers[StateName.policyGate] = () => ({ allow: false, require_approval: true, reasons: [] });
      handlers[StateName.requestApproval] = () => {
        throw namedError(WorkflowError.approvalRejected, 'rejected by bob');
      };
      const output = await run(handlers);
      expect(calls).not.toContain(StateName.executeRepair);
      expect(calls.at(-1)).toBe(StateName.escalate);
      expect(output).toMatchObject({ error: { Error: WorkflowError.approvalRejected } });
    });

    it('DenyPath: a deny (or an unreadable decision) escalates without executing', async () => {
      for (const decision of [
        { allow: false, require_approval: false },
        { allow: 'yes' },
        {},
      ] as JSONValue[]) {
        const calls: string[] = [];
        const handlers = happyHandlers(calls);
        handlers[StateName.policyGate] = () => decision;
        await run(handlers);
        expect(calls).not.toContain(StateName.executeRepair);
        expect(calls.at(-1)).toBe(StateName.escalate);
      }
    });

    it('EscalateProposal: an escalate proposal goes to Escalate whatever the decision', async () => {
      const calls: string[] = [];
      const handlers = happyHandlers(calls);
      handlers[StateName.planRemediation] = () => {
        calls.push(StateName.planRemediation);
        return {
          proposal: { action: 'escalate', parameters: {} },
          gate_input: { incident: {}, proposal: { action: 'escalate', parameters: {} }, context: {} },
        };
      };
      await run(handlers);
      expect(calls).toEqual([
        StateName.collectEvidence,
        StateName.classify,
        StateName.planRemediation,
        StateName.policyGate,
        StateName.escalate,
      ]);
    });

    it('DelayedRetry: a retry_stage with delay_seconds waits in DelayRepair, then executes', async () => {
      const entered: string[] = [];
      const handlers = happyHandlers([]);
      handlers[StateName.planRemediation] = () => ({
        proposal: { action: 'retry_stage', parameters: { delay_seconds: 120 } },
        gate_input: {
          incident: {},
          proposal: { action: 'retry_stage', parameters: { delay_seconds: 120 } },
          context: {},
        },
      });
      const machine = new StateMachine(buildWorkflowDefinition(props) as never);
      const execution = machine.run(input, {
        overrides: {
          taskResourceLocalHandlers: handlers,
          waitTimeOverrides: { [StateName.bakeTime]: 0, [StateName.delayRepair]: 0 },
        },
      });
      const logs = (async () => {
        for await (const event of execution.eventLogs) {
          if (event.type === 'StateEntered') entered.push(event.state.name);
        }
      })();
      await execution.result;
      await logs;
      expect(entered).toEqual(
        expect.arrayContaining([StateName.isDelayed, StateName.delayRepair, StateName.executeRepair]),
      );
      expect(entered.indexOf(StateName.delayRepair)).toBeLessThan(entered.indexOf(StateName.executeRepair));
      expect(buildWorkflowDefinition(props).States[StateName.delayRepair]).toMatchObject({
        Type: 'Wait',
        SecondsPath: '$.plan.proposal.parameters.delay_seconds',
      });
    });

    it('RetryPath: a transient error is retried, then the loop goes on', async () => {
      const calls: string[] = [];
      const handlers = happyHandlers(calls);
      let failures = 2;
      const classify = handlers[StateName.classify]!;
      handlers[StateName.classify] = (event) => {
        if (failures-- > 0) throw namedError(WorkflowError.transientAws);
        return classify(event);
      };
      const output = await run(handlers);
      expect(output).toMatchObject({ notification: { message_id: 'm-1' } });
    });

    it('CatchPath: an unexpected error escalates with the error at $.error', async () => {
      const calls: string[] = [];
      const handlers = happyHandlers(calls);
      handlers[StateName.executeRepair] = () => {
        throw namedError(WorkflowError.executionRefused, 'policy no longer allows it');
      };
      const output = await run(handlers);
      expect(calls.at(-1)).toBe(StateName.escalate);
      expect(output).toMatchObject({
        error: { Error: WorkflowError.executionRefused },
        escalation: { message_id: 'm-2' },
      });
    });

    it('UnhealthyPath: a failed validation escalates; a no-op execution escalates', async () => {
      const unhealthy = happyHandlers([]);
      unhealthy[StateName.validate] = () => ({ healthy: false, observed: {} });
      expect(await run(unhealthy)).toMatchObject({ escalation: { message_id: 'm-2' } });

      const calls: string[] = [];
      const noOp = happyHandlers(calls);
      noOp[StateName.executeRepair] = () => ({ action: 'escalate', outcome: 'no_op' });
      await run(noOp);
      expect(calls).not.toContain(StateName.validate);
      expect(calls.at(-1)).toBe(StateName.escalate);
    });
  });
});
