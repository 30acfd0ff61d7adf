import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../cli/paths';
import type { AuditRecord } from '../../functions/commons/audit';
import { parseDigest, verifyAgainstDigest } from '../../functions/commons/audit/digest';
import { chromium } from 'playwright-core';
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
  const audits = join(work, 'audits');
  let results: Result[];
  let code: number | null;

  beforeAll(() => {
    const run = suture(['simulate', '--json', '--report', report, '--audit-out', audits]);
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

  it('renders the report in headless Chromium with one drawn bar per state of every timeline', async () => {
    // Prepare: Debian's chromium (make test installs it), with the flags this closed network needs.
    const browser = await chromium.launch({
      executablePath: process.env.SUTURE_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage();

      // Act
      await page.goto(`file://${report}`);

      // Assess
      await expect(page.title()).resolves.toBe('Suture simulation report');
      const sections = page.locator('section');
      await expect(sections.count()).resolves.toBe(results.length);
      for (const [index, result] of results.entries()) {
        const bars = page.locator(`#scenario-${index} svg.timeline g.state rect`);
        await expect(bars.count()).resolves.toBe(result.states.length);
        for (let i = 0; i < result.states.length; i += 1) {
          const box = await bars.nth(i).boundingBox();
          expect(box?.width).toBeGreaterThan(0);
          expect(box?.height).toBeGreaterThan(0);
        }
      }
      const summary = await page.locator('#summary').innerText();
      expect(summary).toContain(`${results.length}/${results.length} scenarios met their expectations`);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('writes each scenario’s audit trail with --audit-out, intact and replayable', () => {
    // Prepare: every scenario whose event entered the loop opened an incident.
    const files = readdirSync(audits).sort();
    const written = files.filter((name) => name.endsWith('.audit.jsonl'));
    const opened = results.filter((r) => (r as Result & { incident_id?: string }).incident_id);
    expect(written).toHaveLength(opened.length);
    expect(written).toContain('02-transient-network-retry.audit.jsonl');
    // Every incident that ended with a record was sealed, and its newest digest sits beside it.
    const ended = results.filter((r) => ['resolved', 'escalated', 'loop_detected'].includes(r.outcome));
    expect(ended.length).toBeGreaterThan(0);
    for (const result of ended) {
      const audit = (result as Result & { audit: { sealed: boolean; digests: number } }).audit;
      expect({ scenario: result.name, sealed: audit.sealed }).toEqual({
        scenario: result.name,
        sealed: true,
      });
    }
    expect(files.filter((name) => name.endsWith('.digest.json'))).toHaveLength(ended.length);

    // Act
    const verify = suture([
      'audit',
      'verify',
      '--file',
      join(audits, '02-transient-network-retry.audit.jsonl'),
    ]);
    // The run verified each digest's signature with KMS (audit.sealed); the key went with the
    // run's emulator, so here the written digest is held against the written trail.
    const trail = readFileSync(join(audits, '02-transient-network-retry.audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditRecord);
    const digest = parseDigest(
      JSON.parse(readFileSync(join(audits, '02-transient-network-retry.digest.json'), 'utf8')),
    );
    const replay = suture(['replay', '--bundle', join(repoRoot(), 'policies'), '--incidents', audits]);

    // Assess: the chain is intact, and the same policy decides every recorded decision the same.
    expect(verify.code).toBe(0);
    expect(verifyAgainstDigest(trail, digest)).toMatchObject({ ok: true, reasons: [] });
    expect(verifyAgainstDigest(trail.slice(0, -1), digest).reasons.map((r) => r.code)).toContain('truncated');
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain('no decision changes');
    expect(replay.stdout).toMatch(
      new RegExp(`replayed \\d+ recorded decisions from ${written.length} files`),
    );
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

  it('runs a scenario that seeds parameter history twice in one run, each time from a clean history', () => {
    // Prepare
    const drift = join(repoRoot(), 'scenarios', '06-config-drift-revert-after-approval.yaml');
    const trails = join(work, 'twice');

    // Act
    const run = suture(['simulate', '--json', '--audit-out', trails, drift, drift]);

    // Assess
    expect(run.code).toBe(0);
    const twice = JSON.parse(run.stdout) as (Result & { incident_id: string })[];
    expect(twice.map((r) => [r.passed, r.outcome])).toEqual([
      [true, 'resolved'],
      [true, 'resolved'],
    ]);
    // Each run of the scenario keeps its own audit trail.
    const files = readdirSync(trails).sort();
    expect(files).toEqual([
      '06-config-drift-revert-after-approval-2.audit.jsonl',
      '06-config-drift-revert-after-approval-2.digest.json',
      '06-config-drift-revert-after-approval.audit.jsonl',
      '06-config-drift-revert-after-approval.digest.json',
    ]);
    const incidents = files
      .filter((name) => name.endsWith('.audit.jsonl'))
      .map(
        (name) =>
          (JSON.parse(readFileSync(join(trails, name), 'utf8').split('\n')[0]!) as { incident_id: string })
            .incident_id,
      );
    expect(incidents.sort()).toEqual(twice.map((r) => r.incident_id).sort());
  }, 240_000);
});
