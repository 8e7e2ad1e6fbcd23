import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { DeliverySources } from '../../src/operator/controllers/app/controller.ts';
import { startKubeop, type Started } from './kubeop-process.ts';

const run = promisify(execFile);
const crdDir = fileURLToPath(new URL('../../deploy/crds/', import.meta.url));

export async function kubectl(
  kubeconfig: string,
  args: string[],
  opts: { as?: string; input?: string } = {},
) {
  const child = run('kubectl', ['--kubeconfig', kubeconfig, ...(opts.as ? ['--as', opts.as] : []), ...args]);
  if (opts.input !== undefined) child.child.stdin?.end(opts.input);
  return child;
}

/** Installs kubeOP's CRDs (from deploy/crds, as a platform team would) and the operator namespace. */
export async function installKubeop(kubeconfig: string): Promise<void> {
  // --force-conflicts: CRDs installed by the Helm chart are owned by "helm", and spec.versions is an
  // atomic list the API server defaults inside, so a plain apply of the same CRDs conflicts.
  await kubectl(kubeconfig, ['apply', '--server-side', '--force-conflicts', '-f', crdDir]);
  await kubectl(kubeconfig, [
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/tenants.paas.kubeop.io',
    'crd/projects.paas.kubeop.io',
    'crd/apps.paas.kubeop.io',
  ]);
  await kubectl(kubeconfig, ['create', 'namespace', 'kubeop-system']).catch(() => {});
}

/**
 * The kubeconfig the operator under test runs with: `KUBEOP_TEST_OPERATOR_KUBECONFIG` when set (for
 * example the chart's operator ServiceAccount, see test/support/chart-cli.ts), so a suite proves the
 * chart's RBAC is enough; else the one the test passes (the admin's).
 */
export function operatorKubeconfig(kubeconfig: string): string {
  return process.env.KUBEOP_TEST_OPERATOR_KUBECONFIG || kubeconfig;
}

/** Runs the real `kubeop operator` executable against the cluster, until `stop()`. */
export async function startOperatorProcess(
  kubeconfig: string,
  env: Record<string, string> = {},
): Promise<Started> {
  return startKubeop(['operator'], {
    KUBEOP_HTTP_ADDR: '127.0.0.1:0',
    KUBEOP_KUBECONFIG: operatorKubeconfig(kubeconfig),
    KUBEOP_LOG_LEVEL: 'info',
    ...env,
  });
}

/** Reads one sample of a Prometheus metric from a component's /metrics (0 when absent). */
export async function metricValue(
  url: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([^{\s]+)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (want.every((w) => (m[2] ?? '').includes(w))) total += Number(m[3]);
  }
  return total;
}

/** The operator assembled in the test process (so coverage sees it), without leader election. */
export async function startOperatorInProcess(
  kubeconfig: string,
  opts: {
    resyncMs?: number;
    /** Sources added to (or replacing) the default image and raw ones; how often Apps resync. */
    delivery?: { sources?: DeliverySources; resyncMs?: number };
  } = {},
) {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const { Registry } = await import('prom-client');
  const { startOperator } = await import('../../src/operator/operator.ts');
  const { createLogger } = await import('../../src/platform/logging.ts');
  const { rawSource } = await import('../../src/delivery/raw.ts');
  const { imageSource } = await import('../../src/delivery/image/source.ts');
  const kc = new KubeConfig();
  kc.loadFromFile(operatorKubeconfig(kubeconfig));
  const registry = new Registry();
  const operator = await startOperator({
    kc,
    logger: createLogger({ service: 'e2e-operator', level: process.env.KUBEOP_TEST_LOG_LEVEL ?? 'silent' }),
    registry,
    workers: 4,
    resyncMs: opts.resyncMs ?? 600_000,
    leaderElection: false,
    render: { ingressNamespace: 'ingress-nginx' },
    delivery: {
      sources: {
        image: imageSource({ route: { kind: 'Ingress' }, externalDns: { enabled: false } }),
        raw: rawSource(),
        ...opts.delivery?.sources,
      },
      resyncMs: opts.delivery?.resyncMs ?? 300_000,
    },
    onLostLeadership: () => {
      throw new Error('in-process operator runs without leader election');
    },
  });
  /** One sample (summed over matching series) of a metric in the operator's registry. */
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const m = await registry.getSingleMetric(name)?.get();
    return (m?.values ?? [])
      .filter((v) =>
        Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val),
      )
      .filter((v) => !('metricName' in v) || v.metricName === undefined || v.metricName === name)
      .reduce((sum, v) => sum + v.value, 0);
  };
  return { operator, registry, metric };
}
