import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { listDocFiles, parseDoc } from '../support/doc-commands.ts';
import { runScenario } from '../support/doc-runner.ts';
import { kubeconfigPath } from '../support/e2e.ts';

// Every command shown in README.md and docs/**/*.md runs here, one scenario per doc, in order (see
// HELPERS "Docs command format" and test/support/doc-commands.ts), so the docs cannot drift from the
// code. A failure names the doc, the block's line and text, and the tail of the output.
const root = fileURLToPath(new URL('../..', import.meta.url));
const scenarios = listDocFiles(root)
  .map((file) => parseDoc(file, readFileSync(`${root}/${file}`, 'utf8')))
  .filter((s) => s.blocks.length > 0);

describe.skipIf(!kubeconfigPath)('the commands shown in the docs', () => {
  for (const scenario of scenarios) {
    const runnable = scenario.blocks.filter((b) => b.skip === undefined).length;
    // Margin beyond the doc's own timeout: a fresh cluster, stopping what the doc left, dropping its database.
    const margin = scenario.options.cluster === 'fresh' ? 150 : 60;
    it.skipIf(runnable === 0)(
      `${scenario.file} (${runnable} blocks)`,
      async () => {
        const result = await runScenario(scenario, {
          root,
          kubeconfig: kubeconfigPath!,
          log: (line) => process.stderr.write(`[docs ${scenario.file}] ${line}\n`),
        });
        process.stderr.write(
          `[docs ${scenario.file}] ${result.ok ? 'passed' : 'FAILED'} in ${result.seconds.toFixed(1)}s\n`,
        );
        if (!result.ok) throw new Error(result.report);
      },
      (scenario.options.timeoutSeconds + margin) * 1000,
    );
  }
});
