// bench/operator-tenancy: 100 tenants × 10 projects on the local control plane.
//
// Baseline: a plain client server-side-applies the objects the operator renders for the same number
// of projects, with the operator's concurrency (workers). Measured: the operator taking the same
// number of Tenant/Project CRs to Ready. Then one full resync after convergence must write nothing,
// counted from the API server's own apiserver_request_total. Peak memory is the operator process's
// VmHWM. Usage: npm run bench -- operator-tenancy [--tenants N] [--projects M] [--workers W]
//        [--kubeconfig <path>]   (use an existing cluster with nothing of this benchmark in it;
//                                 otherwise one with 3 kwok nodes is started and stopped)
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { projectNamespace } from '../src/domain/naming.ts';
import { DEFAULT_PROJECT_COMPUTE_QUOTA, defaultComputeQuota, quotaToResources } from '../src/domain/quota.ts';
import { KubeClient } from '../src/kube/client.ts';
import {
  renderAccess,
  renderLimitRange,
  renderMemberBindings,
  renderNamespace,
  renderNetworkPolicies,
} from '../src/operator/controllers/project/render.ts';
import { renderResourceQuota, requestedResources } from '../src/operator/controllers/tenant/quota.ts';
import type { Project, Tenant } from '../src/schemas/crds/types.ts';
import { buildControlPlane } from '../test/support/cluster/build.ts';
import { downCluster, upCluster } from '../test/support/cluster/controlplane.ts';
import { startKubeop } from '../test/support/kubeop-process.ts';
import { installKubeop } from '../test/support/operator.ts';
import { machine, pool, recordResult, seconds } from './support.ts';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'operator-tenancy'),
  options: {
    tenants: { type: 'string', default: '100' },
    projects: { type: 'string', default: '10' },
    workers: { type: 'string', default: '4' },
    kubeconfig: { type: 'string' },
  },
});
const TENANTS = Number(values.tenants);
const PROJECTS = Number(values.projects);
const WORKERS = Number(values.workers);
const API = 'paas.kubeop.io/v1alpha1';
const say = (s: string) => process.stderr.write(`[operator-tenancy] ${s}\n`);

function tenantObj(name: string): Tenant {
  return {
    apiVersion: API,
    kind: 'Tenant',
    metadata: { name },
    spec: {
      owners: [{ kind: 'User', name: `${name}-owner` }],
      quota: { cpu: '100', memory: '200Gi', pods: 1000 },
    },
  };
}
function projectObj(name: string, tenant: string): Project {
  return {
    apiVersion: API,
    kind: 'Project',
    metadata: { name },
    spec: {
      tenantRef: { name: tenant },
      quota: { cpu: '5', memory: '10Gi', pods: 50 },
      members: [{ kind: 'User', name: 'dev', role: 'edit' }],
    },
  };
}
const pairs = (prefix: string) =>
  Array.from({ length: TENANTS }, (_, t) =>
    Array.from({ length: PROJECTS }, (_, p) => [`${prefix}t${t}`, `${prefix}t${t}-p${p}`] as const),
  ).flat();

/** Writes the API server counted, from its own metrics, for the resources the operator writes. */
async function apiserverWrites(client: KubeClient): Promise<number> {
  const text = await client.request<string>('GET', '/metrics');
  const resources = new Set([
    'namespaces',
    'resourcequotas',
    'limitranges',
    'networkpolicies',
    'roles',
    'rolebindings',
    'serviceaccounts',
    'tenants',
    'projects',
  ]);
  let total = 0;
  for (const line of String(text).split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!['POST', 'PUT', 'PATCH', 'APPLY', 'DELETE'].includes(labels.verb ?? '')) continue;
    if (!resources.has(labels.resource ?? '')) continue;
    // ResourceQuota status is the quota controller's, not the operator's.
    if (labels.resource === 'resourcequotas' && labels.subresource === 'status') continue;
    total += Number(line.split(' ').at(-1));
  }
  return total;
}

