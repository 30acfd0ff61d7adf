/**
 * Scores the deterministic classifier on labelled JSON Lines files (default: both shared dev
 * sets, `dev.jsonl` for test runners and `dev-aws.jsonl` for the AWS release plane).
 *
 *   npm run bench:classify [-- path ...]
 *   npx tsx bench/classify/run.ts [path ...]
 *
 * The data folder is `shared/data/ci-failures` in the nearest ancestor of the repository that has
 * one (a worktree sits deeper than the main checkout), or `$SUTURE_CI_FAILURES_DIR`.
 *
 * For each file: the machine, per-class precision/recall/F1, a confusion matrix, macro-F1 with
 * flaky_test and test_failure merged (one log cannot tell them apart), the unknown rate, the
 * precision of the predictions confident enough to unlock `auto` (≥ 0.8), and throughput on one
 * thread. A summary table of all files closes the report. Only ids, labels and predictions are
 * printed: the excerpts stay in the shared data folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import type { Classification, FailureClass } from '../../functions/commons/classify';
import { classifyLog } from '../../functions/commons/classify';
import { FAILURE_CLASSES } from '../../functions/commons/classify/schema';
import { machine, table } from '../common';

/** The policy's `classification_min_confidence`: at or above it a class may run in `auto`. */
const AUTO_CONFIDENCE = 0.8;
/** Minimum wall time of the throughput loop, so that a small file still gives a stable rate. */
const THROUGHPUT_MIN_MS = 1000;

interface LabelledLog {
  readonly id: string;
  readonly label: FailureClass;
  readonly log: string;
}

interface Prediction {
  readonly item: LabelledLog;
  readonly result: Classification;
}

interface ClassStats {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly support: number;
  readonly predicted: number;
}

const repoRoot = path.resolve(__dirname, '..', '..');
const known = new Set<string>(FAILURE_CLASSES);

function readLabelled(file: string): LabelledLog[] {
  const items: LabelledLog[] = [];
  readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .forEach((line, index) => {
      if (line.trim() === '') return;
      const value = JSON.parse(line) as { id?: unknown; label?: unknown; log?: unknown };
      if (typeof value.id !== 'string' || typeof value.log !== 'string' || typeof value.label !== 'string') {
        throw new Error(`${file}:${index + 1}: expected string id, label and log`);
      }
      if (!known.has(value.label)) throw new Error(`${file}:${index + 1}: unknown label ${value.label}`);
      items.push({ id: value.id, label: value.label as FailureClass, log: value.log });
    });
  return items;
}

const merge = (name: FailureClass): FailureClass => (name === 'flaky_test' ? 'test_failure' : name);

function stats(
  gold: readonly FailureClass[],
  predicted: readonly FailureClass[],
  name: FailureClass,
): ClassStats {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  gold.forEach((label, index) => {
    const guess = predicted[index];
    if (guess === name && label === name) tp += 1;
    else if (guess === name) fp += 1;
    else if (label === name) fn += 1;
  });
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, support: tp + fn, predicted: tp + fp };
}

/** Macro-F1 over the classes present in the gold labels; `unknown` predictions count as misses. */
function macroF1(gold: readonly FailureClass[], predicted: readonly FailureClass[]): number {
  const classes = [...new Set(gold)];
  return classes.reduce((sum, name) => sum + stats(gold, predicted, name).f1, 0) / classes.length;
}

const pct = (value: number) => `${(value * 100).toFixed(1)}%`;
const pad = (text: string, width: number) => text.padEnd(width);
const padLeft = (text: string, width: number) => text.padStart(width);

function printMachine(): void {
  const cpus = os.cpus();
  console.log('## Machine');
  console.log(`cpu:    ${cpus[0]?.model ?? 'unknown'} (${cpus.length} logical cores)`);
  console.log(`memory: ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`);
  console.log(`node:   ${process.version} on ${os.platform()} ${os.arch()}`);
}

function printPerClass(gold: FailureClass[], predicted: FailureClass[]): void {
  console.log('\n## Per class (flaky_test and test_failure separate)');
  console.log(
    `${pad('class', 24)}${padLeft('support', 8)}${padLeft('pred', 6)}${padLeft('P', 8)}${padLeft('R', 8)}${padLeft('F1', 8)}`,
  );
  for (const name of FAILURE_CLASSES) {
    const s = stats(gold, predicted, name);
    if (s.support === 0 && s.predicted === 0) continue;
    console.log(
      `${pad(name, 24)}${padLeft(String(s.support), 8)}${padLeft(String(s.predicted), 6)}` +
        `${padLeft(pct(s.precision), 8)}${padLeft(pct(s.recall), 8)}${padLeft(pct(s.f1), 8)}`,
    );
  }
}

function printConfusion(gold: FailureClass[], predicted: FailureClass[]): void {
  const abbreviation = (name: string) =>
    name
      .split('_')
      .map((part) => part.slice(0, 3))
      .join('_')
      .slice(0, 7);
  const columns = FAILURE_CLASSES.filter((name) => gold.includes(name) || predicted.includes(name));
  console.log('\n## Confusion matrix (rows: label, columns: prediction)');
  console.log(pad('', 24) + columns.map((name) => padLeft(abbreviation(name), 8)).join(''));
  for (const row of columns) {
    if (!gold.includes(row)) continue;
    const cells = columns.map((column) => {
      const count = gold.filter((label, index) => label === row && predicted[index] === column).length;
      return padLeft(count === 0 ? '.' : String(count), 8);
    });
    console.log(pad(row, 24) + cells.join(''));
  }
}

