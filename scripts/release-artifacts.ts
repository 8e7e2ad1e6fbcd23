// `npm run release:artifacts [-- --out DIR]` (default dist/release): the release artifacts and their
// signatures.
//
//   kubeop-<version>.tgz          the npm package (`npm pack`)
//   kubeop-chart-<version>.tgz    the Helm chart (`helm package deploy/chart/kubeop`, renamed so it
//                                 cannot collide with the npm package; helm installs it by any name)
//   kubeop-<version>.cdx.json     the CycloneDX SBOM (`npm run sbom`)
//   <artifact>.sig                a cosign signature of each (`cosign sign-blob`)
//   SHA256SUMS                    the checksums of all of the above
//
// Signing, by environment:
//   KUBEOP_COSIGN_KEY=cosign.key (+ COSIGN_PASSWORD)   with a key pair, offline: no transparency-log
//                                                      upload (verify with --insecure-ignore-tlog)
//   KUBEOP_COSIGN_KEYLESS=1                             keyless (Fulcio certificate from the CI's OIDC
//                                                      token, Rekor entry), as the release workflow does;
//                                                      writes <artifact>.sigstore.json bundles
//   neither                                            artifacts unsigned, said on stderr
// cosign is the one hack/cosign/build.sh builds (KUBEOP_COSIGN_BINARY overrides); helm as scripts/helm.ts finds it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireHelm } from './helm.ts';
import { makeSbom } from './sbom.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

export function cosignBinary(env: Record<string, string | undefined> = process.env): string {
  if (env.KUBEOP_COSIGN_BINARY) return env.KUBEOP_COSIGN_BINARY;
  const out = execFileSync('bash', [join(root, 'hack/cosign/build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return join(out.trim().split('\n').at(-1)!, 'cosign');
}

function run(cmd: string, args: string[], cwd = root): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

export function releaseArtifacts(
  outDir: string,
  env: Record<string, string | undefined> = process.env,
): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });

  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', outDir])) as {
    filename: string;
  }[];
  const tarball = join(outDir, packed[0]!.filename);
  const chartTmp = mkdtempSync(join(outDir, '.chart-'));
  run(requireHelm(env), ['package', join(root, 'deploy/chart/kubeop'), '--destination', chartTmp]);
  const packagedChart = readdirSync(chartTmp).find((f) => f.endsWith('.tgz'))!;
  const chart = join(outDir, packagedChart.replace(/^kubeop-/, 'kubeop-chart-'));
  renameSync(join(chartTmp, packagedChart), chart);
  rmSync(chartTmp, { recursive: true });
  const sbom = join(outDir, `${pkg.name}-${pkg.version}.cdx.json`);
  writeFileSync(sbom, `${JSON.stringify(makeSbom(), null, 2)}\n`);
  const artifacts = [tarball, chart, sbom];

  if (env.KUBEOP_COSIGN_KEY) {
    const cosign = cosignBinary(env);
    for (const a of artifacts) {
      run(cosign, [
        'sign-blob',
        '--yes',
        '--key',
        env.KUBEOP_COSIGN_KEY,
        '--tlog-upload=false',
        '--output-signature',
        `${a}.sig`,
        a,
      ]);
    }
  } else if (env.KUBEOP_COSIGN_KEYLESS === '1') {
    const cosign = cosignBinary(env);
    for (const a of artifacts) {
      run(cosign, [
        'sign-blob',
        '--yes',
        '--bundle',
        `${a}.sigstore.json`,
        '--output-signature',
        `${a}.sig`,
        a,
      ]);
    }
  } else {
    process.stderr.write(
      'release: no KUBEOP_COSIGN_KEY or KUBEOP_COSIGN_KEYLESS=1: artifacts are not signed\n',
    );
  }

  const files = readdirSync(outDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
  const sums = files.map(
    (f) => `${createHash('sha256').update(readFileSync(f)).digest('hex')}  ${f.slice(outDir.length + 1)}`,
  );
  writeFileSync(join(outDir, 'SHA256SUMS'), `${sums.join('\n')}\n`);
  return artifacts;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const out = resolve(i !== -1 && process.argv[i + 1] ? process.argv[i + 1]! : join(root, 'dist/release'));
  for (const a of releaseArtifacts(out)) process.stdout.write(`${a}\n`);
  process.stdout.write(`${join(out, 'SHA256SUMS')}\n`);
}
