import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultBundlePaths } from '../../cli/policy/build';
import { repoRoot } from '../../cli/paths';
import { suture } from '../helpers/cli';

describe('suture replay of suture simulate scenario files', () => {
  const work = mkdtempSync(join(tmpdir(), 'suture-replay-scenarios-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('records each scenario’s decisions by running it through the local loop, then re-decides them', () => {
    // Prepare: two shipped scenarios, and a candidate where transient network failures may no
    // longer be retried.
    const incidents = join(work, 'incidents');
    mkdirSync(incidents);
    for (const name of ['02-transient-network-retry.yaml', '04-permissions-escalate.yaml']) {
      copyFileSync(join(repoRoot(), 'scenarios', name), join(incidents, name));
    }
    const candidate = join(work, 'candidate');
    cpSync(defaultBundlePaths().policyDir, candidate, { recursive: true });
    const dataFile = join(candidate, 'suture', 'config', 'data.json');
    const data = JSON.parse(readFileSync(dataFile, 'utf8')) as {
      classes: Record<string, { actions: string[] }>;
    };
    data.classes.transient_network!.actions = data.classes.transient_network!.actions.filter(
      (action) => action !== 'retry_stage',
    );
    writeFileSync(dataFile, JSON.stringify(data, null, 2));

    // Act
    const run = suture(['replay', '--bundle', candidate, '--incidents', incidents, '--format', 'json']);

    // Assess: the retry the loop allowed is now denied; the escalation does not change.
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('recording the decisions of 2 scenario file(s)');
    const report = JSON.parse(run.stdout) as {
      files: number;
      summary: { narrower: number; wider: number; unchanged: number };
      changes: {
        change: string;
        ref: string;
        action: string;
        baseline: { outcome: string };
        candidate: { outcome: string };
      }[];
    };
    expect(report.files).toBe(2);
    expect(report.summary).toMatchObject({ narrower: 1, wider: 0, unchanged: 1 });
    expect(report.changes).toEqual([
      expect.objectContaining({
        change: 'narrower',
        action: 'retry_stage',
        source: expect.stringMatching(/^02-transient-network-retry\.yaml \(simulated\)#seq \d+$/),
        recorded: 'allow',
        baseline: expect.objectContaining({ outcome: 'allow' }),
        candidate: expect.objectContaining({ outcome: 'deny' }),
      }),
    ]);
  }, 240_000);
});
