// bench/admission: what kubeOP's webhooks cost.
//
// 1. Loopback. The webhook HTTPS server with every rule, in a child process, answers realistic pod
//    reviews (the validating images review and the mutating defaults review a Deployment's pod
//    causes); the baseline is the same server code in another child process answering
//    `allowed: true` with no rules. Both are measured in the same run: latency at a fixed request
//    rate (open loop, measured from the scheduled send time, so a stall is not hidden), then
//    throughput with a fixed number of requests in flight.
// 2. Through the API server. Pod creations (dry run) in a tenant namespace of the local control
//    plane, without and then with kubeOP's webhooks registered, alternating blocks.
//
// Usage: npm run bench -- admission [--rate 300] [--seconds 10] [--concurrency 16] [--creates 200]
//        [--kubeconfig <path>]   (use an existing cluster; otherwise one is started and stopped)
//        [--skip-apiserver]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import type { RuleContext, RuleFamily } from '../src/admission/rules/context.ts';
import { WebhookServer } from '../src/admission/server.ts';
import type { TenancyView } from '../src/admission/tenancy.ts';
import { WEBHOOKS } from '../src/admission/webhooks.ts';
import { projectNamespace } from '../src/domain/naming.ts';
import { KubeClient } from '../src/kube/client.ts';
import { createLogger } from '../src/platform/logging.ts';
import { createCertificateAuthority, issueCertificate } from '../src/platform/pki.ts';
import type { Project, Tenant } from '../src/schemas/crds/types.ts';
import { deleteTenantsAndWait, startAdmissionInProcess } from '../test/support/admission.ts';
import { buildControlPlane } from '../test/support/cluster/build.ts';
import { downCluster, upCluster } from '../test/support/cluster/controlplane.ts';
import { installKubeop, startOperatorInProcess } from '../test/support/operator.ts';
import { machine, recordResult, type Figure } from './support.ts';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'admission'),
  options: {
    rate: { type: 'string', default: '300' },
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '16' },
    creates: { type: 'string', default: '200' },
    kubeconfig: { type: 'string' },
    'skip-apiserver': { type: 'boolean', default: false },
    serve: { type: 'string' },
  },
});
const say = (s: string) => process.stderr.write(`[admission] ${s}\n`);

const TENANT = 'bench';
const PROJECT = 'bench-web';
const NS = projectNamespace(TENANT, PROJECT);

/** A Deployment's pod as the API server sends it: defaulted, labelled, with resources and volumes. */
function realisticPod(i: number): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'web-7d9f8c6b5-',
      namespace: NS,
      labels: { app: 'web', 'pod-template-hash': '7d9f8c6b5', 'app.kubernetes.io/version': '2.4.1' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-26T10:00:00Z' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'web-7d9f8c6b5',
          uid: `uid-${i}`,
          controller: true,
        },
      ],
    },
    spec: {
      initContainers: [
        {
          name: 'migrate',
          image: 'ghcr.io/acme/web:2.4.1',
          command: ['/app/migrate'],
          imagePullPolicy: 'IfNotPresent',
        },
      ],
      containers: [
        {
          name: 'web',
          image: 'ghcr.io/acme/web:2.4.1',
          imagePullPolicy: 'IfNotPresent',
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          env: Array.from({ length: 12 }, (_, n) => ({ name: `SETTING_${n}`, value: `value-${n}` })),
          resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
          readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 10 },
          volumeMounts: [{ name: 'config', mountPath: '/etc/web' }],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        },
        {
          name: 'proxy',
          image: 'nginx:1.27',
          imagePullPolicy: 'IfNotPresent',
          ports: [{ containerPort: 80, protocol: 'TCP' }],
          resources: { requests: { cpu: '50m', memory: '64Mi' } },
        },
      ],
      volumes: [{ name: 'config', configMap: { name: 'web-config', defaultMode: 420 } }],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      schedulerName: 'default-scheduler',
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
      priority: 0,
      tolerations: [
        {
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
      ],
    },
  };
}

