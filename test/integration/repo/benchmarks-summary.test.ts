import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { END, START, DOC, readResults, renderSummary, updateSummary } from '../../../bench/summary.ts';
import { benchmarkNames, type BenchResult } from '../../../bench/support.ts';

// The summary at the top of docs/benchmarks.md is generated from the committed bench/results/*.json;
// these tests fail when one is changed without the other. Fix with `npm run bench:summary`.
describe('benchmark summary is current', () => {
  it('every benchmark in bench/ has a committed result', () => {
    expect(readResults().map((r) => r.benchmark)).toEqual(benchmarkNames());
  });

  it('each result names its machine and has a ratio exactly where it has a baseline', () => {
    for (const r of readResults()) {
      expect(r.machine.cpu, r.benchmark).not.toBe('');
      expect(r.machine.cores, r.benchmark).toBeGreaterThan(0);
      expect(r.figures.length, r.benchmark).toBeGreaterThan(0);
      for (const f of r.figures) {
        expect(f.ratio === undefined, `${r.benchmark}: ${f.name}`).toBe(f.baseline === undefined);
        // Values are stored rounded, the ratio from the unrounded figures.
        if (f.baseline) expect(Math.abs((f.ratio! * f.baseline) / f.value - 1)).toBeLessThan(0.005);
      }
    }
  });

  it('docs/benchmarks.md starts with the summary rendered from bench/results', async () => {
    const doc = readFileSync(DOC, 'utf8');
    expect(doc.split('\n').slice(0, 3)).toEqual(['# Benchmarks', '', START]);
    expect(await updateSummary(doc, readResults()), 'stale: run `npm run bench:summary`').toBe(doc);
  });
});

const sample: BenchResult = {
  benchmark: 'api',
  date: '2026-11-27T01:30:00Z',
  machine: {
    cpu: 'AMD EPYC',
    cores: 2,
    memoryGiB: 23,
    node: 'v24.21.0',
    platform: 'linux/x64',
    loadAverage: { '1m': 3.2, '5m': 2.94, '15m': 1.5 },
  },
  parameters: { seconds: 5, concurrency: 16 },
  figures: [
    { name: 'list apps', unit: 'req/s', value: 314.2, baseline: 675.4, ratio: 0.465, better: 'higher' },
    { name: 'list apps: p99', unit: 'ms', value: 83.41, baseline: 9.874, ratio: 8.447, better: 'lower' },
    { name: 'peak RSS', unit: 'MiB', value: 12345.6 },
  ],
};

describe('benchmark summary rendering', () => {
  it('renders one row per figure, the run columns on its first row, — without a baseline', () => {
    const lines = renderSummary([sample]).split('\n');
    const rows = lines.filter((l) => l.startsWith('| ')).slice(2);
    expect(rows).toEqual([
      '| [api](#api) | 2026-11-27 | 2 × AMD EPYC, 23 GiB, Node.js v24.21.0, load 2.9 | list apps | 314 req/s | 675 req/s | 0.47 |',
      '|  |  |  | list apps: p99 | 83.4 ms | 9.87 ms | 8.45 |',
      '|  |  |  | peak RSS | 12 346 MiB | — | — |',
    ]);
    expect(lines).toContain('- `api`: seconds 5, concurrency 16');
  });

  it('replaces only the text between the markers, formatted as prettier would', async () => {
    const doc = `# Benchmarks\n\n${START}\nold figures\n${END}\n\n## api\n\nkept\n`;
    const updated = await updateSummary(doc, [sample]);
    expect(updated).not.toContain('old figures');
    expect(updated.startsWith(`# Benchmarks\n\n${START}\n\n<!-- Generated`)).toBe(true);
    expect(updated.endsWith(`\n\n${END}\n\n## api\n\nkept\n`)).toBe(true);
    expect(updated).toMatch(/\| \[api\]\(#api\) \| 2026-11-27 \| .* \| 0\.47  \|\n/);
    // Rendering again changes nothing.
    expect(await updateSummary(updated, [sample])).toBe(updated);
  });

  it('refuses a document without the markers', async () => {
    await expect(updateSummary('# Benchmarks\n', [sample])).rejects.toThrow(/bench-summary:start/);
  });
});
