import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import fc from 'fast-check';
import { ExcerptScanner, extractExcerpt, type ExcerptOptions } from '../../functions/commons/excerpt';
import { excerptCli } from '../../cli/log-streams';
import {
  AnchorFinder,
  FAILURE_ANCHORS,
  FAILURE_PATTERN_ERE,
  FAILURE_TRIGGERS,
  isFailureLine,
  renderTrigger,
  triggerOf,
} from '../../functions/commons/excerpt/patterns';

const numbered = (count: number, at: (line: number) => string = (line) => `step ${line} ok`): string[] =>
  Array.from({ length: count }, (_, index) => at(index + 1));

const fromLines = (lines: readonly string[]): string => `${lines.join('\n')}\n`;

async function excerptOf(text: string, options: ExcerptOptions = {}, chunkSize = 0) {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  if (chunkSize <= 0) chunks.push(bytes);
  else
    for (let index = 0; index < bytes.length; index += chunkSize)
      chunks.push(bytes.subarray(index, index + chunkSize));
  return extractExcerpt(Readable.from(chunks), options);
}

describe('extractExcerpt', () => {
  it('keeps a failing line with its context before and after, and the tail', async () => {
    // Prepare
    const lines = numbered(100);
    lines[49] = 'npm ERR! code ELIFECYCLE';
    const options = { contextBefore: 2, contextAfter: 3, tailLines: 2 };

    // Act
    const result = await excerptOf(fromLines(lines), options);

    // Assess
    expect(result.excerpt).toBe(
      [
        '… lines 1–47 omitted',
        '48 | step 48 ok',
        '49 | step 49 ok',
        '50 | npm ERR! code ELIFECYCLE',
        '51 | step 51 ok',
        '52 | step 52 ok',
        '53 | step 53 ok',
        '… lines 54–98 omitted',
        '99 | step 99 ok',
        '100 | step 100 ok',
      ].join('\n'),
    );
    expect(result.regions).toEqual([{ startLine: 48, endLine: 53, trigger: 'npm-error', triggerLine: 50 }]);
    expect(result).toMatchObject({
      truncated: false,
      totalLines: 100,
      totalBytes: Buffer.byteLength(fromLines(lines)),
    });
  });

  it('merges failures whose context overlaps or touches into one region', async () => {
    // Prepare
    const lines = numbered(60);
    lines[19] = 'src/a.c:3:1: error: expected declaration';
    lines[24] = 'src/b.c:9:2: error: unknown type name';
    lines[39] = 'FAILED: build.ninja';
    const options = { contextBefore: 2, contextAfter: 2, tailLines: 0 };

    // Act
    const result = await excerptOf(fromLines(lines), options);

    // Assess
    expect(result.regions).toEqual([
      { startLine: 18, endLine: 27, trigger: 'error-colon', triggerLine: 20 },
      { startLine: 38, endLine: 42, trigger: 'severity-word', triggerLine: 40 },
    ]);
  });

  it('collapses runs of identical lines', async () => {
    // Prepare
    const lines = [
      'Traceback (most recent call last):',
      ...Array.from({ length: 38 }, () => 'Waiting for lock on /var/lib/dpkg/lock'),
      'done',
    ];

    // Act
    const result = await excerptOf(fromLines(lines), { contextAfter: 50, tailLines: 0 });

    // Assess
    expect(result.excerpt).toBe(
      [
        '1 | Traceback (most recent call last):',
        '2 | Waiting for lock on /var/lib/dpkg/lock',
        '… repeated 37 more times',
        '40 | done',
      ].join('\n'),
    );
  });

  it('strips ANSI escapes before matching, so coloured compiler errors are found and shown clean', async () => {
    // Prepare
    const lines = numbered(10);
    lines[4] =
      '\u001b[96msrc/app.ts\u001b[0m:\u001b[93m3\u001b[0m - \u001b[91merror\u001b[0m\u001b[90m TS2304: \u001b[0mCannot find name';
    lines[5] = 'progress 10%\rprogress 50%\rprogress 100%\r';

    // Act
    const result = await excerptOf(fromLines(lines), { contextBefore: 0, contextAfter: 1, tailLines: 0 });

    // Assess
    expect(result.excerpt).toBe(
      [
        '… lines 1–4 omitted',
        '5 | src/app.ts:3 - error TS2304: Cannot find name',
        '6 | progress 100%',
        '… lines 7–10 omitted',
      ].join('\n'),
    );
    expect(result.regions[0]?.trigger).toBe('typescript-error');
  });

  it('caps the excerpt, keeps the tail and the LAST failing regions, and says it truncated', async () => {
    // Prepare
    const lines = numbered(5000, (line) =>
      line % 500 === 0 ? `ERROR batch ${line} failed` : `step ${line} ok`,
    );
    const options = { contextBefore: 5, contextAfter: 5, tailLines: 10, maxBytes: 1024 };

    // Act
    const result = await excerptOf(fromLines(lines), options, 777);

    // Assess
    expect(Buffer.byteLength(result.excerpt)).toBeLessThanOrEqual(1024);
    expect(result.truncated).toBe(true);
    expect(result.excerpt).toContain('5000 | ERROR batch 5000 failed');
    expect(result.excerpt).toContain('4500 | ERROR batch 4500 failed');
    expect(result.excerpt).not.toContain('500 | ERROR batch 500 failed\n');
    expect(result.regions.map((region) => region.triggerLine)).toEqual(
      result.regions.map((region) => region.triggerLine).sort((a, b) => a - b),
    );
    expect(result.regions.at(-1)?.triggerLine).toBe(5000);
    expect(result.omittedRegions + result.regions.length).toBe(10);
  });

  it('always keeps the tail, even without any failure', async () => {
    // Prepare
    const lines = numbered(200);

    // Act
    const result = await excerptOf(fromLines(lines), { tailLines: 3 });

    // Assess
    expect(result.excerpt).toBe(
      ['… lines 1–197 omitted', '198 | step 198 ok', '199 | step 199 ok', '200 | step 200 ok'].join('\n'),
    );
    expect(result.regions).toEqual([]);
  });

  it('gives the same result whatever the chunking, including a last line without newline', async () => {
    // Prepare
    const lines = numbered(300, (line) =>
      line % 47 === 0 ? `Error: boom ${line} → ünïcode` : line % 13 === 0 ? 'same' : `line ${line}`,
    );
    const text = lines.join('\n');
    const expected = await excerptOf(text, { contextBefore: 3, contextAfter: 2, tailLines: 5 });

    for (const size of [1, 2, 3, 7, 64, 1000]) {
      // Act
      const result = await excerptOf(text, { contextBefore: 3, contextAfter: 2, tailLines: 5 }, size);

      // Assess
      expect(result).toEqual(expected);
    }
    expect(expected.totalLines).toBe(300);
  });

  it('cuts very long lines as they stream and still sees a trigger far into one', async () => {
    // Prepare
    const longLine = `${'x'.repeat(100_000)} fatal: could not read from remote ${'y'.repeat(100_000)}`;
    const text = fromLines(['start', longLine, 'end']);

    // Act
    const result = await excerptOf(
      text,
      { maxLineBytes: 1024, contextBefore: 1, contextAfter: 1, tailLines: 0 },
      4096,
    );

    // Assess
    expect(result.regions).toEqual([{ startLine: 1, endLine: 3, trigger: 'error-colon', triggerLine: 2 }]);
    expect(result.excerpt).toContain('2 | xxxx');
    expect(result.excerpt).toContain('… [line cut at 1024 bytes]');
    expect(Buffer.byteLength(result.excerpt)).toBeLessThan(1300);
  });

  it('streams a ~50 MB log with bounded memory', async () => {
    // Prepare
    const template = Buffer.from(
      Array.from({ length: 800 }, (_, index) =>
        index === 400
          ? 'npm ERR! code ELIFECYCLE'
          : `[Container] 2024/05/01 12:00:00 step ${index} \u001b[32mok\u001b[0m`,
      ).join('\n') + '\n',
    );
    const chunks = Math.ceil((50 * 1024 * 1024) / template.length);
    let peakRss = 0;
    async function* log(): AsyncGenerator<Buffer> {
      for (let index = 0; index < chunks; index++) {
        if (index % 64 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
        yield Buffer.from(template);
      }
    }
    global.gc?.();
    const baseline = process.memoryUsage().rss;

    // Act
    const result = await extractExcerpt(log());

    // Assess
    expect(result.totalBytes).toBe(chunks * template.length);
    expect(result.totalLines).toBe(chunks * 800);
    expect(Buffer.byteLength(result.excerpt)).toBeLessThanOrEqual(16 * 1024);
    expect(result.truncated).toBe(true);
    expect(result.regions.at(-1)?.trigger).toBe('npm-error');
    // Measured: ~37 MiB of growth (garbage not yet collected); the same run keeping every chunk
    // grows by ~63 MiB. 48 MiB separates the two.
    expect(peakRss - baseline).toBeLessThan(48 * 1024 * 1024);
  });

  it('rejects nonsensical options and misuse', () => {
    // Prepare
    const scanner = new ExcerptScanner();
    scanner.finish();

    // Act / Assess
    expect(() => new ExcerptScanner({ maxBytes: -1 })).toThrow(RangeError);
    expect(() => new ExcerptScanner({ contextBefore: 1.5 })).toThrow(RangeError);
    expect(() => scanner.push(Buffer.from('x'))).toThrow(/after finish/);
  });

  it('returns an empty excerpt for an empty log', async () => {
    // Prepare
    const text = '';

    // Act
    const result = await excerptOf(text);

    // Assess
    expect(result).toEqual({
      excerpt: '',
      truncated: false,
      totalLines: 0,
      totalBytes: 0,
      regions: [],
      omittedRegions: 0,
    });
  });
});

describe('excerptCli', () => {
  it('writes the excerpt text, or the whole result as JSON', async () => {
    // Prepare
    const log = fromLines(['a', 'b', 'Error: nope', 'c']);
    const textOut = new PassThrough();
    const jsonOut = new PassThrough();

    // Act
    await excerptCli(Readable.from([Buffer.from(log)]), textOut, {
      contextBefore: 1,
      contextAfter: 0,
      tailLines: 1,
    });
    await excerptCli(Readable.from([Buffer.from(log)]), jsonOut, { json: true, tailLines: 0 });
    textOut.end();
    jsonOut.end();

    // Assess
    expect(textOut.read()?.toString()).toBe('… lines 1–1 omitted\n2 | b\n3 | Error: nope\n4 | c\n');
    expect(JSON.parse(jsonOut.read()?.toString() ?? '')).toMatchObject({
      totalLines: 4,
      regions: [{ trigger: 'exception' }],
    });
  });
});

/** Lines `grep -E` accepts, 1-based, with the C locale (byte semantics) as in the benchmark. */
function grepLines(pattern: string, lines: readonly string[]): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'suture-grep-'));
  try {
    const file = join(dir, 'sample.log');
    writeFileSync(file, fromLines(lines));
    const run = spawnSync('grep', ['-E', '-n', pattern, file], {
      encoding: 'utf8',
      env: { ...process.env, LC_ALL: 'C' },
    });
    if (run.status === 2 || run.stderr !== '') throw new Error(`grep failed: ${run.stderr}`);
    return run.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => Number(line.slice(0, line.indexOf(':'))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const jsLines = (test: (line: string) => boolean, lines: readonly string[]): number[] =>
  lines.flatMap((line, index) => (test(line) ? [index + 1] : []));

const NEAR_MISSES = [
  'Found 0 errors. Watching for file changes.',
  'src/errors/http-error.ts  12.1 kB',
  'jest --ci --fail-fast=false',
  'LOG_LEVEL=ERROR_ONLY',
  'errorHandler: registered',
  'exit code 0',
  'Tests: 0 failed, 12 passed',
  'x10 failed',
  'TERRORIST',
  'process exited normally',
  'FAILOVER complete',
  'panicked at src/main.rs',
  'Errors: none',
  'the error was handled',
];

describe('failure patterns', () => {
  const corpus = [...FAILURE_TRIGGERS.flatMap((trigger) => trigger.examples), ...NEAR_MISSES];

  it('every example matches its own trigger, in JS and in grep -E', () => {
    for (const trigger of FAILURE_TRIGGERS) {
      // Prepare
      const { js, ere } = renderTrigger(trigger);
      const pattern = new RegExp(js);

      // Act
      const viaJs = jsLines((line) => pattern.test(line), trigger.examples);
      const viaGrep = grepLines(ere, trigger.examples);

      // Assess
      const all = trigger.examples.map((_, index) => index + 1);
      expect({ id: trigger.id, js: viaJs }).toEqual({ id: trigger.id, js: all });
      expect({ id: trigger.id, grep: viaGrep }).toEqual({ id: trigger.id, grep: all });
    }
  });

  it('near misses match nothing', () => {
    // Prepare
    const lines = NEAR_MISSES;

    // Act
    const matched = lines.filter((line) => isFailureLine(line));

    // Assess
    expect(matched).toEqual([]);
    expect(grepLines(FAILURE_PATTERN_ERE, lines)).toEqual([]);
  });

  it('the JS pattern and the ERE handed to grep accept the same lines, on a corpus and on random lines', () => {
    // Prepare
    const words = [
      ...new Set(
        [...corpus, ...NEAR_MISSES]
          .flatMap((line) => line.split(/(\s+)/))
          .concat([
            'ERROR',
            'error',
            ':',
            '[E1]',
            ' TS2',
            '1',
            '0',
            '12',
            '_',
            '-',
            '!',
            'x',
            ' ',
            'code',
            'status',
            'with',
          ]),
      ),
    ];
    const randomLines = fc.sample(
      fc.array(fc.constantFrom(...words), { maxLength: 8 }).map((parts) => parts.join('')),
      { numRuns: 3000, seed: 42 },
    );
    const lines = [...corpus, ...randomLines].filter((line) => !line.includes('\n'));

    // Act
    const viaJs = jsLines(isFailureLine, lines);
    const viaGrep = grepLines(FAILURE_PATTERN_ERE, lines);

    // Assess
    expect(viaJs).toEqual(viaGrep);
    expect(viaJs.length).toBeGreaterThan(100);
  });

  it('every line that matches holds one of the anchors the scanner looks for first', () => {
    // Prepare
    const lines = fc.sample(
      fc
        .array(fc.constantFrom(...corpus.flatMap((line) => line.split(' ')), ' ', ':', '1', 'x'), {
          maxLength: 10,
        })
        .map((parts) => parts.join(' ')),
      { numRuns: 2000, seed: 7 },
    );
    const finder = new AnchorFinder();

    for (const line of [...corpus, ...lines].filter(isFailureLine)) {
      // Act
      const bytes = Buffer.from(line, 'latin1');
      const found = finder.find(bytes, 0, bytes.length);

      // Assess
      expect({ line, anchored: FAILURE_ANCHORS.some((anchor) => line.includes(anchor)) }).toEqual({
        line,
        anchored: true,
      });
      expect({ line, found: found >= 0 }).toEqual({ line, found: true });
    }
  });

  it('the anchor finder returns the first occurrence of any literal, like a naive search', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom('E', 'R', 'O', 'F', 'A', 'I', 'L', 'r', 'o', ' ', '!', 'x'),
          maxLength: 60,
        }),
        (text) => {
          // Prepare
          const finder = new AnchorFinder(['ERROR', 'ERR!', 'FAIL', 'rror']);
          const naive = Math.min(
            ...['ERROR', 'ERR!', 'FAIL', 'rror']
              .map((literal) => text.indexOf(literal))
              .filter((index) => index >= 0),
          );

          // Act
          const found = finder.find(Buffer.from(text, 'latin1'), 0, text.length);

          // Assess
          expect(found).toBe(Number.isFinite(naive) ? naive : -1);
        },
      ),
    );
  });

  it('names the first trigger of a line', () => {
    // Prepare
    const line = 'Error: Process completed with exit code 2.';

    // Act
    const trigger = triggerOf(line);

    // Assess
    expect(trigger).toBe('exit-code');
  });
});
