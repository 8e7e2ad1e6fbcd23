// `npm run bench -- <name> [flags]`: runs one benchmark from bench/ (each prints its baseline,
// its own figure and the ratio) and records the run in bench/results/<name>.json (machine, flags,
// figures, baselines, ratios); `--no-record` skips that. `npm run bench:summary` then renders the
// results into the summary at the top of docs/benchmarks.md.
import { benchmarkNames } from './support.ts';

const name = process.argv[2];
const available = benchmarkNames();
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <${available.join('|')}> [flags] [--no-record]\n`);
  process.exit(2);
}
const noRecord = process.argv.indexOf('--no-record');
if (noRecord >= 0) {
  process.argv.splice(noRecord, 1);
  process.env.KUBEOP_BENCH_NO_RECORD = '1';
}
await import(`./${name}.ts`);