function review(i: number): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      namespace: NS,
      operation: 'CREATE',
      userInfo: {
        username: 'system:serviceaccount:kube-system:replicaset-controller',
        groups: ['system:serviceaccounts'],
      },
      object: realisticPod(i),
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  });
}

/** The view a synced cache gives for the bench tenant (the bench measures rules, not caches). */
function staticView(): TenancyView {
  const tenant: Tenant = {
    apiVersion: 'paas.kubeop.io/v1alpha1',
    kind: 'Tenant',
    metadata: { name: TENANT },
    spec: {
      owners: [{ kind: 'User', name: 'owner' }],
      policy: { allowedRegistries: ['ghcr.io/acme', 'docker.io'], allowedIngressDomains: ['acme.example'] },
    },
  };
  const project: Project = {
    apiVersion: 'paas.kubeop.io/v1alpha1',
    kind: 'Project',
    metadata: { name: PROJECT },
    spec: { tenantRef: { name: TENANT } },
  };
  return {
    namespace: (n) => (n === NS ? { namespace: NS, tenant: TENANT, project: PROJECT } : undefined),
    tenant: (n) => (n === TENANT ? tenant : undefined),
    project: (n) => (n === PROJECT ? project : undefined),
    hostClaims: () => [],
  };
}

/** Child process: serve with every rule, or the baseline that allows everything. */
async function serve(mode: string, certPem: string, keyPem: string): Promise<void> {
  const allowAll: RuleFamily = () => ({ allowed: true });
  const ctx: RuleContext = {
    view: staticView(),
    trusted: { operatorUsername: 'system:serviceaccount:kubeop-system:kubeop' },
    imagePullPolicy: 'Always',
  };
  const server = new WebhookServer({
    routes: WEBHOOKS.map((w) => ({
      name: w.name,
      path: w.path,
      family: mode === 'rules' ? w.family : allowAll,
    })),
    ctx,
    logger: createLogger({ service: 'bench', level: 'silent' }),
    tls: { certPem, keyPem },
  });
  const { port } = await server.listen('127.0.0.1', 0);
  process.stdout.write(`${port}\n`);
}

function startServer(
  mode: string,
  tls: { ca: string; cert: string; key: string },
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', mode], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin!.end(JSON.stringify(tls));
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve({ child, port: Number(String(d).trim()) }));
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
}

function post(agent: Agent, port: number, path: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const PATHS = ['/validate/workloads', '/mutate/pods'];
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** Open loop at a fixed rate: request i is due at start + i/rate; latency counts from when it was due. */
async function fixedRate(port: number, ca: string, rate: number, seconds: number) {
  const agent = new Agent({ keepAlive: true, ca, maxSockets: 64 });
  const bodies = Array.from({ length: 64 }, (_, i) => review(i));
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now() + 50;
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inflight.push(
      post(agent, port, PATHS[i % 2]!, bodies[i % bodies.length]!).then(
        () => void latencies.push(performance.now() - due),
        () => void errors++,
      ),
    );
  }
  await Promise.all(inflight);
  agent.destroy();
  return { latencies, errors };
}

/** Closed loop: `concurrency` requests in flight for `seconds`. */
async function throughput(port: number, ca: string, concurrency: number, seconds: number) {
  const agent = new Agent({ keepAlive: true, ca, maxSockets: concurrency });
  const bodies = Array.from({ length: 64 }, (_, i) => review(i));
  let done = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let i = w; performance.now() < until; i += concurrency) {
        await post(agent, port, PATHS[i % 2]!, bodies[i % bodies.length]!);
        done++;
      }
    }),
  );
  agent.destroy();
  return done / seconds;
}