function printConfident(predictions: readonly Prediction[]): void {
  const confident = predictions.filter(
    (p) => p.result.class !== 'unknown' && p.result.confidence >= AUTO_CONFIDENCE,
  );
  const strict = confident.filter((p) => p.result.class === p.item.label).length;
  const merged = confident.filter((p) => merge(p.result.class) === merge(p.item.label)).length;
  const share = confident.length === 0 ? 'n/a' : pct(strict / confident.length);
  const shareMerged = confident.length === 0 ? 'n/a' : pct(merged / confident.length);
  console.log(`\n## Predictions with confidence ≥ ${AUTO_CONFIDENCE}`);
  console.log(`count: ${confident.length} of ${predictions.length}`);
  console.log(`accuracy (exact class): ${share} (${strict}/${confident.length})`);
  console.log(`accuracy (flaky/test merged): ${shareMerged} (${merged}/${confident.length})`);
}

function printMisses(predictions: readonly Prediction[]): void {
  const misses = predictions.filter((p) => merge(p.result.class) !== merge(p.item.label));
  console.log(`\n## Misses (flaky/test merged): ${misses.length}`);
  for (const { item, result } of misses) {
    console.log(
      `${pad(item.id, 12)}${pad(item.label, 24)}-> ${pad(result.class, 24)}${result.confidence.toFixed(3)}  ${result.signature ?? '-'}`,
    );
  }
}

function printThroughput(items: readonly LabelledLog[]): number {
  const started = performance.now();
  let classified = 0;
  while (performance.now() - started < THROUGHPUT_MIN_MS) {
    for (const item of items) classifyLog(item.log);
    classified += items.length;
  }
  const seconds = (performance.now() - started) / 1000;
  const meanChars = items.reduce((sum, item) => sum + item.log.length, 0) / Math.max(1, items.length);
  console.log('\n## Throughput');
  console.log(
    `${Math.round(classified / seconds)} logs/s (${classified} classifications, mean excerpt ${Math.round(meanChars)} chars, one thread)`,
  );
  return classified / seconds;
}

const DATA_FILES = ['dev.jsonl', 'dev-aws.jsonl'];

/** The shared data folder: `$SUTURE_CI_FAILURES_DIR`, else the nearest `<ancestor>/shared/data/ci-failures`. */
function dataDir(): string {
  const fromEnv = process.env.SUTURE_CI_FAILURES_DIR;
  if (fromEnv !== undefined && fromEnv !== '') return path.resolve(fromEnv);
  for (let dir = path.dirname(repoRoot); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'shared', 'data', 'ci-failures');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(
    'no shared/data/ci-failures folder above the repository; pass file paths or set SUTURE_CI_FAILURES_DIR',
  );
}

interface FileResult {
  readonly name: string;
  readonly logs: number;
  readonly macroMerged: number;
  readonly macroSeparate: number;
  readonly unknown: number;
  readonly confident: number;
  readonly confidentRight: number;
  readonly perSecond: number;
}

function runFile(file: string): FileResult {
  const items = readLabelled(file);
  const predictions: Prediction[] = items.map((item) => ({ item, result: classifyLog(item.log) }));
  const gold = predictions.map((p) => p.item.label);
  const predicted = predictions.map((p) => p.result.class);
  const name = path.basename(file);

  console.log(`\n# Classifier bench: ${name} (${items.length} logs)`);
  printPerClass(gold, predicted);
  printConfusion(gold, predicted);
  const correct = predictions.filter((p) => merge(p.result.class) === merge(p.item.label)).length;
  const unknown = predicted.filter((label) => label === 'unknown').length;
  const macroMerged = macroF1(gold.map(merge), predicted.map(merge));
  const macroSeparate = macroF1(gold, predicted);
  console.log('\n## Summary');
  console.log(`macro-F1, flaky_test + test_failure merged: ${macroMerged.toFixed(3)}`);
  console.log(`macro-F1, all classes separate:             ${macroSeparate.toFixed(3)}`);
  console.log(`accuracy, merged: ${pct(correct / items.length)} (${correct}/${items.length})`);
  console.log(`unknown: ${unknown} (${pct(unknown / items.length)})`);
  printConfident(predictions);
  printMisses(predictions);
  const perSecond = printThroughput(items);
  const confident = predictions.filter(
    (p) => p.result.class !== 'unknown' && p.result.confidence >= AUTO_CONFIDENCE,
  );
  return {
    name,
    logs: items.length,
    macroMerged,
    macroSeparate,
    unknown,
    confident: confident.length,
    confidentRight: confident.filter((p) => p.result.class === p.item.label).length,
    perSecond,
  };
}

function main(): void {
  const args = process.argv.slice(2);
  const files =
    args.length > 0 ? args.map((arg) => path.resolve(arg)) : DATA_FILES.map((f) => path.join(dataDir(), f));
  printMachine();
  const results = files.map(runFile);
  console.log('\n# Summary\n');
  console.log(
    table([
      [
        'set',
        'logs',
        'macro-F1 (flaky+test merged)',
        'macro-F1 (separate)',
        'unknown',
        'conf ≥ 0.8 right',
        'excerpts/s',
      ],
      ...results.map((r) => [
        r.name,
        String(r.logs),
        r.macroMerged.toFixed(3),
        r.macroSeparate.toFixed(3),
        `${r.unknown} (${pct(r.unknown / r.logs)})`,
        `${r.confidentRight}/${r.confident}${r.confident === 0 ? '' : ` (${pct(r.confidentRight / r.confident)})`}`,
        String(Math.round(r.perSecond)),
      ]),
    ]),
  );
  console.log('');
  for (const line of machine()) console.log(line);
}

main();
