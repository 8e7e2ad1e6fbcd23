import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderConfigDocs } from '../../../src/platform/config-docs.ts';
import { crdDefinitions } from '../../../src/schemas/crds/definitions.ts';
import { renderCrdYaml } from '../../../src/schemas/crds/yaml.ts';

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

describe('generated CRDs are current', () => {
  it.each(crdDefinitions.map((d) => [d.kind, d] as const))(
    'deploy/crds for %s matches its schema',
    (_kind, def) => {
      const file = new URL(`../../../deploy/crds/${def.plural}.paas.kubeop.io.yaml`, import.meta.url);
      expect(readFileSync(file, 'utf8'), 'stale: run `npm run gen`').toBe(renderCrdYaml(def));
    },
  );
});
