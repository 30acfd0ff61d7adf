import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../cli/paths';
import { suture } from '../helpers/cli';

interface Result {
  name: string;
  passed: boolean;
  outcome: string;
  states: { name: string }[];
  expectations: { name: string; ok: boolean }[];
}

describe('suture simulate (the shipped scenarios through the module’s workflow, real handlers, emulated AWS)', () => {
  const work = mkdtempSync(join(tmpdir(), 'suture-simulate-test-'));
  const report = join(work, 'report.html');
  let results: Result[];
  let code: number | null;

  beforeAll(() => {
    const run = suture(['simulate', '--json', '--report', report]);
    code = run.code;
    if (run.code !== 0 && run.code !== 1) throw new Error(`simulate failed: ${run.stderr}`);
    results = JSON.parse(run.stdout) as Result[];
  }, 240_000);

  it('meets the expectations of every scenario in scenarios/', () => {
    // Assess
    const failed = results
      .filter((r) => !r.passed)
      .map((r) => `${r.name}: ${JSON.stringify(r.expectations.filter((e) => !e.ok))}`);
    expect(failed).toEqual([]);
    expect(code).toBe(0);
    expect(results.length).toBeGreaterThanOrEqual(13);
  });

  it('writes a self-contained HTML report whose timelines show every state each scenario went through', () => {
    // Assess
    const html = readFileSync(report, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(html).toContain(`${results.length}/${results.length} scenarios met their expectations`);
    for (const result of results) {
      for (const state of result.states) expect(html).toContain(`data-state="${state.name}"`);
    }
  });

  it('exits 1 when a scenario’s expectation does not hold, and 2 naming the file for an unusable scenario', () => {
    // Prepare
    const wrong = join(work, 'wrong.yaml');
    writeFileSync(
      wrong,
      readFileSync(join(repoRoot(), 'scenarios', '04-permissions-escalate.yaml'), 'utf8').replace(
        'outcome: escalated',
        'outcome: resolved',
      ),
    );
    const broken = join(work, 'broken.yaml');
    writeFileSync(broken, 'name: missing its failure\nexpect: {outcome: resolved}\n');

    // Act
    const mismatch = suture(['simulate', wrong]);
    const unusable = suture(['simulate', broken]);

    // Assess
    expect(mismatch.code).toBe(1);
    expect(mismatch.stdout).toContain('expected outcome "resolved", got "escalated"');
    expect(unusable.code).toBe(2);
    expect(unusable.stderr).toMatch(/broken\.yaml: failure/);
  }, 240_000);

  it('does not wake the loop for an event the module’s EventBridge rule does not match', () => {
    // Prepare: a SUCCEEDED action is green traffic.
    const green = join(work, 'green.yaml');
    writeFileSync(
      green,
      'name: green traffic\nfailure: {stage: Build, log: "all good"}\nevent: {state: SUCCEEDED}\nexpect: {outcome: ignored, workflows: 0}\n',
    );

    // Act
    const run = suture(['simulate', '--json', green]);

    // Assess
    expect(run.code).toBe(0);
    const [result] = JSON.parse(run.stdout) as (Result & { entered_loop: boolean })[];
    expect(result!.entered_loop).toBe(false);
  }, 240_000);
});
