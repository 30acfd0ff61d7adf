import { faultOptions } from '../../../cli/commands/simulate';
import { UsageError } from '../../../cli/errors';
import { faultFigures, faultReport } from '../../../local/faults/figures';
import { FaultInjector } from '../../../local/faults/injector';
import { checkInvariants, type IncidentFacts } from '../../../local/faults/invariants';
import { incidentOfExecution } from '../../../local/simulate/run';

/** The decisions of `calls` calls of one operation under `seed`. */
function decisions(injector: FaultInjector, seed: number, calls = 200): (string | undefined)[] {
  injector.begin(seed, 'scenarios/05-deploy-alarm-rollback.yaml');
  const made = Array.from({ length: calls }, () =>
    injector.decideCall('execute', 'CodePipelineClient', 'RollbackStageCommand'),
  );
  injector.end();
  return made;
}

describe('fault injector', () => {
  it('draws the same faults for the same seed and scenario, and others for another seed', () => {
    // Prepare
    const injector = new FaultInjector(0.2);

    // Act
    const first = decisions(injector, 7);
    const again = decisions(injector, 7);
    const other = decisions(injector, 8);

    // Assess
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    const hits = first.filter((kind) => kind !== undefined).length;
    expect(hits).toBeGreaterThan(20);
    expect(hits).toBeLessThan(60);
    // Outside an invocation the injector cannot kill one.
    expect(first).not.toContain('lambda_died');
  });

  it('injects nothing at rate 0 and into every call at rate 1, and counts what it injected', () => {
    // Prepare
    const never = new FaultInjector(0);
    const always = new FaultInjector(1);

    // Act
    const none = decisions(never, 1);
    always.begin(1, 'scope');
    const kinds = Array.from({ length: 50 }, () => always.decideHttp('github', 'POST', '/repos/o/r/pulls'));
    const counts = always.end();

    // Assess
    expect(none.every((kind) => kind === undefined)).toBe(true);
    expect(kinds.every((kind) => kind !== undefined)).toBe(true);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(50);
  });

  it('rejects a rate outside 0..1 and a negative seed', () => {
    expect(() => new FaultInjector(1.5)).toThrow(/from 0 to 1/);
    expect(() => new FaultInjector(0.1).begin(-1, 'x')).toThrow(/non-negative integer/);
  });

  it('chooses lambda_died only for calls made inside an invocation it can kill', async () => {
    // Prepare
    const injector = new FaultInjector(1);
    injector.begin(3, 'scope');

    // Act: every call is a fault; keep drawing until one is lambda_died.
    const outcome = injector.invoke('execute', async () => {
      for (;;) {
        const kind = injector.decideCall('execute', 'SSMClient', 'PutParameterCommand');
        if (kind === 'lambda_died') return 'would die here';
      }
    });

    // Assess: the decision is made inside the invocation, so dying is among the choices.
    await expect(outcome).resolves.toBe('would die here');
  });
});

