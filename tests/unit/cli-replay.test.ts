import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPolicyBundle, defaultBundlePaths } from '../../cli/policy/build';
import { repoRoot } from '../../cli/paths';
import { GENESIS_HASH, recordHash, type AuditRecord } from '../../functions/commons/audit';
import { suture } from '../helpers/cli';
import { bundleFile, patched, transientRetryInput } from '../helpers/policy';

const root = repoRoot();
const work = mkdtempSync(join(tmpdir(), 'suture-replay-'));
const incidents = join(work, 'incidents');

type PolicyData = {
  classes: Record<string, { mode: string; actions: string[] }>;
};

/** Copies policies/ (with its .manifest) and edits data.json, as a policy author does. */
function policyCopy(name: string, edit: (data: PolicyData) => void): string {
  const dir = join(work, name);
  cpSync(defaultBundlePaths().policyDir, dir, { recursive: true });
  const dataFile = join(dir, 'suture', 'config', 'data.json');
  const data = JSON.parse(readFileSync(dataFile, 'utf8')) as PolicyData;
  edit(data);
  writeFileSync(dataFile, JSON.stringify(data, null, 2));
  return dir;
}

/** A hash-chained audit export of one incident, as `suture audit verify` reads it. */
function auditChain(incidentId: string, steps: [string, unknown][]): AuditRecord[] {
  const records: AuditRecord[] = [];
  steps.forEach(([step, data], seq) => {
    const unsigned = {
      incident_id: incidentId,
      seq,
      step,
      at: `2026-11-23T10:00:0${seq}.000Z`,
      data,
      redaction: { total: 0, byRule: {}, hashes: [] },
      prev_hash: records.at(-1)?.hash ?? GENESIS_HASH,
    };
    records.push({ ...unsigned, hash: recordHash(unsigned) });
  });
  return records;
}

/** A transient network failure in myPipeline/Build, recorded step by step by the loop. */
function recordedRetryChain(): AuditRecord[] {
  const gateInput = patched(transientRetryInput(), {
    incident: { id: 'inc-audit-0001', stage: 'Build', action: 'Build' },
    proposal: { parameters: { stage: 'Build' } },
  });
  const { class: failureClass, confidence, ...facts } = gateInput.incident;
  const proposal = gateInput.proposal;
  return auditChain('inc-audit-0001', [
    [
      'triage',
      {
        incident: {
          ...facts,
          source: 'codepipeline',
          detail_type: 'CodePipeline Action Execution State Change',
          state: 'FAILED',
          event_id: 'evt-1',
          event_time: '2026-11-23T09:59:00Z',
          detected_at: '2026-11-23T09:59:02Z',
          summary: 'connection reset by peer',
        },
        attempts: gateInput.context.attempts,
        execution_arn: 'arn:aws:states:us-west-2:123456789012:execution:suture:inc-audit-0001',
      },
    ],
    ['classify', { classification: { class: failureClass, confidence, signature: 'econnreset' } }],
    ['plan', { class: failureClass, proposal }],
    [
      'policy_decision',
      {
        decision: { allow: true, require_approval: false, mode: 'auto', reasons: [] },
        proposal,
        context: gateInput.context,
      },
    ],
  ]);
}

/** A config drift: suggest mode in today's policy, so it needs approval. */
function configRevertInput() {
  const input = patched(transientRetryInput(), {
    incident: { id: 'inc-gen-config-0001', class: 'config_error', confidence: 0.92 },
    proposal: { action: 'revert_parameter', rationale: 'the parameter changed minutes before the failure' },
  });
  return {
    ...input,
    proposal: { ...input.proposal, parameters: { parameter_name: '/myPipeline/db_endpoint', to_version: 3 } },
  };
}

function malformedDir(name: string, file: string, content: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '01-good.json'), JSON.stringify(transientRetryInput()));
  writeFileSync(join(dir, file), content);
  return dir;
}

let narrowerDir: string;
let widerBundle: string;

