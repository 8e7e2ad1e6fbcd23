import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The map tells the truth: the README's layout, docs/architecture.md and the lint configuration
// name only paths that exist, so a move or a deletion that forgets them fails here.
const root = new URL('../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const missing = (paths: string[]) => paths.filter((p) => !existsSync(new URL(p, root)));

describe('the layout as written down', () => {
  it("README.md's layout names only folders that exist", () => {
    const block = /## Layout\n\n```\n([\s\S]*?)```/.exec(read('README.md'))?.[1];
    expect(block, 'README.md has a ## Layout block').toBeDefined();
    let parent = '';
    const paths = block!
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const first = line.trim().split(/\s+/)[0]!;
        if (line.startsWith(' ')) return `${parent}/${first}`;
        parent = first.replace(/\/$/, '');
        return first;
      });
    expect(paths.length).toBeGreaterThan(15);
    expect(missing(paths)).toEqual([]);
  });

  it('docs/architecture.md names only files and folders that exist', () => {
    const text = read('docs/architecture.md');
    const named = [...text.matchAll(/`((?:src|deploy|test)\/[^`\s]*)`/g)].map((m) => m[1]!);
    // A short `access/x.ts` after a full path in the same cell is relative to src/manager.
    const short = [...text.matchAll(/`((?:access|billing|http|tenancy|clusters|outbox)\/[^`\s]*)`/g)].map(
      (m) => `src/manager/${m[1]!}`,
    );
    expect(named.length).toBeGreaterThan(25);
    expect(missing([...named, ...short])).toEqual([]);
  });

  it('the lint configuration names only source folders that exist', () => {
    const config = read('eslint.config.js');
    const globs = [...config.matchAll(/'src\/([a-z-]+)\/\*\*/g)].map((m) => `src/${m[1]!}`);
    const components = /const components = \[([^\]]*)\]/.exec(config)?.[1] ?? '';
    const named = [...components.matchAll(/'([a-z-]+)'/g)].map((m) => `src/${m[1]!}`);
    expect(named.length).toBeGreaterThan(2);
    expect(missing([...globs, ...named])).toEqual([]);
  });
});
