import { cpus, loadavg, totalmem } from 'node:os';

/** Lines that describe the machine a benchmark ran on (printed with every table). */
export function machine(): string[] {
  const cpu = cpus();
  return [
    `CPU: ${cpu[0]?.model ?? 'unknown'} × ${cpu.length} logical cores`,
    `memory: ${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    `node ${process.version}, ${process.platform}/${process.arch}`,
    `load average (1 min): ${loadavg()[0]?.toFixed(2)}`,
  ];
}

/** A Markdown table: the first row is the header, the first column left-aligned, the rest right-aligned. */
export function table(rows: ReadonlyArray<readonly string[]>): string {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  const line = (row: readonly string[]) =>
    `| ${row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join(' | ')} |`;
  const rule = `| ${widths.map((width, column) => (column === 0 ? '-'.repeat(width) : `${'-'.repeat(width - 1)}:`)).join(' | ')} |`;
  return [line(rows[0] ?? []), rule, ...rows.slice(1).map(line)].join('\n');
}

/** The q-quantile (0…1) of already sorted numbers. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
