// `npm run bench -- <name> [flags]`: runs one benchmark from bench/ (each prints its baseline,
// its own figure and the ratio). Results, with the machine, go to docs/benchmarks.md.
import { readdirSync } from 'node:fs';

const name = process.argv[2];
const available = readdirSync(new URL('.', import.meta.url))
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'support.ts'].includes(f))
  .map((f) => f.replace(/\.ts$/, ''));
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <${available.join('|')}> [flags]\n`);
  process.exit(2);
}
await import(`./${name}.ts`);
