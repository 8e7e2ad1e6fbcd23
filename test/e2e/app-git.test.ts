import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectNamespace } from '../../src/domain/naming.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { signBody } from '../../src/operator/git-webhook.ts';
import type { App, Project } from '../../src/schemas/crds/types.ts';
import { eventually, kubeconfigPath } from '../support/e2e.ts';
import { LocalRepos, startGitHttpServer, type GitHttpServer } from '../support/git-server.ts';
import type { Started } from '../support/kubeop-process.ts';
import { installKubeop, startOperatorProcess } from '../support/operator.ts';

const API = 'paas.kubeop.io/v1alpha1';
const suffix = () => randomBytes(3).toString('hex');
const cm = (name: string, value: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  value: "${value}"\n`;

/** The helm the e2e control plane ships (test/support/cluster), else `helm` from PATH. */
function helmBinary(): string {
  const root = join(homedir(), '.cache/kubeop/controlplane');
  for (const d of existsSync(root) ? readdirSync(root) : []) {
    for (const candidate of [join(root, d, 'helm'), join(root, d, 'bin/helm')])
      if (existsSync(candidate)) return candidate;
  }
  return 'helm';
}

/**
 * The git source through the real `kubeop operator` executable: a repository served by
 * `git http-backend` with basic auth on 127.0.0.1, credentials in a Secret of the project, pushes
 * that reach the cluster by polling and by the signed webhook, and failures that leave the last
 * good revision running.
 */
describe.skipIf(!kubeconfigPath)('App from a Git repository', () => {
  const webhookSecret = `whsec-${randomBytes(16).toString('hex')}`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const tenant = `git-${suffix()}`;
  const project = `site-${suffix()}`;
  const ns = projectNamespace(tenant, project);
  let admin: KubeClient;
  let repos: LocalRepos;
  let server: GitHttpServer;
  let operator: Started;
  let cacheDir: string;

  beforeAll(async () => {
    await installKubeop(kubeconfigPath!);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath!);
    admin = new KubeClient(kc, { fieldManager: 'e2e-test' });
    repos = await LocalRepos.create();
    server = await startGitHttpServer(repos, { auth: { username: 'deployer', password } });
    cacheDir = await mkdtemp(join(tmpdir(), 'kubeop-e2e-git-cache-'));
    operator = await startOperatorProcess(kubeconfigPath!, {
      KUBEOP_LEADER_ELECT: 'false',
      KUBEOP_GIT_WEBHOOK_SECRET: webhookSecret,
      KUBEOP_GIT_CACHE_DIR: cacheDir,
      KUBEOP_GIT_TIMEOUT_SECONDS: '10',
      // Long enough that only the webhook or the App's own poll interval can explain a sync.
      KUBEOP_APP_RESYNC_SECONDS: '3600',
      KUBEOP_HELM_BINARY: helmBinary(),
    });
    await admin.apply({
      apiVersion: API,
      kind: 'Tenant',
      metadata: { name: tenant },
      spec: { owners: [{ kind: 'User', name: 'owner' }] },
    });
    await admin.apply({
      apiVersion: API,
      kind: 'Project',
      metadata: { name: project },
      spec: { tenantRef: { name: tenant } },
    });
    await eventually(
      `project ${project} Ready`,
      async () => {
        const p = await admin.get<Project>({ apiVersion: API, kind: 'Project', name: project });
        return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
      },
      90_000,
    );
    await admin.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'git-creds', namespace: ns },
      type: 'kubernetes.io/basic-auth',
      stringData: { username: 'deployer', password },
    });
  });
  afterAll(async () => {
    await admin?.delete({ apiVersion: API, kind: 'Project', name: project }).catch(() => {});
    await admin?.delete({ apiVersion: API, kind: 'Tenant', name: tenant }).catch(() => {});
    await operator?.stop();
    await server?.stop();
    await repos?.remove();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  const getApp = (name: string) => admin.get<App>({ apiVersion: API, kind: 'App', name, namespace: ns });
  const configValue = async (name: string) => {
    const c = await admin
      .get({ apiVersion: 'v1', kind: 'ConfigMap', name, namespace: ns })
      .catch(() => undefined);
    return (c as { data?: Record<string, string> } | undefined)?.data?.value;
  };
  const degraded = (a: App) =>
    a.status?.conditions?.find((c) => c.type === 'Degraded' && c.status === 'True');

  async function applyApp(name: string, repo: string, pollIntervalSeconds: number) {
    await admin.apply({
      apiVersion: API,
      kind: 'App',
      metadata: { name, namespace: ns },
      spec: {
        source: {
          git: {
            url: server.url(repo),
            branch: 'main',
            path: 'deploy',
            credentialsSecretName: 'git-creds',
            pollIntervalSeconds,
          },
        },
      },
    });
  }

  async function webhook(body: string, signature = signBody(body, webhookSecret)) {
    return fetch(`${operator.url}/hooks/git`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
      body,
    });
  }

  it('delivers the branch head and then a pushed commit at the next poll', async () => {
    const first = await repos.init('polled', { 'deploy/cm.yaml': cm('polled', 'one') });
    await applyApp('polled', 'polled', 15);
    const app = await eventually('first revision delivered', async () => {
      const a = await getApp('polled');
      return a.status?.sourceRevision === first && (await configValue('polled')) === 'one' ? a : undefined;
    });
    expect(app.status?.revision).toBe(1);

    const second = await repos.commit('polled', { 'deploy/cm.yaml': cm('polled', 'two') });
    const pushedAt = Date.now();
    await eventually(
      'pushed commit delivered by polling',
      async () =>
        (await getApp('polled')).status?.sourceRevision === second && (await configValue('polled')) === 'two'
          ? true
          : undefined,
      60_000,
    );
    // Nothing but the 15 s poll could have caused it (resync is an hour, no webhook was sent).
    expect(Date.now() - pushedAt).toBeLessThan(45_000);
    expect((await getApp('polled')).status?.history?.map((h) => h.sourceRevision)).toEqual([second, first]);
  });

  it('delivers a push at once when the signed webhook names the repository', async () => {
    const first = await repos.init('hooked', { 'deploy/cm.yaml': cm('hooked', 'one') });
    await applyApp('hooked', 'hooked', 3600);
    await eventually('first revision delivered', async () =>
      (await getApp('hooked')).status?.sourceRevision === first ? true : undefined,
    );
    const second = await repos.commit('hooked', { 'deploy/cm.yaml': cm('hooked', 'two') });

    const forged = await webhook(
      JSON.stringify({ url: server.url('hooked') }),
      signBody('{}', webhookSecret),
    );
    expect(forged.status).toBe(401);
    expect(forged.headers.get('content-type')).toContain('application/problem+json');

    // A GitHub-style push payload: the clone URL without credentials, spelled without `.git`.
    const res = await webhook(
      JSON.stringify({
        ref: 'refs/heads/main',
        repository: { clone_url: server.url('hooked').replace(/\.git$/, '') },
      }),
    );
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ apps: 1 });
    await eventually(
      'pushed commit delivered by the webhook',
      async () =>
        (await getApp('hooked')).status?.sourceRevision === second && (await configValue('hooked')) === 'two'
          ? true
          : undefined,
      20_000,
    );
  });

  it('renders a kustomization and a chart kept in the repository', async () => {
    const commit = await repos.init('layouts', {
      'base/kustomization.yaml': 'resources:\n  - cm.yaml\n',
      'base/cm.yaml': cm('settings', 'base'),
      'overlays/prod/kustomization.yaml': 'namePrefix: prod-\nresources:\n  - ../../base\n',
      'chart/Chart.yaml': 'apiVersion: v2\nname: demo\nversion: 0.1.0\n',
      'chart/values.yaml': 'greeting: hello\n',
      'chart/templates/cm.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cfg\ndata:\n  value: {{ .Values.greeting }}\n',
    });
    for (const [name, path] of [
      ['kustomized', 'overlays/prod'],
      ['charted', 'chart'],
    ] as const) {
      await admin.apply({
        apiVersion: API,
        kind: 'App',
        metadata: { name, namespace: ns },
        spec: { source: { git: { url: server.url('layouts'), path, credentialsSecretName: 'git-creds' } } },
      });
    }
    await eventually('kustomization delivered', async () =>
      (await configValue('prod-settings')) === 'base' ? true : undefined,
    );
    await eventually('chart delivered', async () =>
      (await configValue('charted-cfg')) === 'hello' ? true : undefined,
    );
    expect((await getApp('charted')).status?.sourceRevision).toBe(commit);
  });

  it('keeps the last good revision running when the YAML breaks or the repository is unreachable', async () => {
    const good = (await getApp('hooked')).status?.sourceRevision;
    expect(good).toMatch(/^[0-9a-f]{40}$/);
    await repos.commit('hooked', {
      'deploy/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hooked\ndata: [broken\n',
    });
    await webhook(JSON.stringify({ url: server.url('hooked') }));
    const broken = await eventually('App Degraded with InvalidManifests', async () => {
      const a = await getApp('hooked');
      return degraded(a)?.reason === 'InvalidManifests' ? a : undefined;
    });
    expect(degraded(broken)?.message).toContain('deploy/cm.yaml: document 1 is not valid YAML');
    expect(broken.status?.sourceRevision).toBe(good);
    expect(await configValue('hooked')).toBe('two');

    await server.stop();
    await webhook(JSON.stringify({ url: server.url('hooked') }));
    const unreachable = await eventually('App Degraded with SourceUnreachable', async () => {
      const a = await getApp('hooked');
      return degraded(a)?.reason === 'SourceUnreachable' ? a : undefined;
    });
    expect(degraded(unreachable)?.message).not.toContain(password);
    expect(unreachable.status?.sourceRevision).toBe(good);
    expect(await configValue('hooked')).toBe('two');
  });
});
