import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helmSource, type HelmSourceOptions } from '../../../src/delivery/helm/source.ts';
import {
  chartFixture,
  helmCli,
  helmContext as context,
  packageChart,
  sourceFailure as failure,
  testHelmBinary,
  unusedLoopbackUrl,
} from '../../support/chart-repo.ts';
import { startOciRegistry, type OciRegistry } from '../../support/oci-registry.ts';

const helm = testHelmBinary();

describe.skipIf(!helm)('helm source with an OCI registry', () => {
  let registry: OciRegistry;
  let work: string;
  const options = (extra: Partial<HelmSourceOptions> = {}): HelmSourceOptions => ({
    helmBinary: helm!,
    cacheDir: join(work, 'cache'),
    timeoutMs: 20_000,
    ...extra,
  });

  beforeAll(async () => {
    registry = await startOciRegistry();
    work = await mkdtemp(join(tmpdir(), 'kubeop-helm-oci-test-'));
    for (const version of ['1.0.0', '1.1.0', '2.0.0', '3.0.0-rc.1']) {
      const tgz = await packageChart(helm!, chartFixture('web'), version, join(work, 'packages'));
      await helmCli(helm!, ['push', tgz, `oci://${registry.host}/charts`, '--plain-http'], work);
    }
  });
  afterAll(async () => {
    await registry?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('pushed charts are tagged by version', () => {
    expect(registry.tags('charts/web')).toEqual(['1.0.0', '1.1.0', '2.0.0', '3.0.0-rc.1']);
  });

  it('renders the highest tag matching a constraint from a full oci:// chart reference', async () => {
    const rendered = await helmSource(options()).render(
      context({ chart: `oci://${registry.host}/charts/web`, version: '^1.0.0', values: { replicaCount: 2 } }),
    );
    expect(rendered.sourceRevision).toBe('web@1.1.0');
    const deployment = rendered.objects.find((o) => o.kind === 'Deployment') as {
      spec?: { replicas?: number };
    };
    expect(deployment.spec?.replicas).toBe(2);
    expect(rendered.objects.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'Service']);
  });

  it('renders an exact version from an oci:// repoURL plus a chart name, then from the cache', async () => {
    const source = helmSource(options());
    const spec = { chart: 'web', repoURL: `oci://${registry.host}/charts`, version: '2.0.0' };
    expect((await source.render(context(spec))).sourceRevision).toBe('web@2.0.0');
    const before = registry.requests.length;
    expect((await source.render(context(spec))).sourceRevision).toBe('web@2.0.0');
    expect(registry.requests.length).toBe(before);
  });

  it('reports a tag the registry does not have as RevisionNotFound', async () => {
    const err = await failure(
      helmSource(options()).render(context({ chart: `oci://${registry.host}/charts/web`, version: '9.9.9' })),
    );
    expect(err.reason).toBe('RevisionNotFound');
    expect(err.message).toContain('Fix source.helm.version');
  });

  it('reports a constraint no tag matches as RevisionNotFound', async () => {
    const err = await failure(
      helmSource(options()).render(context({ chart: `oci://${registry.host}/charts/web`, version: '^5' })),
    );
    expect(err.reason).toBe('RevisionNotFound');
  });

  it('reports an unreachable registry as a retryable SourceUnreachable', async () => {
    const host = new URL(await unusedLoopbackUrl()).host;
    const err = await failure(
      helmSource(options()).render(context({ chart: `oci://${host}/charts/web`, version: '1.0.0' })),
    );
    expect(err.reason).toBe('SourceUnreachable');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain(`pulling oci://${host}/charts/web version 1.0.0 failed`);
  });

  it('takes the newest stable tag when no version is given', async () => {
    const rendered = await helmSource(options()).render(
      context({ chart: `oci://${registry.host}/charts/web` }),
    );
    expect(rendered.sourceRevision).toBe('web@2.0.0');
  });

  it('logs in to a private registry with the credentials Secret', async () => {
    registry.auth = { username: 'puller', password: 'pw-oci-51d0e2' };
    try {
      const secrets = { 'registry-creds': { username: 'puller', password: 'pw-oci-51d0e2' } };
      const source = helmSource(options({ cacheDir: join(work, 'private-cache') }));
      const rendered = await source.render(
        context(
          {
            chart: `oci://${registry.host}/charts/web`,
            version: '~1.0',
            credentialsSecretName: 'registry-creds',
          },
          { secrets },
        ),
      );
      expect(rendered.sourceRevision).toBe('web@1.0.0');
      const anonymous = await failure(
        source.render(context({ chart: `oci://${registry.host}/charts/web`, version: '1.0.0' })),
      );
      expect(anonymous.reason).toBe('SourceUnreachable');
      expect(anonymous.message).not.toContain('pw-oci-51d0e2');
    } finally {
      registry.auth = undefined;
    }
  });
});
