import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helmSource, type HelmSourceOptions } from '../../../src/delivery/helm/source.ts';
import { helmTemplate } from '../../../src/delivery/helm/template.ts';
import type { KubeObject } from '../../../src/schemas/kube-object.ts';
import {
  chartFixture,
  helmContext as context,
  sourceFailure as failure,
  startChartRepo,
  testHelmBinary,
  unusedLoopbackUrl,
  type ChartRepo,
} from '../../support/chart-repo.ts';

const helm = testHelmBinary();
if (!helm) {
  process.stderr.write(
    '\n*** SKIPPING Helm source tests: no helm binary (set KUBEOP_HELM_BINARY or run `npm run cluster -- up` once) ***\n\n',
  );
}

const find = (objects: KubeObject[], kind: string) => {
  const found = objects.find((o) => o.kind === kind);
  if (!found) throw new Error(`no ${kind} in ${objects.map((o) => o.kind).join(', ')}`);
  return found as KubeObject & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
};

describe.skipIf(!helm)('helm source with an HTTP chart repository', () => {
  let repo: ChartRepo;
  let cacheDir: string;
  const options = (extra: Partial<HelmSourceOptions> = {}): HelmSourceOptions => ({
    helmBinary: helm!,
    cacheDir,
    timeoutMs: 20_000,
    ...extra,
  });

  beforeAll(async () => {
    repo = await startChartRepo(helm!, [
      { name: 'web', versions: ['1.0.0', '1.2.0', '1.10.1', '2.0.0', '3.0.0-rc.1'] },
    ]);
  });
  beforeAll(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'kubeop-helm-cache-test-'));
  });
  afterAll(async () => {
    await repo?.close();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  it('renders the highest version matching a constraint, as the App release in the project namespace', async () => {
    const rendered = await helmSource(options()).render(
      context({ chart: 'web', repoURL: repo.url, version: '^1.0' }),
    );
    expect(rendered.sourceRevision).toBe('web@1.10.1');
    expect(rendered.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/shop-settings',
      'Deployment/shop',
      'Service/shop',
    ]);
    const deployment = find(rendered.objects, 'Deployment');
    expect(deployment.metadata.labels?.['app.kubernetes.io/version']).toBe('1.10.1');
    expect(deployment.spec.template.spec.containers[0].image).toBe('registry.example/web:1.10.1');
    expect(find(rendered.objects, 'ConfigMap').data).toMatchObject({
      namespace: 'acme-shop',
      message: 'hello',
    });
  });

  it('takes the newest stable version when no version is given', async () => {
    const rendered = await helmSource(options()).render(context({ chart: 'web', repoURL: `${repo.url}/` }));
    expect(rendered.sourceRevision).toBe('web@2.0.0');
  });

  it('leaves out hooks, test hooks and the chart CRDs, and lookup finds nothing', async () => {
    const rendered = await helmSource(options()).render(
      context({ chart: 'web', repoURL: repo.url, version: '1.0.0' }),
    );
    const kinds = rendered.objects.map((o) => o.kind);
    expect(kinds).not.toContain('Job');
    expect(kinds).not.toContain('Pod');
    expect(kinds).not.toContain('CustomResourceDefinition');
    expect(find(rendered.objects, 'ConfigMap').data.lookup).toBe('empty');
  });

  it('merges valuesFrom in order, then inline values', async () => {
    const rendered = await helmSource(options()).render(
      context(
        {
          chart: 'web',
          repoURL: repo.url,
          version: '1.0.0',
          valuesFrom: [
            { kind: 'ConfigMap', name: 'shop-values' },
            { kind: 'Secret', name: 'shop-secret-values', key: 'secret.yaml' },
            { kind: 'ConfigMap', name: 'not-there', optional: true },
          ],
          values: { message: 'inline wins' },
        },
        {
          configMaps: {
            'shop-values': {
              'values.yaml': 'replicaCount: 3\nmessage: from-configmap\nservice: {port: 8081}',
            },
          },
          secrets: {
            'shop-secret-values': { 'secret.yaml': 'image: {tag: "from-secret"}\nservice: {port: 9090}' },
          },
        },
      ),
    );
    const deployment = find(rendered.objects, 'Deployment');
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.template.spec.containers[0].image).toBe('registry.example/web:from-secret');
    expect(find(rendered.objects, 'Service').spec.ports[0].port).toBe(9090);
    expect(find(rendered.objects, 'ConfigMap').data.message).toBe('inline wins');
  });

  it('reports a missing chart version as RevisionNotFound naming the versions that exist', async () => {
    const err = await failure(
      helmSource(options()).render(context({ chart: 'web', repoURL: repo.url, version: '9.9.9' })),
    );
    expect(err.reason).toBe('RevisionNotFound');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('chart "web" has no version matching "9.9.9"');
    expect(err.message).toContain('2.0.0, 1.10.1, 1.2.0, 1.0.0');
    expect(err.message).toContain('Fix source.helm.version');
  });

  it('reports a chart the repository does not have as RevisionNotFound', async () => {
    const err = await failure(helmSource(options()).render(context({ chart: 'api', repoURL: repo.url })));
    expect(err.reason).toBe('RevisionNotFound');
    expect(err.message).toContain('charts there: web');
  });

  it('reports an unreachable repository as a retryable SourceUnreachable', async () => {
    const url = await unusedLoopbackUrl();
    const err = await failure(
      helmSource(options()).render(context({ chart: 'web', repoURL: url, version: '^1' })),
    );
    expect(err.reason).toBe('SourceUnreachable');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain(`${url}/index.yaml is unreachable`);
    expect(err.message).toContain('check source.helm.repoURL');
  });

  it('reports a wrong repository path as SourceUnreachable with the HTTP status', async () => {
    const err = await failure(
      helmSource(options()).render(context({ chart: 'web', repoURL: repo.url.replace('/charts', '/nope') })),
    );
    expect(err.reason).toBe('SourceUnreachable');
    expect(err.message).toContain('answered 404 (not found): check source.helm.repoURL');
  });

  it('gives up on a repository slower than the timeout', async () => {
    repo.delayMs = 3000;
    try {
      const err = await failure(
        helmSource(options({ timeoutMs: 500 })).render(
          context({ chart: 'web', repoURL: repo.url, version: '^1' }),
        ),
      );
      expect(err.reason).toBe('SourceUnreachable');
      expect(err.message).toContain('did not answer within 500ms');
    } finally {
      repo.delayMs = 0;
    }
  });

  it('authenticates to a private repository with the credentials Secret, and says what to fix otherwise', async () => {
    const password = 'pw-repo-7f3a9c';
    repo.auth = { username: 'reader', password };
    const secrets = {
      'repo-creds': { username: 'reader', password },
      'wrong-creds': { username: 'reader', password: 'not-it-123' },
    };
    try {
      const source = helmSource(options({ cacheDir: join(cacheDir, 'private') }));
      const ok = await source.render(
        context(
          { chart: 'web', repoURL: repo.url, version: '1.2.0', credentialsSecretName: 'repo-creds' },
          { secrets },
        ),
      );
      expect(ok.sourceRevision).toBe('web@1.2.0');

      // The package cached for an App with credentials is not served to one without them.
      const anonymous = await failure(
        source.render(context({ chart: 'web', repoURL: repo.url, version: '1.2.0' })),
      );
      expect(anonymous.reason).toBe('SourceUnreachable');
      expect(anonymous.retryable).toBe(false);
      expect(anonymous.message).toContain(
        'answered 401: the repository requires credentials; set source.helm.credentialsSecretName',
      );

      const wrong = await failure(
        source.render(
          context(
            { chart: 'web', repoURL: repo.url, version: '1.0.0', credentialsSecretName: 'wrong-creds' },
            { secrets },
          ),
        ),
      );
      expect(wrong.message).toContain('it refused the credentials');
      expect(wrong.message).not.toContain('not-it-123');

      const missing = await failure(
        source.render(
          context({ chart: 'web', repoURL: repo.url, credentialsSecretName: 'gone' }, { secrets }),
        ),
      );
      expect(missing.reason).toBe('CredentialsMissing');
      expect(missing.message).toBe(
        'Secret gone (source.helm.credentialsSecretName) does not exist in namespace acme-shop',
      );
    } finally {
      repo.auth = undefined;
    }
  });

  it('retries a repository answering a server error', async () => {
    repo.failWith = 503;
    try {
      const err = await failure(helmSource(options()).render(context({ chart: 'web', repoURL: repo.url })));
      expect(err.reason).toBe('SourceUnreachable');
      expect(err.retryable).toBe(true);
      expect(err.message).toContain('answered HTTP 503');
    } finally {
      repo.failWith = undefined;
    }
  });

  it('refuses an index or a package over the size limits', async () => {
    const index = await failure(
      helmSource(options({ maxIndexBytes: 100 })).render(context({ chart: 'web', repoURL: repo.url })),
    );
    expect(index.reason).toBe('SourceTooLarge');
    expect(index.message).toContain('index.yaml is larger than 100 bytes');
    const chart = await failure(
      helmSource(options({ maxChartBytes: 100, cacheDir: join(cacheDir, 'small') })).render(
        context({ chart: 'web', repoURL: repo.url, version: '1.0.0' }),
      ),
    );
    expect(chart.reason).toBe('SourceTooLarge');
    expect(chart.message).toContain('the package of chart web@1.0.0');
  });

  it('refuses a package whose digest does not match the index', async () => {
    const other = await startChartRepo(helm!, [{ name: 'web', versions: ['1.0.0'] }]);
    try {
      await other.corrupt('web', '1.0.0');
      const err = await failure(
        helmSource(options()).render(context({ chart: 'web', repoURL: other.url, version: '1.0.0' })),
      );
      expect(err.reason).toBe('SourceUnreachable');
      expect(err.message).toContain('does not match the digest');
    } finally {
      await other.close();
    }
  });

  it('renders a cached exact version without contacting the repository', async () => {
    const source = helmSource(options());
    await source.render(context({ chart: 'web', repoURL: repo.url, version: '1.2.0' }));
    const before = repo.requests.length;
    const again = await source.render(context({ chart: 'web', repoURL: repo.url, version: '1.2.0' }));
    expect(again.sourceRevision).toBe('web@1.2.0');
    expect(repo.requests.length).toBe(before);
  });

  it('reports values the chart schema rejects as RenderFailed with helm’s explanation', async () => {
    const err = await failure(
      helmSource(options()).render(
        context({ chart: 'web', repoURL: repo.url, version: '1.0.0', values: { replicaCount: 'three' } }),
      ),
    );
    expect(err.reason).toBe('RenderFailed');
    expect(err.message).toMatch(/^helm template failed: .*replicaCount/s);
  });

  it('never shows a value read from a Secret in a render error', async () => {
    const err = await failure(
      helmSource(options()).render(
        context(
          { chart: 'web', repoURL: repo.url, version: '1.0.0', valuesFrom: [{ kind: 'Secret', name: 's' }] },
          {
            secrets: {
              s: { 'values.yaml': 'failWith: "pw-0123456789"\nmessage: ok' },
            },
          },
        ),
      ),
    );
    expect(err.reason).toBe('RenderFailed');
    expect(err.message).toContain('execution error');
    expect(err.message).toContain('***');
    expect(err.message).not.toContain('pw-0123456789');
  });
});

