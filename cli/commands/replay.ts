import { parseArgs } from 'node:util';
import { UsageError } from '../errors';
import { defaultBundlePaths } from '../policy/build';
import { loadReplayBundle } from '../replay/bundles';
import { replayAll, summariseResults } from '../replay/compare';
import { loadIncidents } from '../replay/incidents';
import { scenarioRecorder } from '../replay/scenarios';
import { FORMATS, renderReport, type Format } from '../replay/report';

/**
 * `suture replay --bundle CANDIDATE --incidents DIR [--baseline BUNDLE|DIR] [--format text|markdown|json]
 * [--accept-wider]`: policy backtesting. Re-decides every recorded incident under DIR with the
 * baseline (default: the repository's `policies/`, built) and the candidate, and reports the
 * decisions that change. Exit 1 when a change widens autonomy (deny → approval, deny → allow,
 * approval → allow) and `--accept-wider` is not given, 0 otherwise, 2 on unusable options,
 * incidents or bundles. See docs/replay.md.
 */
export async function replayCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      bundle: { type: 'string' },
      incidents: { type: 'string' },
      baseline: { type: 'string' },
      format: { type: 'string', default: 'text' },
      'accept-wider': { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.bundle)
    throw new UsageError('replay needs --bundle CANDIDATE (a built bundle or a policy directory)');
  if (!values.incidents) throw new UsageError('replay needs --incidents DIR (recorded incidents)');
  if (!(FORMATS as readonly string[]).includes(values.format)) {
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got ${values.format}`);
  }
  const format = values.format as Format;

  const incidents = await loadIncidents(values.incidents, {
    recordScenarios: scenarioRecorder((line) => process.stderr.write(`suture replay: ${line}\n`)),
  });
  for (const note of incidents.notes) process.stderr.write(`suture replay: note: ${note}\n`);
  if (incidents.cases.length === 0) {
    const skipped =
      incidents.notes.length > 0 ? ` (${incidents.notes.length} skipped, see the notes above)` : '';
    throw new UsageError(`${values.incidents} holds no recorded policy decisions to replay${skipped}`);
  }
  const candidate = await loadReplayBundle(values.bundle, 'candidate');
  const baseline = await loadReplayBundle(values.baseline ?? defaultBundlePaths().policyDir, 'baseline');

  const results = replayAll(incidents.cases, baseline.gate, candidate.gate);
  const summary = summariseResults(results);
  const acceptWider = values['accept-wider'];
  process.stdout.write(
    renderReport({ baseline, candidate, files: incidents.files, results, summary, acceptWider }, format),
  );
  if (summary.wider > 0 && !acceptWider) {
    process.stderr.write(
      `suture replay: ${summary.wider} decision change(s) widen autonomy; review them and pass --accept-wider to accept\n`,
    );
    return 1;
  }
  return 0;
}
