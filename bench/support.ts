import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

/** The machine a benchmark ran on, as recorded in bench/results/<name>.json. */
export interface MachineInfo {
  /** CPU model name from /proc/cpuinfo (os.cpus() elsewhere). */
  cpu: string;
  /** Logical CPUs the process can see. */
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  /** Load averages when the result was recorded: the machine may be shared. */
  loadAverage: { '1m': number; '5m': number; '15m': number };
}

/** One measured figure and, when the benchmark has one, its same-run baseline in the same unit. */
export interface Figure {
  /** What was measured, e.g. "list apps, page of 50". */
  name: string;
  /** Unit of `value` and `baseline`, e.g. "req/s", "ms", "s". */
  unit: string;
  /** kubeOP's figure. */
  value: number;
  baseline?: number;
  /** value / baseline, present exactly when baseline is. */
  ratio?: number;
  /** Which way is better: rates are `higher`, durations and latencies `lower`. */
  better?: 'higher' | 'lower';
}

/** One run of one benchmark: what bench/summary.ts renders into docs/benchmarks.md. */
export interface BenchResult {
  benchmark: string;
  /** ISO 8601, UTC, when the run finished. */
  date: string;
  machine: MachineInfo;
  /** The flags the run used (defaults included). */
  parameters: Record<string, string | number | boolean>;
  figures: Figure[];
}

export const RESULTS_DIR = new URL('./results/', import.meta.url);

// Files in bench/ that are not benchmarks.
const NOT_BENCHMARKS = ['run.ts', 'support.ts', 'summary.ts', 'api-baseline-server.ts'];

/** The benchmarks `npm run bench -- <name>` runs: every other .ts file in bench/. */
export function benchmarkNames(): string[] {
  return readdirSync(new URL('.', import.meta.url))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !NOT_BENCHMARKS.includes(f))
    .map((f) => f.replace(/\.ts$/, ''))
    .sort();
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1]!.trim();
  } catch {
    // Not Linux: fall through to what Node reports.
  }
  return cpus()[0]?.model.trim() ?? 'unknown CPU';
}

export function machineInfo(): MachineInfo {
  const load = loadavg().map((l) => Math.round(l * 100) / 100);
  return {
    cpu: cpuModel(),
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    loadAverage: { '1m': load[0]!, '5m': load[1]!, '15m': load[2]! },
  };
}

/** One line naming the machine. */
export function describeMachine(m: MachineInfo): string {
  return `${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB RAM, Node.js ${m.node}, ${m.platform}`;
}

export function machine(): string {
  return describeMachine(machineInfo());
}

/** Whole numbers from 1,000 up, 4 significant digits below: readable results files, small diffs. */
function round(x: number): number {
  if (!Number.isFinite(x)) return x;
  return Math.abs(x) >= 1000 ? Math.round(x) : Number(x.toPrecision(4));
}

/**
 * Writes bench/results/<benchmark>.json for this run (unless `npm run bench` was given --no-record)
 * and returns the result. `bench:summary` renders these files into docs/benchmarks.md.
 */
export function recordResult(
  benchmark: string,
  parameters: BenchResult['parameters'],
  figures: Figure[],
): BenchResult {
  const result: BenchResult = {
    benchmark,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    machine: machineInfo(),
    parameters,
    figures: figures.map((f) => ({
      name: f.name,
      unit: f.unit,
      value: round(f.value),
      ...(f.baseline === undefined
        ? {}
        : { baseline: round(f.baseline), ratio: Math.round((f.value / f.baseline) * 1000) / 1000 }),
      ...(f.better ? { better: f.better } : {}),
    })),
  };
  if (process.env.KUBEOP_BENCH_NO_RECORD) return result;
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = new URL(`${benchmark}.json`, RESULTS_DIR);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  process.stderr.write(`[${benchmark}] result written to bench/results/${benchmark}.json\n`);
  return result;
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function pool<T>(
  items: T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        await fn(item);
      }
    }),
  );
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
