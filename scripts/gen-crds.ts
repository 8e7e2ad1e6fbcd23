// Writes deploy/crds/<plural>.paas.kubeop.io.yaml from the TypeBox schemas. Part of `npm run gen`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { renderCrdYaml } from '../src/schemas/crds/yaml.ts';
import { crdDefinitions } from '../src/schemas/crds/definitions.ts';

const dir = new URL('../deploy/crds/', import.meta.url);
mkdirSync(dir, { recursive: true });
for (const def of crdDefinitions) {
  const target = new URL(`${def.plural}.paas.kubeop.io.yaml`, dir);
  writeFileSync(target, renderCrdYaml(def));
  console.log(`wrote ${target.pathname}`);
}
