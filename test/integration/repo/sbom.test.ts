import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import lock from '../../../package-lock.json' with { type: 'json' };
import pkg from '../../../package.json' with { type: 'json' };

// `npm run sbom` writes a CycloneDX SBOM of the production dependency tree; this checks it against
// the CycloneDX JSON schema (as published by the CycloneDX project, shipped in its library's
// package) and against package-lock.json, so it lists what the package really ships.
const root = fileURLToPath(new URL('../../..', import.meta.url));
const schemaDir = `${root}/node_modules/@cyclonedx/cyclonedx-library/res/schema`;
const readSchema = (name: string) =>
  JSON.parse(readFileSync(`${schemaDir}/${name}`, 'utf8')) as Record<string, unknown>;

interface Component {
  name: string;
  version: string;
  purl?: string;
  scope?: string;
}
interface Bom {
  bomFormat: string;
  specVersion: string;
  metadata: { component: { name: string; version: string; type: string } };
  components: Component[];
  dependencies: { ref: string; dependsOn?: string[] }[];
}

function validator(specVersion: string): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  // Formats the schema uses that ajv-formats leaves out: checked loosely, as the schema's own
  // reference validator (the CycloneDX library) does.
  ajv.addFormat('iri-reference', /^\S*$/u);
  ajv.addFormat('idn-email', /^\S+@\S+$/u);
  // The schema refers to its companions by their SNAPSHOT file names.
  for (const name of ['spdx.SNAPSHOT.schema.json', 'jsf-0.82.SNAPSHOT.schema.json']) {
    ajv.addSchema({ ...readSchema(name), $id: `http://cyclonedx.org/schema/${name}` });
  }
  return ajv.compile(readSchema(`bom-${specVersion}.SNAPSHOT.schema.json`));
}

let bom: Bom;
beforeAll(async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['scripts/sbom.ts'], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  bom = JSON.parse(stdout) as Bom;
}, 120_000);

describe('npm run sbom', () => {
  it('is a CycloneDX document valid against the CycloneDX JSON schema of its version', () => {
    expect(bom.bomFormat).toBe('CycloneDX');
    const validate = validator(bom.specVersion);
    expect(validate(bom), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
  });

  it('the schema check does reject a malformed SBOM (so the check above can fail)', () => {
    const validate = validator(bom.specVersion);
    const broken = structuredClone(bom) as unknown as Record<string, unknown>;
    (broken.components as Record<string, unknown>[])[0]!.type = 'not-a-component-type';
    expect(validate(broken)).toBe(false);
    expect(validate({ ...bom, bomFormat: 'SPDX' })).toBe(false);
  });

  it('describes the kubeop package by its own name, wherever the repository is checked out', () => {
    expect(bom.metadata.component).toMatchObject({
      name: pkg.name,
      version: pkg.version,
      type: 'application',
    });
  });

  it('lists every production dependency at the version package-lock.json pins, and no dev-only one', () => {
    const listed = new Map(bom.components.map((c) => [c.name, c.version]));
    const packages = lock.packages as Record<string, { version?: string; dev?: boolean }>;
    for (const name of Object.keys(pkg.dependencies)) {
      expect(listed.get(name), name).toBe(packages[`node_modules/${name}`]?.version);
    }
    const prodInLock = new Set(
      Object.entries(packages)
        .filter(([path, p]) => path.startsWith('node_modules/') && !p.dev)
        .map(([path, p]) => `${path.split('node_modules/').at(-1)}@${p.version}`),
    );
    expect(new Set(bom.components.map((c) => `${c.name}@${c.version}`))).toEqual(prodInLock);
    for (const devOnly of ['vitest', 'vitepress', 'eslint', 'typescript'])
      expect(listed.has(devOnly), devOnly).toBe(false);
    expect(bom.components.every((c) => c.purl?.startsWith('pkg:npm/'))).toBe(true);
    // The dependency graph refers only to listed components.
    const refs = new Set([
      ...bom.components.map((c) => `${c.name}@${c.version}`),
      `${pkg.name}@${pkg.version}`,
    ]);
    for (const d of bom.dependencies) for (const r of d.dependsOn ?? []) expect(refs.has(r), r).toBe(true);
  });
});
