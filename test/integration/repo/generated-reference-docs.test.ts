import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument, renderApiDocs } from '../../../scripts/gen-api-docs.ts';
import { renderCrdDocs } from '../../../scripts/gen-crd-docs.ts';

// The reference pages are generated and committed so they can be read on GitHub; these tests fail
// when the committed copy no longer matches the code it is rendered from. Fix with `npm run gen`.
const committed = (name: string) =>
  readFileSync(new URL(`../../../docs/reference/${name}`, import.meta.url), 'utf8');

describe('generated reference docs are current', () => {
  it("docs/reference/api.md matches the manager's OpenAPI document", async () => {
    expect(committed('api.md'), 'stale: run `npm run gen`').toBe(renderApiDocs(await buildOpenApiDocument()));
  });

  it('docs/reference/crds.md matches the CRD schemas', () => {
    expect(committed('crds.md'), 'stale: run `npm run gen`').toBe(renderCrdDocs());
  });
});