async function main(): Promise<void> {
  let kubeconfig = values.kubeconfig;
  let stateDir: string | undefined;
  if (!kubeconfig) {
    const binDir = await buildControlPlane(say);
    stateDir = mkdtempSync(join(tmpdir(), 'kubeop-bench-'));
    kubeconfig = (await upCluster({ stateDir, binDir, nodes: 3, log: say })).kubeconfig;
  }
  try {
    await installKubeop(kubeconfig);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const raw = new KubeClient(kc, { fieldManager: 'bench' });
    const client = new KubeClient(kc, { fieldManager: 'bench-baseline' });
    const nodes = (await raw.request<{ items: unknown[] }>('GET', '/api/v1/nodes')).items.length;

    // Baseline: the rendered objects, applied by a plain client with the same concurrency.
    const base = pairs('b');
    const tenantsByName = new Map<string, Tenant>();
    for (const [t] of base) if (!tenantsByName.has(t)) tenantsByName.set(t, tenantObj(t));
    say(`baseline: applying the objects of ${base.length} projects with ${WORKERS} workers`);
    const t0 = performance.now();
    await pool(base, WORKERS, async ([t, p]) => {
      const tenant = tenantsByName.get(t)!;
      const project = projectObj(p, t);
      const ns = projectNamespace(t, p);
      const limited = new Set(Object.keys(quotaToResources(tenant.spec.quota)));
      const requested = requestedResources(
        project,
        limited,
        defaultComputeQuota(
          DEFAULT_PROJECT_COMPUTE_QUOTA,
          tenant.spec.projectQuotaDefaults,
          project.spec.quota,
        ),
      );
      const objects = [
        renderNamespace(project, ns),
        renderLimitRange(project, ns),
        ...renderNetworkPolicies(tenant, project, ns, { ingressNamespace: 'ingress-nginx' }),
        ...renderAccess(project, ns),
        renderResourceQuota(project, ns, requested, {}, []),
        ...renderMemberBindings(tenant, project, ns),
      ];
      for (const o of objects) await client.apply(o);
    });
    const baselineMs = performance.now() - t0;
    say(`baseline done in ${seconds(baselineMs)}`);

    // The operator, as the real executable, so its memory is its own.
    const operator = await startKubeop(['operator'], {
      KUBEOP_HTTP_ADDR: '127.0.0.1:0',
      KUBEOP_KUBECONFIG: kubeconfig,
      KUBEOP_LOG_LEVEL: 'info',
      KUBEOP_OPERATOR_WORKERS: String(WORKERS),
      KUBEOP_RESYNC_SECONDS: '60',
    });
    const crs = pairs('o');
    const t1 = performance.now();
    const tenantNames = [...new Set(crs.map(([t]) => t))];
    await pool(tenantNames, WORKERS, async (t) => void (await client.apply(tenantObj(t))));
    await pool(crs, WORKERS, async ([t, p]) => void (await client.apply(projectObj(p, t))));
    say(`created ${tenantNames.length} tenants and ${crs.length} projects; waiting for Ready`);
    let ready = 0;
    while (ready < crs.length) {
      const list = await client.list<Project>(API, 'Project');
      ready = list.filter(
        (p) =>
          p.metadata.name.startsWith('o') &&
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      ).length;
      if (performance.now() - t1 > 30 * 60_000)
        throw new Error(`only ${ready}/${crs.length} projects Ready after 30 minutes`);
      if (ready < crs.length) await new Promise((r) => setTimeout(r, 1000));
    }
    const operatorMs = performance.now() - t1;
    say(`operator converged in ${seconds(operatorMs)}`);

    // Let the last status writes land, then count writes across one full resync.
    await new Promise((r) => setTimeout(r, 10_000));
    const before = await apiserverWrites(raw);
    say('waiting 75 s: one full resync (60 s) after convergence');
    await new Promise((r) => setTimeout(r, 75_000));
    const after = await apiserverWrites(raw);
    const status = readFileSync(`/proc/${operator.child.pid}/status`, 'utf8');
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    await operator.stop();

    const ratio = operatorMs / baselineMs;
    console.log(
      `operator-tenancy: ${TENANTS} tenants × ${PROJECTS} projects (${crs.length} namespaces), ${WORKERS} workers`,
    );
    console.log(`  baseline (plain client applying the rendered objects): ${seconds(baselineMs)}`);
    console.log(`  operator (CRs to all Ready):                           ${seconds(operatorMs)}`);
    console.log(`  ratio operator / baseline:                             ${ratio.toFixed(2)}`);
    console.log(
      `  API server writes during one full resync:              ${after - before} (of ${before} counted since start)`,
    );
    console.log(`  operator peak RSS (VmHWM):                             ${(peakKb / 1024).toFixed(0)} MiB`);
    console.log(`  machine: ${machine()}`);
    recordResult('operator-tenancy', { tenants: TENANTS, projects: PROJECTS, workers: WORKERS, nodes }, [
      {
        name: `${crs.length} projects to Ready`,
        unit: 's',
        value: operatorMs / 1000,
        baseline: baselineMs / 1000,
        better: 'lower',
      },
      { name: 'API server writes in a full resync', unit: 'writes', value: after - before, better: 'lower' },
      { name: 'operator peak RSS', unit: 'MiB', value: peakKb / 1024, better: 'lower' },
    ]);
  } finally {
    if (stateDir) await downCluster(stateDir);
  }
}

await main();
