import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderConfigDocs } from '../../../src/platform/config-docs.ts';

// Files generated from schemas are committed so they can be read on GitHub; these tests fail when
// the committed copy no longer matches its source. Fix with `npm run gen`.
describe('generated files are current', () => {
  it('docs/reference/configuration.md matches the configuration schema', () => {
    const committed = readFileSync(
      new URL('../../../docs/reference/configuration.md', import.meta.url),
      'utf8',
    );
    expect(committed, 'stale: run `npm run gen`').toBe(renderConfigDocs());
  });
});