describe.skipIf(!helm)('helmTemplate', () => {
  it('renders a chart directory and skips documents that rendered empty', async () => {
    const objects = await helmTemplate({
      helmBinary: helm!,
      chartPath: chartFixture('web'),
      releaseName: 'r1',
      namespace: 'ns1',
      values: { replicaCount: 2 },
    });
    expect(objects).toHaveLength(3);
    expect(find(objects, 'Deployment').spec.replicas).toBe(2);
  });

  it('stops helm at the timeout', async () => {
    const err = await failure(
      helmTemplate({
        helmBinary: helm!,
        chartPath: chartFixture('web'),
        releaseName: 'r',
        namespace: 'n',
        timeoutMs: 5,
      }),
    );
    expect(err.reason).toBe('RenderFailed');
    expect(err.retryable).toBe(true);
    expect(err.message).toBe('helm template did not finish within 5ms');
  });

  it('says how to fix a missing helm binary', async () => {
    const err = await failure(
      helmTemplate({
        helmBinary: '/nonexistent/helm',
        chartPath: chartFixture('web'),
        releaseName: 'r',
        namespace: 'n',
      }),
    );
    expect(err.reason).toBe('RenderFailed');
    expect(err.message).toContain('set KUBEOP_HELM_BINARY');
  });

  it('reports a missing chart path as RenderFailed', async () => {
    const err = await failure(
      helmTemplate({ helmBinary: helm!, chartPath: '/nonexistent/chart', releaseName: 'r', namespace: 'n' }),
    );
    expect(err.reason).toBe('RenderFailed');
    expect(err.message).toContain('/nonexistent/chart');
  });
});