beforeAll(() => {
  // Prepare: the shipped example inputs, generated inputs, an audit export and a scenario.
  mkdirSync(incidents);
  for (const name of readdirSync(join(root, 'examples', 'policy-inputs'))) {
    cpSync(join(root, 'examples', 'policy-inputs', name), join(incidents, name));
  }
  writeFileSync(join(incidents, 'gen-config.json'), JSON.stringify(configRevertInput()));
  mkdirSync(join(incidents, 'audit'));
  writeFileSync(join(incidents, 'audit', 'inc-audit-0001.json'), JSON.stringify(recordedRetryChain()));
  writeFileSync(
    join(incidents, 'scenario.json'),
    JSON.stringify({
      name: 'an escalation of an unknown failure',
      incidents: [
        patched(transientRetryInput(), {
          incident: { id: 'inc-scenario-0001', class: 'unknown' },
          proposal: { action: 'escalate', parameters: { reason: 'nobody knows' } },
        }),
      ],
    }),
  );
  // Narrower: transient network failures may no longer be retried (left as a policy directory).
  narrowerDir = policyCopy('narrower', (data) => {
    data.classes.transient_network!.actions = data.classes.transient_network!.actions.filter(
      (action) => action !== 'retry_stage',
    );
  });
  // Wider: config errors run without approval (built into a bundle, as CI would).
  widerBundle = join(work, 'wider.tar.gz');
  buildPolicyBundle({
    policyDir: policyCopy('wider', (data) => {
      data.classes.config_error!.mode = 'auto';
    }),
    outFile: widerBundle,
  });
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('suture replay', () => {
  it('lists the narrowing changes of a candidate policy directory and exits 0', () => {
    // Act
    const { code, stdout, stderr } = suture(['replay', '--bundle', narrowerDir, '--incidents', incidents]);

    // Assess
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const changed = stdout.split('\n').filter((line) => /^(WIDER|NARROWER|REASONS) /.test(line));
    expect(changed.map((line) => line.split(/\s+/).slice(0, 2))).toEqual([
      ['NARROWER', 'inc-audit-0001'],
      ['NARROWER', 'inc-pipeline-0002'],
      ['REASONS', 'inc-pipeline-0006'],
      ['NARROWER', 'inc-release-0003'],
      ['NARROWER', 'inc-release-0007'],
    ]);
    expect(changed[0]).toContain('retry_stage  allow → deny  +action_not_allowed_for_class -auto_allowed');
    expect(changed[0]).toContain('(audit/inc-audit-0001.json#seq 3)');
    expect(changed[3]).toContain('approval → deny');
    expect(stdout).toContain('10 decisions: 0 wider, 4 narrower, 1 reasons only, 5 unchanged');
  });

  it('exits 1 when a change widens autonomy, naming the incident and the reason codes', () => {
    // Act
    const { code, stdout, stderr } = suture(['replay', '--bundle', widerBundle, '--incidents', incidents]);

    // Assess
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /WIDER\s+inc-gen-config-0001\s+revert_parameter\s+approval \(suggest\) → allow \(auto\)\s+\+auto_allowed -mode_suggest\s+\(gen-config\.json\)/,
    );
    expect(stdout).toContain('10 decisions: 1 wider, 0 narrower, 0 reasons only, 9 unchanged');
    expect(stderr).toContain('1 decision change(s) widen autonomy');
    expect(stderr).toContain('--accept-wider');
  });

  it('exits 0 on a widening change when --accept-wider is given', () => {
    // Act
    const { code, stdout } = suture([
      'replay',
      '--bundle',
      widerBundle,
      '--incidents',
      incidents,
      '--accept-wider',
    ]);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('WIDER');
  });

  it('says "no decision changes" for a candidate identical to the baseline', () => {
    // Act
    const { code, stdout } = suture([
      'replay',
      '--bundle',
      bundleFile,
      '--baseline',
      defaultBundlePaths().policyDir,
      '--incidents',
      incidents,
    ]);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('no decision changes (10 decisions replayed)');
    expect(stdout).not.toMatch(/^(WIDER|NARROWER|REASONS) /m);
  });

  it('writes a pull-request comment table with --format markdown', () => {
    // Act
    const { code, stdout } = suture([
      'replay',
      '--bundle',
      widerBundle,
      '--incidents',
      incidents,
      '--format',
      'markdown',
    ]);

    // Assess
    expect(code).toBe(1);
    expect(stdout).toContain(
      '| change | incident | action | baseline | candidate | reasons added | reasons removed | recorded in |',
    );
    expect(stdout).toContain(
      '| ⚠️ wider | `inc-gen-config-0001` | `revert_parameter` | approval (suggest) | **allow (auto)** | `auto_allowed` | `mode_suggest` | `gen-config.json` |',
    );
    expect(stdout).toContain('> [!WARNING]');
  });

  it('reports machine-readable changes with --format json, with the recorded outcome of audit cases', () => {
    // Act
    const { code, stdout } = suture([
      'replay',
      '--bundle',
      narrowerDir,
      '--baseline',
      bundleFile,
      '--incidents',
      incidents,
      '--format',
      'json',
    ]);

    // Assess
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as {
      summary: Record<string, number>;
      widens_autonomy: boolean;
      candidate: { built: boolean };
      changes: { incident: string; change: string; recorded?: string }[];
    };
    expect(report.summary).toEqual({ decisions: 10, wider: 0, narrower: 4, reasons: 1, unchanged: 5 });
    expect(report.widens_autonomy).toBe(false);
    expect(report.candidate.built).toBe(true);
    expect(report.changes[0]).toMatchObject({
      incident: 'inc-audit-0001',
      change: 'narrower',
      recorded: 'allow',
    });
  });

  it('uses the incident a policy_decision record holds, without triage or classify records', () => {
    // Prepare
    const dir = join(work, 'decision-with-incident');
    mkdirSync(dir, { recursive: true });
    const input = patched(transientRetryInput(), { incident: { id: 'inc-audit-0002' } });
    const chain = auditChain('inc-audit-0002', [
      [
        'policy_decision',
        { decision: {}, incident: input.incident, proposal: input.proposal, context: input.context },
      ],
    ]);
    writeFileSync(join(dir, 'chain.jsonl'), chain.map((record) => JSON.stringify(record)).join('\n'));

    // Act
    const { code, stdout } = suture(['replay', '--bundle', narrowerDir, '--incidents', dir]);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toMatch(/NARROWER\s+inc-audit-0002\s+retry_stage\s+allow → deny/);
  });

  it('replays a recorded plan with its follow-up steps', () => {
    // Prepare: a revert followed by the retry of the failed stage, and a candidate policy that
    // no longer lets anything follow a revert.
    const dir = join(work, 'decision-of-a-plan');
    mkdirSync(dir, { recursive: true });
    const input = configRevertInput();
    const then = [
      {
        action: 'retry_stage',
        parameters: {
          pipeline: 'myPipeline',
          stage: input.incident.stage,
          execution_id: input.incident.execution_id,
        },
        source: 'playbook',
        rationale: 'a revert re-runs nothing; the retry lets validation observe the repair',
        confidence: input.proposal.confidence,
      },
    ];
    const chain = auditChain('inc-plan-0001', [
      [
        'policy_decision',
        {
          decision: { allow: false, require_approval: true, mode: 'suggest', reasons: [] },
          incident: { ...input.incident, id: 'inc-plan-0001' },
          proposal: input.proposal,
          then,
          context: input.context,
        },
      ],
    ]);
    writeFileSync(join(dir, 'chain.jsonl'), chain.map((record) => JSON.stringify(record)).join('\n'));
    const noPlans = policyCopy('no-plans', (data) => {
      delete (data.classes.config_error as { resume_after?: unknown }).resume_after;
    });

    // Act
    const { code, stdout } = suture(['replay', '--bundle', noPlans, '--incidents', dir, '--format', 'json']);

    // Assess: the plan was decided whole (with the baseline: one approval), and is now denied.
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as {
      changes: {
        change: string;
        action: string;
        baseline: { outcome: string };
        candidate: { outcome: string; codes: string[] };
      }[];
    };
    expect(report.changes).toEqual([
      expect.objectContaining({
        change: 'narrower',
        action: 'revert_parameter',
        baseline: expect.objectContaining({ outcome: 'approval' }),
        candidate: expect.objectContaining({ outcome: 'deny', codes: ['plan_step_not_allowed'] }),
      }),
    ]);
  });

  it.each([
    ['a file that is not JSON', 'broken.json', '{"incident": ', 'broken.json is not valid JSON'],
    ['a file of another shape', 'other.json', '{"hello": "world"}', 'other.json is not a recorded incident'],
    [
      'a policy input with a wrong field',
      'bad-input.json',
      JSON.stringify(patched(transientRetryInput(), { incident: { confidence: 1.5 } })),
      'bad-input.json is not a usable policy input: incident.confidence must be ≤ 1',
    ],
    [
      'a simulate scenario that does not validate (checked before anything runs)',
      'flaky.yaml',
      'name: flaky test\nfailure:\n  stage: Build\n  colour: blue\n',
      'flaky.yaml: failure: Unrecognized key: "colour"',
    ],
    [
      'an audit export whose decision has no incident to rebuild',
      'chain.json',
      JSON.stringify(
        auditChain('inc-x', [
          [
            'policy_decision',
            { proposal: transientRetryInput().proposal, context: transientRetryInput().context },
          ],
        ]),
      ),
      'chain.json policy_decision (incident inc-x, seq 0) records no incident',
    ],
  ])('exits 2 naming the file for %s', (name, file, content, message) => {
    // Prepare
    const dir = malformedDir(name.replace(/\W+/g, '-'), file, content);

    // Act
    const { code, stdout, stderr } = suture(['replay', '--bundle', bundleFile, '--incidents', dir]);

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(join(dir, file));
    expect(stderr).toContain(message);
  });

  it('exits 2 with opa’s message when the candidate policy does not build', () => {
    // Prepare
    const broken = policyCopy('broken', () => undefined);
    writeFileSync(
      join(broken, 'suture', 'remediation', 'decision.rego'),
      `${readFileSync(join(broken, 'suture', 'remediation', 'decision.rego'), 'utf8')}\nbroken := \n`,
    );

    // Act
    const { code, stderr } = suture(['replay', '--bundle', broken, '--incidents', incidents]);

    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain(`candidate ${broken} does not build`);
    expect(stderr).toContain('rego_parse_error');
  });

  it.each([
    [
      'an unknown option',
      ['--bundle', 'BUNDLE', '--incidents', 'DIR', '--frobnicate'],
      "Unknown option '--frobnicate'",
    ],
    ['no --bundle', ['--incidents', 'DIR'], 'replay needs --bundle CANDIDATE'],
    [
      'a missing incidents directory',
      ['--bundle', 'BUNDLE', '--incidents', '/nonexistent/incidents'],
      'incidents directory /nonexistent/incidents does not exist',
    ],
    [
      'a missing bundle',
      ['--bundle', '/nonexistent/bundle.tar.gz', '--incidents', 'DIR'],
      'candidate /nonexistent/bundle.tar.gz does not exist',
    ],
    [
      'a file that is no bundle',
      ['--bundle', 'NOT_A_BUNDLE', '--incidents', 'DIR'],
      'cannot be used: bundle is not a readable .tar.gz archive',
    ],
    [
      'a directory without .manifest',
      ['--bundle', 'POLICY_SUBDIR', '--incidents', 'DIR'],
      'is a directory without a .manifest',
    ],
    [
      'an unknown format',
      ['--bundle', 'BUNDLE', '--incidents', 'DIR', '--format', 'html'],
      '--format must be one of text, markdown, json',
    ],
  ])('exits 2 for %s', (_name, args, message) => {
    // Prepare
    const resolved: Record<string, string> = {
      BUNDLE: bundleFile,
      DIR: incidents,
      NOT_A_BUNDLE: join(incidents, 'gen-config.json'),
      POLICY_SUBDIR: join(defaultBundlePaths().policyDir, 'suture'),
    };

    // Act
    const { code, stdout, stderr } = suture(['replay', ...args.map((arg) => resolved[arg] ?? arg)]);

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
  });
});
