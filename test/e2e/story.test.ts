import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectNamespace } from '../../src/domain/naming.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { deleteTenantsAndWait, removeWebhookConfigurations } from '../support/admission.ts';
import { eventually, kubeconfigPath } from '../support/e2e.ts';
import { LocalRepos, startGitHttpServer, type GitHttpServer } from '../support/git-server.ts';
import { startKubeop, type Started } from '../support/kubeop-process.ts';

const run = promisify(execFile);
const HOUR = 3_600_000;
const suffix = randomBytes(3).toString('hex');
const tenant = `story-${suffix}`;
const project = 'shop';
const ns = projectNamespace(tenant, project);
const host = `web-${suffix}.apps.example.com`;

/** The git app's manifests: a Deployment that requests 200m CPU and 64 MiB per pod. */
const siteDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: site
spec:
  replicas: 1
  selector:
    matchLabels: { app: site }
  template:
    metadata:
      labels: { app: site }
    spec:
      containers:
        - name: site
          image: registry.example/site:1
          resources:
            requests: { cpu: 200m, memory: 64Mi }
            limits: { cpu: 400m, memory: 128Mi }
`;

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface Resource {
  name: string;
  spec: Record<string, unknown>;
  status?: { conditions?: Condition[]; url?: string; sourceRevision?: string };
}
const ready = (r: Resource | undefined) =>
  r?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/**
 * The platform as a new user meets it: `kubeop all` on its embedded defaults (PGlite, in-process
 * metering) against a cluster, driven only through the public REST API — a tenant on a plan, a
 * project with members, an image app with a host and a Git app, a member's kubeconfig used with
 * kubectl, scaling, metering, an invoice, and deleting the project. The admin kubeconfig only
 * reads, to check what the API says happened did happen in the cluster.
 */
describe.skipIf(!kubeconfigPath)('the whole platform through its public API', () => {
  const token = `kop_${randomBytes(24).toString('base64url')}`;
  const auth = { authorization: `Bearer ${token}` };
  let kubeop: Started;
  let dataDir: string;
  let repos: LocalRepos;
  let git: GitHttpServer;
  let admin: KubeClient;
  let memberKubeconfig: string;
  let startedAt: number;

  async function api<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = auth,
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`${kubeop.url}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }
  const appPath = (name = '') => `/v1/tenants/${tenant}/projects/${project}/apps${name ? `/${name}` : ''}`;

  beforeAll(async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath!);
    admin = new KubeClient(kc, { fieldManager: 'e2e-story' });
    repos = await LocalRepos.create();
    await repos.init('site', { 'deploy/deployment.yaml': siteDeployment });
    git = await startGitHttpServer(repos);
    dataDir = await mkdtemp(join(tmpdir(), 'kubeop-story-'));
    startedAt = Date.now();
    // The quick start, with ports of its own and a short metering window so the test is quick.
    kubeop = await startKubeop(
      ['all'],
      {
        KUBEOP_HTTP_ADDR: '127.0.0.1:0',
        KUBEOP_WEBHOOK_ADDR: '127.0.0.1:0',
        KUBEOP_DATA_DIR: dataDir,
        KUBEOP_KUBECONFIG: kubeconfigPath!,
        KUBEOP_BOOTSTRAP_TOKEN: token,
        KUBEOP_METERING_INTERVAL_SECONDS: '2',
        // What a platform team sets for TLS: certificates from this cert-manager ClusterIssuer.
        KUBEOP_CLUSTER_ISSUER: 'letsencrypt',
        KUBEOP_GIT_CACHE_DIR: join(dataDir, 'git-cache'),
        KUBEOP_LOG_LEVEL: 'info',
      },
      120_000,
    );
    await eventually(
      'kubeop all ready (caches synced, cluster registered)',
      async () => ((await fetch(`${kubeop.url}/readyz`)).status === 200 ? true : undefined),
      120_000,
    );
  }, 300_000);

  afterAll(async () => {
    // Only if a test failed half-way: the last test deletes the tenant and stops kubeOP itself.
    if (kubeop && kubeop.child.exitCode === null) {
      await api('DELETE', `/v1/tenants/${tenant}`).catch(() => {});
      if (admin) await deleteTenantsAndWait(admin, [tenant]).catch(() => {});
      await kubeop.stop();
    }
    if (admin) await removeWebhookConfigurations(admin);
    await git?.stop();
    await repos?.remove();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 300_000);

  it('the cluster of the configuration is registered by itself', async () => {
    const { status, body } = await api<{ items: Array<{ name: string; default: boolean }> }>(
      'GET',
      '/v1/clusters',
    );
    expect(status).toBe(200);
    expect(body.items).toEqual([expect.objectContaining({ name: 'default', default: true })]);
  });

  it('a platform admin puts a tenant on a plan and gives it a project with members', async () => {
    const from = new Date(Math.floor(startedAt / HOUR) * HOUR - HOUR).toISOString();
    // Round prices: one core-second costs 1, one GiB-second 1, one pod-second 0.1.
    const plan = await api('POST', '/v1/plans', {
      name: `story-${suffix}`,
      currency: 'EUR',
      effectiveFrom: from,
      prices: [
        { meter: 'cpu', unitPrice: '3600' },
        { meter: 'memory', unitPrice: '3600' },
        { meter: 'pods', unitPrice: '360' },
      ],
    });
    expect(plan.status, JSON.stringify(plan.body)).toBe(201);
    const t = await api('POST', '/v1/tenants', {
      name: tenant,
      spec: { owners: [{ kind: 'User', name: 'alice' }], quota: { cpu: '8', memory: '16Gi', pods: 40 } },
    });
    expect(t.status, JSON.stringify(t.body)).toBe(201);
    const onPlan = await api('PUT', `/v1/tenants/${tenant}/plan`, {
      plan: `story-${suffix}`,
      effectiveFrom: from,
    });
    expect(onPlan.status, JSON.stringify(onPlan.body)).toBe(200);
    const p = await api('POST', `/v1/tenants/${tenant}/projects`, {
      name: project,
      spec: {
        // Its share of the tenant-wide quota (a resource the tenant limits and the project leaves
        // unset gets none).
        quota: { cpu: '2', memory: '4Gi', pods: 10 },
        members: [
          { kind: 'User', name: 'bob', role: 'edit' },
          { kind: 'Group', name: 'auditors', role: 'view' },
        ],
      },
    });
    expect(p.status, JSON.stringify(p.body)).toBe(201);
    expect(p.body).toMatchObject({ cluster: 'default' });
    const got = await eventually(
      'project Ready through the API',
      async () => {
        const r = await api<Resource>('GET', `/v1/tenants/${tenant}/projects/${project}`);
        return ready(r.body) ? r.body : undefined;
      },
      120_000,
    );
    expect(got.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    // What the API reported is in the cluster: the namespace and the members' RoleBindings.
    const nsObj = await admin.get({ apiVersion: 'v1', kind: 'Namespace', name: ns });
    expect(nsObj.metadata.labels).toMatchObject({ 'paas.kubeop.io/tenant': tenant });
    const bindings = await admin.list('rbac.authorization.k8s.io/v1', 'RoleBinding', { namespace: ns });
    const subjects = bindings.flatMap((b) =>
      ((b as { subjects?: Array<{ kind: string; name: string }> }).subjects ?? []).map((s) => s.name),
    );
    expect(subjects).toEqual(expect.arrayContaining(['bob', 'auditors']));
  }, 180_000);

  it('an app from an image with a host and an app from Git become Ready, the image app with its URL', async () => {
    const web = await api('POST', appPath(), {
      name: 'web',
      spec: {
        source: { image: { ref: 'registry.example/shop/web:1.0' } },
        ports: [{ name: 'http', containerPort: 8080 }],
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '200m', memory: '256Mi' } },
        expose: { hosts: [host] },
      },
    });
    expect(web.status, JSON.stringify(web.body)).toBe(201);
    const site = await api('POST', appPath(), {
      name: 'site',
      spec: { source: { git: { url: git.url('site'), branch: 'main', path: 'deploy' } } },
    });
    expect(site.status, JSON.stringify(site.body)).toBe(201);

    let last: unknown;
    const webReady = await eventually(
      'web Ready with a URL',
      async () => {
        const r = await api<Resource>('GET', appPath('web'));
        last = r.body.status;
        return ready(r.body) && r.body.status?.url ? r.body : undefined;
      },
      150_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last status: ${JSON.stringify(last)}`);
    });
    expect(webReady.status?.url).toBe(`https://${host}/`);
    expect(webReady.status?.sourceRevision).toBe('registry.example/shop/web:1.0');
    const siteReady = await eventually(
      'site Ready',
      async () => {
        const r = await api<Resource>('GET', appPath('site'));
        return ready(r.body) ? r.body : undefined;
      },
      150_000,
    );
    expect(siteReady.status?.sourceRevision).toMatch(/^[0-9a-f]{40}$/);
    const ingress = await admin.get({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      namespace: ns,
      name: 'web',
    });
    expect((ingress.spec as { rules: Array<{ host: string }> }).rules.map((r) => r.host)).toEqual([host]);
    // DNS and TLS handled: external-dns publishes the host, cert-manager issues its certificate.
    expect(ingress.metadata.annotations).toMatchObject({
      'external-dns.alpha.kubernetes.io/hostname': host,
      'cert-manager.io/cluster-issuer': 'letsencrypt',
    });
    expect((ingress.spec as { tls: unknown[] }).tls).toEqual([{ hosts: [host], secretName: 'web-tls' }]);
  }, 330_000);

  it("a member's kubeconfig from the API works with kubectl in the project namespace and nowhere else", async () => {
    const tok = await api<{ token: string }>('POST', '/v1/tokens', {
      name: 'bob',
      role: 'project-editor',
      tenant,
      project,
    });
    expect(tok.status, JSON.stringify(tok.body)).toBe(201);
    const got = await api<{ kubeconfig: string; namespace: string; role: string }>(
      'POST',
      `/v1/tenants/${tenant}/projects/${project}/kubeconfig`,
      { expirationSeconds: 900 },
      { authorization: `Bearer ${tok.body.token}` },
    );
    expect(got.status, JSON.stringify(got.body)).toBe(200);
    expect(got.body).toMatchObject({ namespace: ns, role: 'edit' });
    memberKubeconfig = join(dataDir, 'bob.kubeconfig');
    await writeFile(memberKubeconfig, got.body.kubeconfig, { mode: 0o600 });
    const kubectl = (...args: string[]) => run('kubectl', ['--kubeconfig', memberKubeconfig, ...args]);
    // The context's namespace is the project's: no -n needed.
    const { stdout } = await kubectl('get', 'deployments', '-o', 'name');
    expect(stdout.trim().split('\n').sort()).toEqual(['deployment.apps/site', 'deployment.apps/web']);
    await kubectl('create', 'configmap', 'from-bob', '--from-literal=k=v');
    const elsewhere = await kubectl('get', 'pods', '-n', 'default').then(
      () => 'allowed',
      (err: { stderr: string }) => err.stderr,
    );
    expect(elsewhere).toMatch(/forbidden/i);
  }, 60_000);

  it('scaling the app through the API reaches the cluster', async () => {
    const current = await api<Resource>('GET', appPath('web'));
    const put = await api('PUT', appPath('web'), { spec: { ...current.body.spec, replicas: 3 } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    await eventually(
      'three web pods ready, seen with the member kubeconfig',
      async () => {
        const { stdout } = await run('kubectl', [
          '--kubeconfig',
          memberKubeconfig,
          'get',
          'deployment',
          'web',
          '-o',
          'jsonpath={.status.readyReplicas}',
        ]);
        return stdout === '3' ? true : undefined;
      },
      120_000,
    );
  }, 150_000);

  it('metering runs, and the invoice charges exactly the resources the pods requested', async () => {
    const hour = Math.floor(startedAt / HOUR) * HOUR;
    // Whole hours, as the analytics API takes them (no fractional seconds).
    const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
    const period = { from: iso(hour), to: iso(hour + 2 * HOUR) };
    type Point = { app?: string; meter: string; quantity: string };
    const byApp = async () => {
      const r = await api<{ items: Point[] }>(
        'GET',
        `/v1/analytics/usage?from=${period.from}&to=${period.to}&granularity=month&groupBy=app&tenant=${tenant}`,
      );
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const m = new Map<string, number>();
      for (const p of r.body.items)
        m.set(`${p.app}/${p.meter}`, (m.get(`${p.app}/${p.meter}`) ?? 0) + Number(p.quantity));
      return m;
    };
    // Long enough for some windows with all three web pods.
    await eventually(
      'usage of three web pods and the site pod metered',
      async () => {
        const m = await byApp();
        return (m.get('web/pods') ?? 0) * 3600 >= 3 * 2 * 4 && (m.get('site/pods') ?? 0) > 0 ? m : undefined;
      },
      90_000,
    );
    // Freeze usage: the apps go, so no further window adds to what the invoice is compared with.
    for (const app of ['web', 'site']) expect((await api('DELETE', appPath(app))).status).toBe(204);
    await eventually(
      'no pods left in the project',
      async () => ((await admin.list('v1', 'Pod', { namespace: ns })).length === 0 ? true : undefined),
      120_000,
    );
    await new Promise((r) => setTimeout(r, 5_000)); // the last window is sent
    const usage = await byApp();

    // Usage follows the requests: per pod-hour, web asks 0.1 core and 128 MiB, site 0.2 core and 64 MiB.
    const GiB = 1;
    for (const [app, cpu, mem] of [
      ['web', 0.1, 0.125 * GiB],
      ['site', 0.2, 0.0625 * GiB],
    ] as const) {
      const pods = usage.get(`${app}/pods`)!;
      expect(pods, app).toBeGreaterThan(0);
      expect(usage.get(`${app}/cpu`)! / pods, `${app} cpu per pod`).toBeCloseTo(cpu, 3);
      expect(usage.get(`${app}/memory`)! / pods, `${app} memory per pod`).toBeCloseTo(mem, 3);
    }

    const draft = await api<{ id: string }>('POST', '/v1/invoices', {
      tenant,
      periodStart: period.from,
      periodEnd: period.to,
    });
    expect(draft.status, JSON.stringify(draft.body)).toBe(201);
    const fin = await api<{
      status: string;
      currency: string;
      total: string;
      lines: Array<{
        kind: string;
        project: string;
        item: string;
        quantity: string;
        unitPrice: string;
        amount: string;
      }>;
    }>('GET', `/v1/invoices/${draft.body.id}`);
    expect(fin.status, JSON.stringify(fin.body)).toBe(200);
    expect(fin.body).toMatchObject({ status: 'draft', currency: 'EUR' });
    // The period has not ended: finalizing it is refused until then; the draft says what it charges.
    const early = await api<{ code: string }>('POST', `/v1/invoices/${draft.body.id}/finalize`);
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('KUBEOP_ERR_PERIOD_NOT_ENDED');
    const lines = fin.body.lines.filter((l) => l.kind === 'usage');
    expect(lines.map((l) => l.item).sort()).toEqual(['cpu', 'memory', 'pods']);
    let total = 0;
    for (const line of lines) {
      expect(line.project).toBe(project);
      // The line's quantity is the project's metered usage, and its amount that times the price.
      const metered = (usage.get(`web/${line.item}`) ?? 0) + (usage.get(`site/${line.item}`) ?? 0);
      expect(Number(line.quantity), line.item).toBeCloseTo(metered, 4);
      expect(Number(line.amount), line.item).toBeCloseTo(Number(line.quantity) * Number(line.unitPrice), 1);
      total += Number(line.amount);
    }
    // Each line is rounded to the cent on its own; a rounding line (when there is one) brings the
    // total to the month-cumulative rounding, at most a cent per usage line away.
    const rounding = fin.body.lines.filter((l) => l.kind === 'rounding');
    for (const line of rounding) {
      expect(Math.abs(Number(line.amount))).toBeLessThanOrEqual(0.01 * lines.length + 1e-9);
      total += Number(line.amount);
    }
    expect(Number(fin.body.total)).toBeCloseTo(total, 2);
    // Charged in whole cents: cpu in core-seconds at 1 € each.
    const cpu = lines.find((l) => l.item === 'cpu')!;
    expect(Number(cpu.amount)).toBeCloseTo(Number(cpu.quantity) * 3600, 1);
  }, 300_000);

  it('deleting the project removes it from the cluster and from the API', async () => {
    expect((await api('DELETE', `/v1/tenants/${tenant}/projects/${project}`)).status).toBe(204);
    await eventually(
      'project namespace gone',
      async () => ((await admin.find({ apiVersion: 'v1', kind: 'Namespace', name: ns })) ? undefined : true),
      150_000,
    );
    await eventually(
      'Project resource gone',
      async () =>
        (await admin.find({ apiVersion: 'paas.kubeop.io/v1alpha1', kind: 'Project', name: project }))
          ? undefined
          : true,
      60_000,
    );
    const gone = await api<{ code: string }>('GET', `/v1/tenants/${tenant}/projects/${project}`);
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe('KUBEOP_ERR_PROJECT_NOT_FOUND');
    const projects = await api<{ items: unknown[] }>('GET', `/v1/tenants/${tenant}/projects`);
    expect(projects.body.items).toEqual([]);
    // The member's kubeconfig died with the namespace's ServiceAccount.
    const denied = await run('kubectl', ['--kubeconfig', memberKubeconfig, 'get', 'pods']).then(
      () => 'allowed',
      (err: { stderr: string }) => err.stderr,
    );
    expect(denied).toMatch(/Unauthorized|forbidden|must be logged in/i);
    // Billing keeps what was charged.
    const invoices = await api<{ items: Array<{ status: string }> }>('GET', `/v1/invoices?tenant=${tenant}`);
    expect(invoices.body.items.map((i) => i.status)).toEqual(['draft']);
  }, 180_000);

  it('deleting the tenant and stopping kubeOP leave nothing behind in the cluster', async () => {
    expect((await api('DELETE', `/v1/tenants/${tenant}`)).status).toBe(204);
    await eventually(
      'tenant gone from the cluster',
      async () =>
        (await admin.find({ apiVersion: 'paas.kubeop.io/v1alpha1', kind: 'Tenant', name: tenant }))
          ? undefined
          : true,
      120_000,
    );
    expect(await kubeop.stop('SIGTERM')).toBe(0);
    // A development process served its webhooks alone: it takes their configurations with it.
    for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'])
      expect(
        await admin.find({
          apiVersion: 'admissionregistration.k8s.io/v1',
          kind,
          name: kind.startsWith('V') ? 'kubeop-validating' : 'kubeop-mutating',
        }),
        kind,
      ).toBeUndefined();
  }, 180_000);
});
