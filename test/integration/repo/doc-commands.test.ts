import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  blockCommands,
  blockTimes,
  checkDoc,
  DONE_MARKER,
  lastStartedBlock,
  listDocFiles,
  parseDoc,
  scenarioScript,
} from '../../support/doc-commands.ts';

// Every command the docs show runs in test/e2e/docs.test.ts. This file checks what that runner cannot:
// that no shell block hides under another fence language, that skips are few and explained, and that
// blocks use $KUBEOP_URL rather than the default port; and it tests the parser itself.

const root = fileURLToPath(new URL('../../..', import.meta.url));
const scenarios = listDocFiles(root).map((file) => parseDoc(file, readFileSync(`${root}/${file}`, 'utf8')));

/** Skips allowed across all docs: only what this machine cannot run (no container engine). */
const MAX_SKIPS = 3;

describe('the commands shown in the docs', () => {
  it('finds README.md and the docs tree', () => {
    const files = scenarios.map((s) => s.file);
    expect(files[0]).toBe('README.md');
    expect(files).toContain('docs/operations/install.md');
    expect(scenarios.filter((s) => s.blocks.length > 0).length).toBeGreaterThanOrEqual(5);
  });

  it('are all in fences the runner runs, with no hard-coded port and no malformed marker', () => {
    expect(scenarios.flatMap(checkDoc)).toEqual([]);
  });

  it('are skipped only rarely, each skip with its reason', () => {
    const skips = scenarios.flatMap((s) =>
      s.blocks.filter((b) => b.skip !== undefined).map((b) => `${s.file}:${b.line} — ${b.skip}`),
    );
    // Printed so a reviewer sees the list in the test output.
    process.stdout.write(`doc blocks skipped (${skips.length}):\n${skips.map((s) => `  ${s}\n`).join('')}`);
    expect(skips.length).toBeLessThanOrEqual(MAX_SKIPS);
    for (const s of scenarios)
      for (const b of s.blocks) if (b.skip !== undefined) expect(b.skip).not.toBe('');
  });
});

describe('parseDoc and checkDoc', () => {
  const sample = [
    '# Sample', // 1
    '<!-- doc-test: timeout=42 cluster=fresh -->', // 2
    '```bash', // 3
    'export A=1', // 4
    '```', // 5
    '- a list item:', // 6
    '', // 7
    '  ```sh', // 8
    '  echo "$A"', // 9
    '  ```', // 10
    '<!-- doc-test: skip reason="needs a container engine" -->', // 11
    '```bash', // 12
    'docker build .', // 13
    '```', // 14
    '```json', // 15
    '{"a": 1}', // 16
    '```', // 17
    '````console', // 18
    '$ kubectl get ns \\', // 19
    '    -o name', // 20
    'namespace/default', // 21
    '````', // 22
  ].join('\n');

  it('reads blocks with their lines, indentation removed, options and skips', () => {
    const s = parseDoc('sample.md', sample);
    expect(s.problems).toEqual([]);
    expect(s.options).toEqual({ timeoutSeconds: 42, cluster: 'fresh' });
    expect(s.blocks.map((b) => [b.line, b.language, b.text, b.skip])).toEqual([
      [3, 'bash', 'export A=1', undefined],
      [8, 'sh', 'echo "$A"', undefined],
      [12, 'bash', 'docker build .', 'needs a container engine'],
      [18, 'console', '$ kubectl get ns \\\n    -o name\nnamespace/default', undefined],
    ]);
    expect(s.fences.map((f) => f.language)).toEqual(['bash', 'sh', 'bash', 'json', 'console']);
    expect(checkDoc(s)).toEqual([]);
  });

  it('runs console prompts and their continuations, not the output lines', () => {
    const s = parseDoc('sample.md', sample);
    expect(blockCommands(s.blocks[3]!)).toBe('kubectl get ns \\\n    -o name');
  });

  it('builds one strict script with a marker per block, leaving skipped blocks out', () => {
    const script = scenarioScript(parseDoc('sample.md', sample));
    expect(script.startsWith('set -euo pipefail\n')).toBe(true);
    expect(script).toContain('export A=1');
    expect(script).not.toContain('docker build');
    expect(script.indexOf('line 3')).toBeLessThan(script.indexOf('line 8'));
    expect(script.trimEnd().split('\n').at(-1)).toContain(DONE_MARKER);
    const output = 'x\n### doc-test block at line 3 (at 0s)\nok\n### doc-test block at line 18 (at 7s)\nboom';
    expect(lastStartedBlock(output)).toBe(18);
    expect(blockTimes(output)).toEqual({
      started: new Map([
        [3, 0],
        [18, 7],
      ]),
    });
    expect(blockTimes(`${output}\n${DONE_MARKER} (at 9s)\n`).done).toBe(9);
    expect(lastStartedBlock('nothing yet')).toBeUndefined();
  });

  it('refuses an unknown shell alias, an untagged command, a reasonless skip and a bad option', () => {
    const bad = [
      '<!-- doc-test: timeout=soon -->', // 1
      '<!-- doc-test: retries=3 -->', // 2
      '```shell-session', // 3
      '$ npm start', // 4
      '```', // 5
      '```', // 6
      'kubectl get pods', // 7
      '```', // 8
      '<!-- doc-test: skip -->', // 9
      '```bash', // 10
      'docker build .', // 11
      '```', // 12
      '<!-- doc-test: skip reason="x" -->', // 13
      '```yaml', // 14
      'a: 1', // 15
      '```', // 16
    ].join('\n');
    const problems = checkDoc(parseDoc('bad.md', bad)).join('\n');
    expect(problems).toContain('bad.md: line 1: timeout must be whole seconds');
    expect(problems).toContain('bad.md: line 2: unknown doc-test option "retries"');
    expect(problems).toContain('bad.md:3: fence language "shell-session"');
    expect(problems).toContain('bad.md:6: an untagged block that looks like commands');
    expect(problems).toContain('bad.md: line 9: skip without reason');
    expect(problems).toContain('bad.md: line 13: skip is not followed by a bash/sh/shell/console block');
    expect(parseDoc('bad.md', bad).blocks.every((b) => b.skip === undefined)).toBe(true);
  });

  it('refuses the default port in a command, but not in a comment or a ${VAR:=default}', () => {
    const doc = (code: string) => checkDoc(parseDoc('p.md', '```bash\n' + code + '\n```\n'));
    expect(doc('curl -sf http://127.0.0.1:8080/readyz')).toHaveLength(1);
    expect(doc('curl -sf localhost:8080/readyz')).toHaveLength(1);
    expect(doc('curl -sf http://operator:8080/hooks/git')).toHaveLength(1);
    expect(doc(': "${KUBEOP_URL:=http://127.0.0.1:8080}"\ncurl -sf "$KUBEOP_URL/readyz"')).toEqual([]);
    expect(doc('npm start &   # serves http://127.0.0.1:8080 by default')).toEqual([]);
    expect(doc('curl -sf "${KUBEOP_URL:-http://127.0.0.1:8080}/version"')).toEqual([]);
  });

  it('reports a fence that is never closed', () => {
    expect(parseDoc('open.md', '```bash\necho hi\n').problems).toEqual(['line 1: the fence is never closed']);
  });
});
