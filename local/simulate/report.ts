import type { UnusedGrant } from '../iam/replay';
import type { ScenarioResult } from './run';

const escape = (text: unknown) =>
  String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** The end-of-run text: per scenario, a timeline with durations, the decision, actions, validation, audit. */
export function textReport(results: readonly ScenarioResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${r.passed ? '✓' : '✗'} ${r.name} — ${r.outcome}`);
    if (!r.entered_loop) lines.push('    the event did not match the EventBridge rule: the loop never woke');
    for (const s of r.states) {
      const offset = s.startedAt - r.started_at;
      lines.push(
        `    +${String(offset).padStart(5)} ms  ${s.name.padEnd(18)} ${String(s.endedAt - s.startedAt).padStart(5)} ms${s.retries ? `  retried ×${s.retries}` : ''}${s.error ? `  ${s.error.Error}` : ''}`,
      );
    }
    if (r.decision) {
      lines.push(
        `    decision: ${r.decision.outcome} for ${r.decision.proposal.action} (${r.decision.proposal.source}), bundle ${r.decision.bundle_revision.slice(0, 19)}…`,
      );
      for (const reason of r.decision.reasons) lines.push(`      - ${reason.code}: ${reason.msg}`);
    }
    lines.push(`    actions executed: ${r.actions.length ? r.actions.join(', ') : 'none'}`);
    for (const url of r.pull_requests ?? []) lines.push(`    pull request: ${url}`);
    if (r.validation)
      lines.push(`    validation: ${r.validation.healthy ? 'healthy' : 'unhealthy'} (observed)`);
    if (r.incident_id) {
      lines.push(
        `    audit: ${r.audit.records} records, chain ${r.audit.chain_ok ? 'verifies' : 'BROKEN'} (${r.audit.steps.join(' → ')})`,
      );
    }
    for (const e of r.expectations.filter((x) => !x.ok)) {
      lines.push(`    expected ${e.name} ${JSON.stringify(e.expected)}, got ${JSON.stringify(e.actual)}`);
    }
  }
  const passed = results.filter((r) => r.passed).length;
  lines.push('', `${passed}/${results.length} scenarios met their expectations`);
  return `${lines.join('\n')}\n`;
}

/**
 * A self-contained HTML report (no scripts, no external assets): per scenario the timeline
 * drawn as bars, one per state, plus the decision with its reasons, the actions and checks.
 */
export function htmlReport(results: readonly ScenarioResult[], generatedAt = new Date()): string {
  const sections = results.map((r, index) => {
    const span = Math.max(1, ...r.states.map((s) => s.endedAt - r.started_at));
    const rowHeight = 22;
    const width = 720;
    const label = 150;
    const bars = r.states
      .map((s, i) => {
        const x = label + ((s.startedAt - r.started_at) / span) * (width - label - 60);
        const w = Math.max(2, ((s.endedAt - s.startedAt) / span) * (width - label - 60));
        const y = i * rowHeight + 4;
        const cls = s.error ? 'bar error' : 'bar';
        return `<g class="state" data-state="${escape(s.name)}"><text x="0" y="${y + 14}">${escape(s.name)}</text><rect class="${cls}" x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="16"><title>${escape(s.name)}: ${s.endedAt - s.startedAt} ms</title></rect><text x="${(x + w + 4).toFixed(1)}" y="${y + 14}" class="ms">${s.endedAt - s.startedAt} ms</text></g>`;
      })
      .join('');
    const svg = r.states.length
      ? `<svg class="timeline" role="img" aria-label="timeline of ${escape(r.name)}" width="${width}" height="${r.states.length * rowHeight + 8}" xmlns="http://www.w3.org/2000/svg">${bars}</svg>`
      : '<p class="muted">No workflow ran.</p>';
    const reasons = r.decision
      ? `<p>Decision: <strong>${escape(r.decision.outcome)}</strong> for <code>${escape(r.decision.proposal.action)}</code> (${escape(r.decision.proposal.source)}), bundle <code>${escape(r.decision.bundle_revision.slice(0, 19))}…</code></p><ul>${r.decision.reasons.map((x) => `<li><code>${escape(x.code)}</code> ${escape(x.msg)}</li>`).join('')}</ul>`
      : '';
    const checks = r.expectations
      .map(
        (e) =>
          `<li class="${e.ok ? 'ok' : 'fail'}">${e.ok ? '✓' : '✗'} ${escape(e.name)}: expected ${escape(JSON.stringify(e.expected))}, got ${escape(JSON.stringify(e.actual))}</li>`,
      )
      .join('');
    return `<section id="scenario-${index}" class="${r.passed ? 'passed' : 'failed'}"><h2>${r.passed ? '✓' : '✗'} ${escape(r.name)}</h2><p>Outcome: <strong>${escape(r.outcome)}</strong> · ${r.workflows} workflow(s) for ${r.deliveries} deliveries · actions: ${r.actions.length ? r.actions.map((a) => `<code>${escape(a)}</code>`).join(', ') : 'none'}${r.validation ? ` · validation: ${r.validation.healthy ? 'healthy' : 'unhealthy'}` : ''} · audit: ${r.audit.records} records, chain ${r.audit.chain_ok ? 'verifies' : 'broken'}</p>${svg}${reasons}<ul class="checks">${checks}</ul></section>`;
  });
  const passed = results.filter((r) => r.passed).length;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Suture simulation report</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1f24;max-width:960px}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
section{border-top:1px solid #d0d7de;padding-top:.5rem}
.bar{fill:#2f81f7}.bar.error{fill:#cf222e}.ms{fill:#57606a;font-size:11px}
svg text{font-size:12px}.ok{color:#1a7f37}.fail{color:#cf222e}.muted{color:#57606a}
code{background:#f6f8fa;padding:0 .2em}
</style></head><body>
<h1>Suture simulation report</h1>
<p id="summary">${passed}/${results.length} scenarios met their expectations · generated ${escape(generatedAt.toISOString())}</p>
${sections.join('\n')}
</body></html>
`;
}

/**
 * The grants of the module's roles that no call of the run used, per function: the place to
 * look for least privilege. Not every entry is excess (a scenario set exercises some paths
 * only), but each is a grant no shipped scenario needed.
 */
export function unusedGrantsReport(grants: readonly UnusedGrant[]): string {
  const lines = ['', `IAM replay: ${grants.length} grant(s) of the module's roles that no call used`];
  let principal = '';
  for (const grant of grants) {
    if (grant.principal !== principal) {
      principal = grant.principal;
      lines.push(`  ${principal}`);
    }
    const what = grant.action
      ? `action ${grant.action}`
      : grant.resource
        ? `resource ${grant.resource}`
        : 'the whole statement';
    lines.push(`    ${grant.policy}/${grant.sid}: ${what}`);
  }
  return `${lines.join('\n')}\n`;
}
