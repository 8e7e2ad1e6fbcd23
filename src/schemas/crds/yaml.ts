import { stringify } from 'yaml';
import type { CrdDefinition } from './definitions.ts';
import { renderCrd } from './render.ts';

export function renderCrdYaml(def: CrdDefinition): string {
  return (
    '# Generated from src/schemas/crds by `npm run gen`; do not edit. A test fails when it is stale.\n' +
    stringify(renderCrd(def), { lineWidth: 0 })
  );
}
