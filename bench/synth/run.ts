/**
 * Synth of the Terraform module, cold and warm: wall time of a fresh process (Node start, tsx
 * transpiling, construct tree, esbuild, opa build, writing the module), the synth itself as the
 * process measured it, and the process's peak RSS. Cold runs delete the function-bundle cache
 * (build/functions) first; warm runs reuse it. Target: ≤ 10 s and ≤ 1 GiB.
 *
 *   npx tsx bench/synth/run.ts [runs]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../cli/paths';

interface Sample {
  readonly wallMs: number;
  readonly synthMs: number;
  readonly maxRssKb: number;
  readonly digest: string;
}

const root = repoRoot();
const runs = Number(process.argv[2] ?? '3');
const scratch = mkdtempSync(join(tmpdir(), 'bench-synth-'));

function once(cold: boolean): Sample {
  if (cold) rmSync(join(root, 'build', 'functions'), { recursive: true, force: true });
  const started = performance.now();
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(root, 'bench', 'synth', 'child.ts'), join(scratch, 'module')],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  const wallMs = performance.now() - started;
  if (child.status !== 0) throw new Error(`synth failed:\n${child.stderr}`);
  const measured = JSON.parse(child.stdout.trim().split('\n').at(-1) as string) as Omit<Sample, 'wallMs'>;
  return { wallMs, ...measured };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const samples = { cold: [] as Sample[], warm: [] as Sample[] };
for (let i = 0; i < runs; i += 1) {
  samples.cold.push(once(true));
  samples.warm.push(once(false));
}
rmSync(scratch, { recursive: true, force: true });

const digests = new Set([...samples.cold, ...samples.warm].map((sample) => sample.digest));
const row = (name: string, list: Sample[]) => {
  const wall = median(list.map((sample) => sample.wallMs)) / 1000;
  const synth = median(list.map((sample) => sample.synthMs)) / 1000;
  const rss = Math.max(...list.map((sample) => sample.maxRssKb)) / 1024;
  const ok = wall <= 10 && rss <= 1024 ? 'yes' : 'NO';
  return `| ${name} | ${runs} | ${wall.toFixed(2)} s | ${synth.toFixed(2)} s | ${rss.toFixed(0)} MiB | ${ok} |`;
};
const cpu = cpus();
process.stdout.write(
  [
    `Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${process.platform}/${process.arch}`,
    '',
    '| synth of the module | runs | wall time (median, fresh process) | synth in process (median) | peak RSS (max) | ≤ 10 s and ≤ 1 GiB |',
    '| --- | ---: | ---: | ---: | ---: | :---: |',
    row('cold (no bundle cache)', samples.cold),
    row('warm (bundles cached)', samples.warm),
    '',
    `Module digest identical across all ${runs * 2} synths: ${digests.size === 1 ? 'yes' : `NO (${digests.size} digests)`}`,
    '',
  ].join('\n'),
);
