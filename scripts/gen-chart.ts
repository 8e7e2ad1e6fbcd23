// Part of `npm run gen`, after the CRDs: copies deploy/crds into the chart (one source: the chart's
// crds/ is a copy, never edited) and renders deploy/k8s/kubeop.yaml, the plain manifests, from the
// chart with its default values. test/integration/repo/chart-files.test.ts fails when either is stale.
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { renderPlainManifests } from './chart-render.ts';
import { requireHelm } from './helm.ts';

const crds = new URL('../deploy/crds/', import.meta.url);
const chartCrds = new URL('../deploy/chart/kubeop/crds/', import.meta.url);
rmSync(chartCrds, { recursive: true, force: true });
mkdirSync(chartCrds, { recursive: true });
for (const file of readdirSync(crds).filter((f) => f.endsWith('.yaml'))) {
  copyFileSync(new URL(file, crds), new URL(file, chartCrds));
  console.log(`copied deploy/crds/${file} into the chart`);
}

const out = new URL('../deploy/k8s/', import.meta.url);
mkdirSync(out, { recursive: true });
writeFileSync(new URL('kubeop.yaml', out), renderPlainManifests(requireHelm()));
console.log('wrote deploy/k8s/kubeop.yaml');
