import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../../package.json' with { type: 'json' };
import { cosignBinary } from '../../../scripts/release-artifacts.ts';

// `npm run release:artifacts` with a key pair made here: the npm package, the chart package and the
// SBOM come out signed with cosign (built from its pinned module by hack/cosign/build.sh), and
// `cosign verify-blob` accepts each and refuses a changed artifact or another key. Offline: no
// transparency-log upload at signing, none required at verification (keyless signing, which needs
// the CI's OIDC token and Sigstore's services, is in docs/security/supply-chain.md).
const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'kubeop-release-'));
const out = join(work, 'dist');
const env = { ...process.env, COSIGN_PASSWORD: 'test-only-password', TUF_ROOT: join(work, 'tuf') };
let cosign: string;
let artifacts: string[];

async function keyPair(dir: string): Promise<string> {
  await run(cosign, ['generate-key-pair', '--output-key-prefix', join(dir, 'cosign')], { cwd: work, env });
  return join(dir, 'cosign');
}
async function verify(key: string, artifact: string, signature = `${artifact}.sig`) {
  return run(
    cosign,
    ['verify-blob', '--key', `${key}.pub`, '--insecure-ignore-tlog', '--signature', signature, artifact],
    {
      env,
    },
  ).then(
    () => true,
    () => false,
  );
}

beforeAll(async () => {
  cosign = cosignBinary(); // builds it on first use (minutes), else the cached binary
  const key = await keyPair(work);
  const { stdout } = await run(process.execPath, ['scripts/release-artifacts.ts', '--out', out], {
    cwd: root,
    env: { ...env, KUBEOP_COSIGN_KEY: `${key}.key` },
    maxBuffer: 64 * 1024 * 1024,
  });
  artifacts = stdout.trim().split('\n').slice(0, -1);
}, 1_200_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('release artifacts', () => {
  it('are the npm package, the chart package and the SBOM, each with a signature and a checksum', () => {
    expect(artifacts.map((a) => a.slice(out.length + 1))).toEqual([
      `${pkg.name}-${pkg.version}.tgz`,
      expect.stringMatching(/^kubeop-chart-[0-9][^/]*\.tgz$/),
      `${pkg.name}-${pkg.version}.cdx.json`,
    ]);
    const sums = readFileSync(join(out, 'SHA256SUMS'), 'utf8');
    for (const a of artifacts) {
      expect(sums).toContain(`  ${a.slice(out.length + 1)}\n`);
      expect(sums).toContain(`  ${a.slice(out.length + 1)}.sig\n`);
    }
    expect(JSON.parse(readFileSync(artifacts[2]!, 'utf8'))).toMatchObject({ bomFormat: 'CycloneDX' });
  });

  it('verify with the public key of the pair that signed them', async () => {
    for (const a of artifacts) expect(await verify(join(work, 'cosign'), a), basename(a)).toBe(true);
  });

  it('do not verify once changed, or with another key', async () => {
    const tampered = join(work, 'tampered.tgz');
    copyFileSync(artifacts[0]!, tampered);
    writeFileSync(tampered, Buffer.concat([readFileSync(tampered), Buffer.from([0])]));
    expect(await verify(join(work, 'cosign'), tampered, `${artifacts[0]}.sig`)).toBe(false);

    const otherDir = mkdtempSync(join(work, 'other-'));
    const other = await keyPair(otherDir);
    for (const a of artifacts) expect(await verify(other, a), basename(a)).toBe(false);
  });
});
