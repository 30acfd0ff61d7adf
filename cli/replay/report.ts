import { isAbsolute, relative, resolve } from 'node:path';
import type { ReplayBundle } from './bundles';
import type { ReplayResult, ReplaySummary } from './compare';

/** Output formats of `suture replay`. */
export const FORMATS = ['text', 'markdown', 'json'] as const;
export type Format = (typeof FORMATS)[number];

/** Everything a report shows. */
export interface ReplayReport {
  readonly baseline: ReplayBundle;
  readonly candidate: ReplayBundle;
  readonly files: number;
  readonly results: readonly ReplayResult[];
  readonly summary: ReplaySummary;
  readonly acceptWider: boolean;
}

/** Renders the report in one of {@link FORMATS}. */
export function renderReport(report: ReplayReport, format: Format): string {
  switch (format) {
    case 'markdown':
      return markdown(report);
    case 'json':
      return `${JSON.stringify(json(report), null, 2)}\n`;
    default:
      return text(report);
  }
}

function changes(report: ReplayReport): ReplayResult[] {
  return report.results.filter((result) => result.kind !== 'unchanged');
}

function shortRevision(bundle: ReplayBundle): string {
  const revision = bundle.gate.revision;
  return revision.startsWith('sha256:') ? revision.slice(0, 'sha256:'.length + 12) : revision;
}

function describeBundle(bundle: ReplayBundle): string {
  return `${shortRevision(bundle)} (${displayPath(bundle.source)}${bundle.built ? ', built from source' : ''})`;
}

/** A path relative to the working directory when it lies inside it, as given otherwise. */
function displayPath(path: string): string {
  const inside = relative(process.cwd(), resolve(path));
  return inside === '' ? '.' : inside.startsWith('..') || isAbsolute(inside) ? path : inside;
}

function summaryLine(summary: ReplaySummary): string {
  return `${summary.decisions} decisions: ${summary.wider} wider, ${summary.narrower} narrower, ${summary.reasons} reasons only, ${summary.unchanged} unchanged`;
}

function codeDelta(result: ReplayResult): string {
  return [...result.added.map((code) => `+${code}`), ...result.removed.map((code) => `-${code}`)].join(' ');
}

function transition(result: ReplayResult): string {
  const mode = (side: ReplayResult['baseline']) =>
    result.baseline.mode !== result.candidate.mode ? ` (${side.mode})` : '';
  return `${result.baseline.outcome}${mode(result.baseline)} → ${result.candidate.outcome}${mode(result.candidate)}`;
}

function text(report: ReplayReport): string {
  const lines = [
    `baseline   ${describeBundle(report.baseline)}`,
    `candidate  ${describeBundle(report.candidate)}`,
    `replayed ${report.summary.decisions} recorded decisions from ${report.files} files, each as of its recorded context.now`,
    '',
  ];
  const changed = changes(report);
  if (changed.length === 0) {
    lines.push(`no decision changes (${report.summary.decisions} decisions replayed)`);
    return `${lines.join('\n')}\n`;
  }
  const idWidth = Math.max(...changed.map((result) => result.id.length));
  const actionWidth = Math.max(...changed.map((result) => result.action.length));
  for (const result of changed) {
    lines.push(
      [
        result.kind.toUpperCase().padEnd(8),
        result.id.padEnd(idWidth),
        result.action.padEnd(actionWidth),
        transition(result),
        codeDelta(result),
        `(${result.ref})`,
      ]
        .filter((part) => part !== '')
        .join('  '),
    );
  }
  lines.push('', summaryLine(report.summary));
  return `${lines.join('\n')}\n`;
}

/** A value inside a code span in a table cell: pipes would end the cell, backticks the span. */
function code(value: string): string {
  return `\`${value.replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

function codes(list: readonly string[]): string {
  return list.length === 0 ? '' : list.map(code).join(' ');
}

const KIND_LABEL: Readonly<Record<ReplayResult['kind'], string>> = {
  wider: '⚠️ wider',
  narrower: 'narrower',
  reasons: 'reasons',
  unchanged: 'unchanged',
};

function markdown(report: ReplayReport): string {
  const { summary } = report;
  const lines = [
    '### Policy replay',
    '',
    `Baseline ${code(shortRevision(report.baseline))} → candidate ${code(shortRevision(report.candidate))}: ` +
      `${summary.decisions} recorded decisions from ${report.files} files, each decided as of its recorded \`context.now\`.`,
    '',
  ];
  const changed = changes(report);
  if (changed.length === 0) {
    lines.push('**No decision changes.**');
    return `${lines.join('\n')}\n`;
  }
  lines.push(
    '| change | incident | action | baseline | candidate | reasons added | reasons removed | recorded in |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const result of changed) {
    const emphasise = (outcome: string) => (result.kind === 'wider' ? `**${outcome}**` : outcome);
    const side = (decision: ReplayResult['baseline']) =>
      result.baseline.mode !== result.candidate.mode
        ? `${decision.outcome} (${decision.mode})`
        : decision.outcome;
    lines.push(
      `| ${KIND_LABEL[result.kind]} | ${code(result.id)} | ${code(result.action)} | ${side(result.baseline)} | ${emphasise(side(result.candidate))} | ${codes(result.added)} | ${codes(result.removed)} | ${code(result.ref)} |`,
    );
  }
  lines.push(
    '',
    `**${summary.wider} wider** · ${summary.narrower} narrower · ${summary.reasons} reasons only · ${summary.unchanged} unchanged`,
  );
  if (summary.wider > 0) {
    lines.push(
      '',
      report.acceptWider
        ? `> [!NOTE]\n> ${summary.wider} change(s) widen autonomy; accepted with \`--accept-wider\`.`
        : `> [!WARNING]\n> ${summary.wider} change(s) widen autonomy. Review them; the replay check passes only with \`--accept-wider\`.`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function json(report: ReplayReport): unknown {
  const bundle = (item: ReplayBundle) => ({
    source: item.source,
    built: item.built,
    revision: item.gate.revision,
    sha256: item.gate.sha256,
  });
  return {
    baseline: bundle(report.baseline),
    candidate: bundle(report.candidate),
    files: report.files,
    summary: report.summary,
    widens_autonomy: report.summary.wider > 0,
    accepted_wider: report.acceptWider,
    changes: changes(report).map((result) => ({
      incident: result.id,
      source: result.ref,
      action: result.action,
      change: result.kind,
      baseline: result.baseline,
      candidate: result.candidate,
      added: result.added,
      removed: result.removed,
      ...(result.recorded ? { recorded: result.recorded } : {}),
    })),
  };
}
