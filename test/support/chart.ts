// The kubeOP Helm chart on a test cluster: install, upgrade and uninstall with the pinned helm, and
// kubeconfigs carrying the chart's ServiceAccount tokens, so tests run components with exactly the
// permissions the chart grants (a missing RBAC rule then fails a test).
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { CHART_DIR } from '../../scripts/chart-render.ts';
import { findHelm } from '../../scripts/helm.ts';
import { buildControlPlane } from './cluster/build.ts';

const run = promisify(execFile);

export const CHART_NAMESPACE = 'kubeop-system';
export const RELEASE = 'kubeop';
export const SERVICE_ACCOUNTS = {
  operator: 'kubeop',
  admission: 'kubeop-admission',
  manager: 'kubeop-manager',
} as const;

/** The pinned helm: found, or built with the control plane (cached after the first build). */
export async function helmBinary(): Promise<string> {
  return findHelm() ?? join(await buildControlPlane(), 'helm');
}

export async function helm(kubeconfig: string, args: string[]): Promise<string> {
  const { stdout } = await run(await helmBinary(), ['--kubeconfig', kubeconfig, ...args], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/**
 * The chart as another version: a copy with Chart.yaml's version replaced, packaged. Stands in for
 * the previously released chart until one is published (see docs/operations/install.md).
 */
export async function packageChartAs(version: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kubeop-chart-'));
  const copy = join(dir, 'kubeop');
  cpSync(CHART_DIR, copy, { recursive: true });
  const chartYaml = join(copy, 'Chart.yaml');
  writeFileSync(chartYaml, readFileSync(chartYaml, 'utf8').replace(/^version: .*$/m, `version: ${version}`));
  await run(await helmBinary(), ['package', copy, '--destination', dir]);
  return join(dir, `kubeop-${version}.tgz`);
}

/** Values every test install uses: placeholders for the Secrets the manager reads. */
export const TEST_VALUES = ['--set', 'image.repository=registry.example/kubeop', '--set', 'image.tag=e2e'];

export async function installChart(
  kubeconfig: string,
  opts: { chart?: string; args?: string[]; upgrade?: boolean } = {},
): Promise<string> {
  return helm(kubeconfig, [
    opts.upgrade ? 'upgrade' : 'install',
    RELEASE,
    opts.chart ?? CHART_DIR,
    '--namespace',
    CHART_NAMESPACE,
    '--wait',
    '--timeout',
    '180s',
    ...TEST_VALUES,
    ...(opts.args ?? []),
  ]);
}

/**
 * A kubeconfig for a ServiceAccount: the admin kubeconfig's cluster with a token from the
 * TokenRequest API. Written to `file`, which is returned.
 */
export async function serviceAccountKubeconfig(
  adminKubeconfig: string,
  serviceAccount: string,
  file: string,
  namespace = CHART_NAMESPACE,
): Promise<string> {
  const { stdout } = await run('kubectl', [
    '--kubeconfig',
    adminKubeconfig,
    'create',
    'token',
    serviceAccount,
    '--namespace',
    namespace,
    '--duration',
    '6h',
  ]);
  const admin = new KubeConfig();
  admin.loadFromFile(adminKubeconfig);
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error(`${adminKubeconfig} has no current cluster`);
  const user = `system:serviceaccount:${namespace}:${serviceAccount}`;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: user, token: stdout.trim() }],
    contexts: [{ name: user, cluster: cluster.name, user }],
    currentContext: user,
  });
  writeFileSync(file, kc.exportConfig(), { mode: 0o600 });
  return file;
}

/**
 * What an install needs first, as a platform team would do it: the namespace with Pod Security
 * `restricted` enforced (so a chart pod that is not restricted-clean is refused), and the manager's
 * Secrets (placeholders: under kwok no container runs).
 */
export async function prepareNamespace(kubeconfig: string): Promise<void> {
  const kubectl = (args: string[], input?: string) => {
    const child = run('kubectl', ['--kubeconfig', kubeconfig, ...args]);
    if (input !== undefined) child.child.stdin?.end(input);
    return child;
  };
  await kubectl(['create', 'namespace', CHART_NAMESPACE]).catch(() => {});
  await kubectl([
    'label',
    '--overwrite',
    'namespace',
    CHART_NAMESPACE,
    'pod-security.kubernetes.io/enforce=restricted',
    'pod-security.kubernetes.io/warn=restricted',
  ]);
  const secret = (name: string, key: string, value: string) =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: CHART_NAMESPACE },
      stringData: { [key]: value },
    });
  await kubectl(
    ['apply', '-f', '-'],
    secret('kubeop-database', 'url', 'postgres://kubeop@postgres.example:5432/kubeop'),
  );
  await kubectl(
    ['apply', '-f', '-'],
    secret('kubeop-kms', 'master-key', Buffer.alloc(32, 7).toString('base64')),
  );
}
