// `npm run sbom [-- --out FILE]`: a CycloneDX (JSON) SBOM of what kubeOP ships: its production
// dependency tree as package-lock.json pins it (npm's own `npm sbom`, so nothing is resolved anew).
// Two corrections to npm's output:
// - `npm sbom --omit dev` drops a production package that is also a direct devDependency (ajv: the
//   tests use it directly, ajv-formats needs it at run time), so the whole tree is taken and the
//   components npm marks as development-only (property `cdx:npm:package:development`) are
//   removed instead (scope `optional` alone also marks production optional dependencies: kept);
// - npm names the root component after the folder the repository is checked out in; it is renamed
//   to the package's name so the SBOM does not depend on where it was made.
// Validated against the CycloneDX schema by test/integration/repo/sbom.test.ts.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export function makeSbom(): Record<string, unknown> {
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { name: string; version: string };
  const out = execFileSync(
    'npm',
    ['sbom', '--sbom-format', 'cyclonedx', '--sbom-type', 'application', '--package-lock-only'],
    { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const bom = JSON.parse(out) as {
    metadata?: { component?: { name?: string; version?: string } };
    components: { 'bom-ref': string; properties?: { name: string; value: string }[] }[];
    dependencies?: { ref: string; dependsOn?: string[] }[];
  };
  bom.components = bom.components.filter(
    (c) => !c.properties?.some((p) => p.name === 'cdx:npm:package:development' && p.value === 'true'),
  );
  const kept = new Set(bom.components.map((c) => c['bom-ref']));
  const rootRef = (bom.metadata?.component as { 'bom-ref'?: string } | undefined)?.['bom-ref'];
  if (rootRef) kept.add(rootRef);
  bom.dependencies = (bom.dependencies ?? [])
    .filter((d) => kept.has(d.ref))
    .map((d) => ({ ...d, dependsOn: (d.dependsOn ?? []).filter((r) => kept.has(r)) }));
  if (bom.metadata?.component) {
    bom.metadata.component.name = pkg.name;
    bom.metadata.component.version = pkg.version;
  }
  return bom;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const text = `${JSON.stringify(makeSbom(), null, 2)}\n`;
  if (i !== -1 && process.argv[i + 1]) writeFileSync(process.argv[i + 1]!, text);
  else process.stdout.write(text);
}