async function loopback(rate: number, seconds: number, concurrency: number) {
  const ca = await createCertificateAuthority('bench-ca');
  const leaf = await issueCertificate(ca, {
    commonName: 'localhost',
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  const tls = { ca: ca.certPem, cert: leaf.certPem, key: leaf.keyPem };
  const servers = { baseline: await startServer('baseline', tls), rules: await startServer('rules', tls) };
  type Mode = keyof typeof servers;
  const latencies: Record<Mode, number[]> = { baseline: [], rules: [] };
  const errors: Record<Mode, number> = { baseline: 0, rules: 0 };
  const rps: Record<Mode, number[]> = { baseline: [], rules: [] };
  try {
    for (const mode of ['baseline', 'rules'] as const)
      await fixedRate(servers[mode].port, ca.certPem, rate, 2);
    // ABBA: each side is measured first once and last once, so warm-up and drift do not favour one.
    for (const mode of ['baseline', 'rules', 'rules', 'baseline'] as const) {
      say(`${mode}: ${rate} req/s for ${seconds / 2} s`);
      const r = await fixedRate(servers[mode].port, ca.certPem, rate, seconds / 2);
      latencies[mode].push(...r.latencies);
      errors[mode] += r.errors;
    }
    for (const mode of ['baseline', 'rules', 'rules', 'baseline'] as const) {
      say(`${mode}: throughput with ${concurrency} in flight for ${seconds / 2} s`);
      rps[mode].push(await throughput(servers[mode].port, ca.certPem, concurrency, seconds / 2));
    }
  } finally {
    for (const { child } of Object.values(servers)) child.kill();
  }
  const summary = (mode: Mode) => {
    const sorted = latencies[mode].sort((x, y) => x - y);
    return {
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      rps: rps[mode].reduce((a, b) => a + b, 0) / rps[mode].length,
      errors: errors[mode],
    };
  };
  return { baseline: summary('baseline'), rules: summary('rules') };
}

async function throughApiServer(kubeconfig: string, creates: number) {
  await installKubeop(kubeconfig);
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const client = new KubeClient(kc, { fieldManager: 'bench' });
  const operator = await startOperatorInProcess(kubeconfig);
  try {
    await client.apply({
      apiVersion: 'paas.kubeop.io/v1alpha1',
      kind: 'Tenant',
      metadata: { name: TENANT },
      spec: {
        owners: [{ kind: 'User', name: 'owner' }],
        policy: { allowedRegistries: ['ghcr.io/acme', 'docker.io'] },
      },
    });
    await client.apply({
      apiVersion: 'paas.kubeop.io/v1alpha1',
      kind: 'Project',
      metadata: { name: PROJECT },
      spec: { tenantRef: { name: TENANT } },
    });
    for (let i = 0; ; i++) {
      const p = await client.get<Project>({
        apiVersion: 'paas.kubeop.io/v1alpha1',
        kind: 'Project',
        name: PROJECT,
      });
      if (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) break;
      if (i > 240) throw new Error('bench project not Ready after 60 s');
      await new Promise((r) => setTimeout(r, 250));
    }
    // A pod Pod Security `restricted` admits as it is, so both runs create the same object.
    const pod = realisticPod(0) as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    const body = {
      ...pod,
      metadata: { generateName: 'bench-', labels: { app: 'web' } },
      spec: {
        ...pod.spec,
        securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
        initContainers: [],
        containers: (pod.spec.containers as Array<Record<string, unknown>>).map((c) => ({
          ...c,
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        })),
        tolerations: [],
      },
    };
    const run = async (n: number) => {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await client.request('POST', `/api/v1/namespaces/${NS}/pods?dryRun=All`, {
          body,
          impersonate: { user: 'owner' },
        });
        times.push(performance.now() - t);
      }
      return times;
    };
    const without: number[] = [];
    const withHooks: number[] = [];
    await run(50); // warm-up
    for (let block = 0; block < 2; block++) {
      say(`API server: ${creates / 2} pod creations without webhooks`);
      without.push(...(await run(creates / 2)));
      const hooks = await startAdmissionInProcess(kubeconfig, { secretName: 'bench-webhook-tls' });
      try {
        // Wait until the API server calls the webhooks (its configuration informer).
        for (;;) {
          const created = await client.request<{ metadata: { labels?: Record<string, string> } }>(
            'POST',
            `/api/v1/namespaces/${NS}/pods?dryRun=All`,
            { body, impersonate: { user: 'owner' } },
          );
          if (created.metadata.labels?.['paas.kubeop.io/tenant']) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        await run(20);
        say(`API server: ${creates / 2} pod creations with webhooks`);
        withHooks.push(...(await run(creates / 2)));
      } finally {
        await hooks.stop();
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    const stats = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return { p50: percentile(s, 50), p99: percentile(s, 99) };
    };
    return { without: stats(without), with: stats(withHooks) };
  } finally {
    await deleteTenantsAndWait(client, [TENANT]);
    await operator.operator.stop();
  }
}

async function main(): Promise<void> {
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const creates = Math.max(2, Math.round(Number(values.creates) / 2) * 2);
  const ms = (x: number) => `${x.toFixed(2)} ms`;

  const lb = await loopback(rate, seconds, concurrency);
  console.log(`admission: realistic pod reviews (validate + mutate, alternating) on loopback HTTPS`);
  console.log(`  fixed rate ${rate} req/s for ${seconds} s; throughput with ${concurrency} in flight`);
  console.log(`                      p50        p99        req/s   errors`);
  for (const mode of ['baseline', 'rules'] as const) {
    const r = lb[mode];
    console.log(
      `  ${mode.padEnd(10)}  ${ms(r.p50).padStart(9)}  ${ms(r.p99).padStart(9)}  ${r.rps.toFixed(0).padStart(8)}   ${r.errors}`,
    );
  }
  console.log(
    `  ratio rules/baseline: p50 ${(lb.rules.p50 / lb.baseline.p50).toFixed(2)}, p99 ${(lb.rules.p99 / lb.baseline.p99).toFixed(2)}, throughput ${(lb.rules.rps / lb.baseline.rps).toFixed(2)}`,
  );
  const figures: Figure[] = [
    {
      name: 'webhook on loopback: p50',
      unit: 'ms',
      value: lb.rules.p50,
      baseline: lb.baseline.p50,
      better: 'lower',
    },
    {
      name: 'webhook on loopback: p99',
      unit: 'ms',
      value: lb.rules.p99,
      baseline: lb.baseline.p99,
      better: 'lower',
    },
    {
      name: 'webhook on loopback: throughput',
      unit: 'req/s',
      value: lb.rules.rps,
      baseline: lb.baseline.rps,
      better: 'higher',
    },
  ];

  if (!values['skip-apiserver']) {
    let kubeconfig = values.kubeconfig;
    let stateDir: string | undefined;
    if (!kubeconfig) {
      const binDir = await buildControlPlane(say);
      stateDir = mkdtempSync(join(tmpdir(), 'kubeop-bench-'));
      kubeconfig = (await upCluster({ stateDir, binDir, nodes: 1, log: say })).kubeconfig;
    }
    try {
      const api = await throughApiServer(kubeconfig, creates);
      console.log(`admission: pod creation (dry run) through the API server, ${creates} each, sequential`);
      console.log(`  without webhooks: p50 ${ms(api.without.p50)}, p99 ${ms(api.without.p99)}`);
      console.log(`  with webhooks:    p50 ${ms(api.with.p50)}, p99 ${ms(api.with.p99)}`);
      console.log(
        `  added: p50 ${ms(api.with.p50 - api.without.p50)}, p99 ${ms(api.with.p99 - api.without.p99)}; ratio p50 ${(api.with.p50 / api.without.p50).toFixed(2)}`,
      );
      figures.push(
        {
          name: 'pod create via API server: p50',
          unit: 'ms',
          value: api.with.p50,
          baseline: api.without.p50,
          better: 'lower',
        },
        {
          name: 'pod create via API server: p99',
          unit: 'ms',
          value: api.with.p99,
          baseline: api.without.p99,
          better: 'lower',
        },
      );
    } finally {
      if (stateDir) await downCluster(stateDir);
    }
  }
  console.log(`  machine: ${machine()}`);
  recordResult(
    'admission',
    { rate, seconds, concurrency, creates, apiserver: !values['skip-apiserver'] },
    figures,
  );
}

if (values.serve) {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const tls = JSON.parse(Buffer.concat(chunks).toString()) as { ca: string; cert: string; key: string };
  await serve(values.serve, tls.cert, tls.key);
} else {
  await main();
  // Kept-alive API connections would hold the process open.
  process.exit(0);
}