describe('invariants', () => {
  const healthy: IncidentFacts = {
    outcome: 'resolved',
    auditSteps: ['triage', 'policy_decision', 'execute', 'validate', 'resolved'],
    chainOk: true,
    approvedSteps: [{ action: 'rollback_stage', parameters: { pipeline: 'p', stage: 'Deploy' } }],
    mutations: { 'codepipeline:RollbackStage': 1 },
    secretsFound: 0,
  };

  it('hold for an incident resolved with its one approved mutation', () => {
    expect(checkInvariants(healthy).every((result) => result.ok)).toBe(true);
  });

  it.each<[string, Partial<IncidentFacts>, string]>([
    ['a mutation performed twice', { mutations: { 'codepipeline:RollbackStage': 2 } }, 'mutations_once'],
    ['a mutation without an approved step', { mutations: { 'ssm:PutParameter': 1 } }, 'mutations_once'],
    ['a failed workflow', { outcome: 'failed' }, 'terminal_visible'],
    ['a resolution nobody was told of', { auditSteps: ['triage', 'execute'] }, 'terminal_visible'],
    ['a broken chain', { chainOk: false }, 'audit_chain'],
    ['a leaked secret', { secretsFound: 1 }, 'no_secrets'],
    [
      'a redrive that repeats a completed mutation',
      {
        mutations: { 'codepipeline:RollbackStage': 2 },
        redrive: { count: 1, mutationsBefore: { 'codepipeline:RollbackStage': 1 } },
      },
      'redrive_safe',
    ],
  ])('break on %s', (_what, change, broken) => {
    // Act
    const results = checkInvariants({ ...healthy, ...change });

    // Assess
    expect(results.filter((result) => !result.ok).map((result) => result.name)).toContain(broken);
  });

  it('are reported with the seed and the command that reproduces a broken one', () => {
    // Prepare: a rollback performed twice for one approved step.
    const doubled = {
      name: 'rollback',
      file: 'scenarios/05.yaml',
      outcome: 'resolved',
      seed: 4,
      passed: false,
      invariants: checkInvariants({ ...healthy, mutations: { 'codepipeline:RollbackStage': 2 } }),
    };

    // Act
    const figures = faultFigures([doubled], { rate: 0.2, seeds: [4] });

    // Assess
    expect(figures.held).toBe(3);
    expect(figures.checked).toBe(4);
    expect(figures.broken).toEqual([
      expect.objectContaining({
        invariant: 'mutations_once',
        seed: 4,
        reproduce: 'suture simulate scenarios/05.yaml --faults 0.2 --seed 4',
      }),
    ]);
    // Given the whole run's command, it is offered too (for breaks that hinge on a race).
    const inRun = faultFigures([doubled], {
      rate: 0.2,
      seeds: [3, 4],
      command: 'suture simulate scenarios --faults 0.2 --seed 3 --runs 2',
    });
    expect(inRun.broken[0]).toMatchObject({
      reproduce: 'suture simulate scenarios/05.yaml --faults 0.2 --seed 4',
      whole_run: 'suture simulate scenarios --faults 0.2 --seed 3 --runs 2',
    });
    expect(faultReport(inRun)).toContain(
      'or the whole run: suture simulate scenarios --faults 0.2 --seed 3 --runs 2',
    );
  });
});

describe('--faults options', () => {
  it('turn into seeds N … N+K-1 at the given rate', () => {
    expect(faultOptions('0.2', '5', '3')).toEqual({ rate: 0.2, seeds: [5, 6, 7] });
    expect(faultOptions(undefined, undefined, undefined)).toBeUndefined();
  });

  it.each([
    ['1.5', undefined, undefined, /probability per call from 0 to 1/],
    ['abc', undefined, undefined, /probability/],
    ['0.2', '-1', undefined, /--seed takes a whole number/],
    ['0.2', '1', '0', /--runs takes a whole number ≥ 1/],
    [undefined, '3', undefined, /only apply with --faults/],
  ])('refuse --faults %s --seed %s --runs %s', (rate, seed, runs, message) => {
    expect(() => faultOptions(rate, seed, runs)).toThrow(UsageError);
    expect(() => faultOptions(rate, seed, runs)).toThrow(message);
  });
});

describe('the incident a fault run checks', () => {
  it('comes from the workflow execution when every triage delivery died (its workflow still ran)', () => {
    // A delivery that dies after StartExecution left, with its retries dead-lettered, returns
    // no incident id; the simulator then reads the incident the workflow was started for.
    const input = JSON.stringify({ incident: { id: 'inc-0e59edb4' }, attempts: {} });
    expect(incidentOfExecution(input)).toBe('inc-0e59edb4');
    expect(incidentOfExecution('{}')).toBeUndefined();
    expect(incidentOfExecution('not json')).toBeUndefined();
  });

  it('names the workflow status and last state when an escalated incident lacks its notification', () => {
    const [terminal] = checkInvariants({
      outcome: 'escalated',
      workflow: { status: 'SUCCEEDED', lastState: 'Escalated' },
      auditSteps: [],
      chainOk: true,
      approvedSteps: [],
      mutations: {},
      secretsFound: 0,
    });
    expect(terminal).toMatchObject({ name: 'terminal_visible', ok: false });
    expect(terminal!.detail).toContain('workflow SUCCEEDED at Escalated');
    expect(terminal!.detail).toContain('audit steps: none');
  });
});
