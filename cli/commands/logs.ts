import { createReadStream } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ExcerptOptions } from '../../functions/commons/excerpt';
import { excerptCli, redactCli } from '../log-streams';
import { UsageError } from '../errors';

/**
 * Standard input with 1 MiB reads: with Node's default 64 KiB chunks the stream itself,
 * not the scanner, dominates on large logs (measured ~2x slower).
 */
function stdinStream(): NodeJS.ReadableStream {
  return createReadStream('', { fd: 0, highWaterMark: 1024 * 1024, autoClose: false });
}

/** `suture redact [--report FILE]`: stdin → stdout with secrets replaced by markers. */
export async function redactCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { report: { type: 'string' } }, strict: true });
  const report = await redactCli(
    stdinStream(),
    process.stdout,
    values.report ? { reportFile: values.report } : {},
  );
  process.stderr.write(`suture redact: ${report.total} value(s) redacted\n`);
  return 0;
}

function count(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new UsageError(`${flag} must be a whole number ≥ 0, got ${value}`);
  return parsed;
}

/** `suture excerpt`: the failing regions of a build log on stdin, capped (16 KiB by default). */
export async function excerptCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'max-bytes': { type: 'string' },
      'context-before': { type: 'string' },
      'context-after': { type: 'string' },
      'tail-lines': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const options: ExcerptOptions & { json: boolean } = {
    json: values.json,
    ...withDefined('maxBytes', count(values['max-bytes'], '--max-bytes')),
    ...withDefined('contextBefore', count(values['context-before'], '--context-before')),
    ...withDefined('contextAfter', count(values['context-after'], '--context-after')),
    ...withDefined('tailLines', count(values['tail-lines'], '--tail-lines')),
  };
  await excerptCli(stdinStream(), process.stdout, options);
  return 0;
}

function withDefined<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}
