import { spawn, execFile } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { writeClusterPki, type ClusterPki } from './pki-files.ts';
import { freePort } from './ports.ts';

const run = promisify(execFile);

export interface ComponentState {
  name: string;
  pid: number;
  log: string;
  /** Command-line arguments, so a stopped component can be started again (startComponent). */
  args?: string[];
}

/** What `up` leaves in `<stateDir>/state.json`; `down` and `status` read it. */
export interface ClusterState {
  stateDir: string;
  binDir: string;
  server: string;
  kubeconfig: string;
  components: ComponentState[];
  nodes: string[];
  startedAt: string;
  readyAfterMs?: number;
}

export interface UpOptions {
  stateDir: string;
  binDir: string;
  nodes?: number;
  /** Processes outlive the caller (`npm run cluster -- up`); otherwise they are stopped with it. */
  detached?: boolean;
  log?: (line: string) => void;
}

const stateFile = (dir: string) => join(dir, 'state.json');

function kubeconfigYaml(
  server: string,
  caFile: string,
  user: string,
  certFile: string,
  keyFile: string,
): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kubeop-test', cluster: { server, 'certificate-authority': caFile } }],
    users: [{ name: user, user: { 'client-certificate': certFile, 'client-key': keyFile } }],
    contexts: [{ name: 'kubeop-test', context: { cluster: 'kubeop-test', user } }],
    'current-context': 'kubeop-test',
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** GET over HTTPS; resolves to the status code, or 0 when the connection fails. */
function httpsStatus(
  url: string,
  tls: { ca?: string; cert?: string; key?: string; insecure?: boolean },
): Promise<number> {
  return new Promise((resolve) => {
    const req = httpsRequest(
      url,
      {
        ...(tls.ca ? { ca: tls.ca } : {}),
        ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
        rejectUnauthorized: !tls.insecure,
        timeout: 2000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function httpStatus(url: string): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.status;
  } catch {
    return 0;
  }
}

async function waitFor(
  what: string,
  component: ComponentState | undefined,
  check: () => Promise<boolean>,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    if (component && !alive(component.pid)) {
      throw new Error(
        `${component.name} exited while waiting for ${what}; last log lines:\n${tail(component.log)}`,
      );
    }
    await sleep(250);
  }
  throw new Error(
    `timed out after ${timeoutMs}ms waiting for ${what}` +
      (component ? `; last log lines of ${component.name}:\n${tail(component.log)}` : ''),
  );
}

function nodeManifest(name: string): Record<string, unknown> {
  const resources = { cpu: '16', memory: '64Gi', pods: '110', 'ephemeral-storage': '100Gi' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node-role.kubernetes.io/agent': '',
        type: 'kwok',
      },
    },
    spec: {},
    status: {
      allocatable: resources,
      capacity: resources,
      nodeInfo: {
        architecture: 'amd64',
        operatingSystem: 'linux',
        kubeletVersion: 'fake',
        kubeProxyVersion: 'fake',
        containerRuntimeVersion: 'kwok',
        osImage: 'kwok',
        kernelVersion: 'kwok',
        bootID: '',
        machineID: '',
        systemUUID: '',
      },
      phase: 'Running',
    },
  };
}

export async function kubectl(kubeconfig: string, args: string[], input?: string): Promise<string> {
  const child = run('kubectl', ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 64 * 1024 * 1024 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  const { stdout } = await child;
  return stdout;
}

/**
 * Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok on free loopback
 * ports, creates fake nodes, installs the third-party CRDs, and waits until the cluster can run
 * pods. Contract: state.json is written as soon as the first process starts, so `downCluster` can
 * always stop whatever an interrupted or failed `up` left behind; on failure every started process is
 * stopped and the state directory (with the logs) is kept for debugging.
 */
export async function upCluster(opts: UpOptions): Promise<ClusterState> {
  const log = opts.log ?? (() => {});
  const started = Date.now();
  const { stateDir, binDir } = opts;
  if (existsSync(stateFile(stateDir))) {
    const previous = readState(stateDir);
    if (previous.components.some((c) => alive(c.pid))) {
      throw new Error(`a cluster is already running from ${stateDir}; run \`npm run cluster -- down\` first`);
    }
    rmSync(stateDir, { recursive: true, force: true });
  }
  const logDir = join(stateDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const pki: ClusterPki = await writeClusterPki(join(stateDir, 'pki'));
  const [etcdClient, etcdPeer, apiPort, kcmPort, schedPort, kwokPort] = await Promise.all(
    Array.from({ length: 6 }, () => freePort()),
  );
  const server = `https://127.0.0.1:${apiPort}`;
  const kubeconfigs = {
    admin: join(stateDir, 'admin.kubeconfig'),
    controllerManager: join(stateDir, 'controller-manager.kubeconfig'),
    scheduler: join(stateDir, 'scheduler.kubeconfig'),
    kwok: join(stateDir, 'kwok.kubeconfig'),
  };
  for (const [who, file] of Object.entries(kubeconfigs)) {
    const c = pki.clients[who as keyof ClusterPki['clients']];
    writeFileSync(file, kubeconfigYaml(server, pki.caFile, who, c.certFile, c.keyFile), { mode: 0o600 });
  }
  const nodeNames = Array.from({ length: opts.nodes ?? 3 }, (_, i) => `kwok-node-${i}`);
  const state: ClusterState = {
    stateDir,
    binDir,
    server,
    kubeconfig: kubeconfigs.admin,
    components: [],
    nodes: nodeNames,
    startedAt: new Date().toISOString(),
  };
  const save = () => writeFileSync(stateFile(stateDir), JSON.stringify(state, null, 2) + '\n');

  const startProcess = (name: string, args: string[]): ComponentState => {
    const logFile = join(logDir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    const child = spawn(join(binDir, name), args, { detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    if (child.pid === undefined) throw new Error(`could not start ${name}`);
    child.unref();
    const component = { name, pid: child.pid, log: logFile, args };
    state.components.push(component);
    save();
    if (!opts.detached) registerExitCleanup(component.pid);
    return component;
  };

  try {
    log(`starting etcd on 127.0.0.1:${etcdClient}`);
    const etcd = startProcess('etcd', [
      '--name=default',
      `--data-dir=${join(stateDir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
      '--unsafe-no-fsync=true', // test data only: skipping fsync keeps a 2-core machine responsive
      '--quota-backend-bytes=4294967296',
      '--log-level=warn',
    ]);
    await waitFor(
      'etcd health',
      etcd,
      async () => (await httpStatus(`http://127.0.0.1:${etcdClient}/health`)) === 200,
      30_000,
    );

    log(`starting kube-apiserver on ${server}`);
    const apiserver = startProcess('kube-apiserver', [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(stateDir, 'apiserver-certs')}`,
      `--tls-cert-file=${pki.serving.certFile}`,
      `--tls-private-key-file=${pki.serving.keyFile}`,
      `--client-ca-file=${pki.caFile}`,
      `--service-account-key-file=${pki.serviceAccount.publicKeyFile}`,
      `--service-account-signing-key-file=${pki.serviceAccount.privateKeyFile}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--authorization-mode=RBAC',
      '--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,ResourceQuota,PodSecurity,MutatingAdmissionWebhook,ValidatingAdmissionWebhook',
      '--allow-privileged=true',
      // A loopback address cannot be an Endpoints address, so the `kubernetes` Service is left
      // without endpoints; nothing in the tests dials it.
      '--endpoint-reconciler-type=none',
      // Logs and exec go to the node's kubelet endpoint, which kwok serves on loopback with a
      // certificate from the cluster CA; the API server verifies it and presents its own client cert.
      '--kubelet-preferred-address-types=InternalIP',
      `--kubelet-certificate-authority=${pki.caFile}`,
      `--kubelet-client-certificate=${pki.clients.apiserverKubeletClient.certFile}`,
      `--kubelet-client-key=${pki.clients.apiserverKubeletClient.keyFile}`,
      '--v=1',
    ]);
    const ca = readFileSync(pki.caFile, 'utf8');
    const adminTls = {
      ca,
      cert: readFileSync(pki.clients.admin.certFile, 'utf8'),
      key: readFileSync(pki.clients.admin.keyFile, 'utf8'),
    };
    await waitFor(
      'kube-apiserver /readyz',
      apiserver,
      async () => (await httpsStatus(`${server}/readyz`, adminTls)) === 200,
      90_000,
    );

    log('starting kube-controller-manager, kube-scheduler and kwok');
    const kcm = startProcess('kube-controller-manager', [
      `--kubeconfig=${kubeconfigs.controllerManager}`,
      `--authentication-kubeconfig=${kubeconfigs.controllerManager}`,
      `--authorization-kubeconfig=${kubeconfigs.controllerManager}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${kcmPort}`,
      `--cert-dir=${join(stateDir, 'kcm-certs')}`,
      '--leader-elect=false',
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${pki.serviceAccount.privateKeyFile}`,
      `--root-ca-file=${pki.caFile}`,
      `--cluster-signing-cert-file=${pki.caFile}`,
      `--cluster-signing-key-file=${pki.caKeyFile}`,
      '--controllers=*',
      '--v=1',
    ]);
    const scheduler = startProcess('kube-scheduler', [
      `--kubeconfig=${kubeconfigs.scheduler}`,
      `--authentication-kubeconfig=${kubeconfigs.scheduler}`,
      `--authorization-kubeconfig=${kubeconfigs.scheduler}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${schedPort}`,
      `--cert-dir=${join(stateDir, 'scheduler-certs')}`,
      '--leader-elect=false',
      '--v=1',
    ]);
    const kwokConfig = join(stateDir, 'kwok.yaml');
    writeKwokConfig(kwokConfig, binDir);
    const kwok = startProcess('kwok', [
      `--kubeconfig=${kubeconfigs.kwok}`,
      `--config=${kwokConfig}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      '--cidr=10.244.0.0/16',
      // The fake nodes' InternalIP and kubelet port are kwok's own server, so the API server's
      // logs and exec requests reach it (see test/support/kubelet.ts for what it answers).
      '--node-ip=127.0.0.1',
      `--node-port=${kwokPort}`,
      `--server-address=127.0.0.1:${kwokPort}`,
      `--tls-cert-file=${pki.kubeletServing.certFile}`,
      `--tls-private-key-file=${pki.kubeletServing.keyFile}`,
      `--enable-crds=${KWOK_CRD_KINDS.join(',')}`,
    ]);

    // The CRDs and nodes need only the API server; apply them while the other components start.
    await kubectl(kubeconfigs.admin, [
      'apply',
      '--server-side',
      '-f',
      join(binDir, 'crds'),
      '-f',
      join(binDir, 'kwok-crds'),
    ]);
    const nodesYaml = nodeNames.map((n) => stringify(nodeManifest(n))).join('---\n');
    await kubectl(kubeconfigs.admin, ['apply', '--server-side', '-f', '-'], nodesYaml);

    await Promise.all([
      waitFor(
        'kube-controller-manager /healthz',
        kcm,
        async () => (await httpsStatus(`https://127.0.0.1:${kcmPort}/healthz`, { insecure: true })) === 200,
        60_000,
      ),
      waitFor(
        'kube-scheduler /healthz',
        scheduler,
        async () => (await httpsStatus(`https://127.0.0.1:${schedPort}/healthz`, { insecure: true })) === 200,
        60_000,
      ),
      waitFor(
        'kwok /healthz',
        kwok,
        async () => (await httpsStatus(`https://127.0.0.1:${kwokPort}/healthz`, { insecure: true })) === 200,
        60_000,
      ),
    ]);
    await kubectl(kubeconfigs.admin, [
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd',
      '--all',
    ]);
    await kubectl(kubeconfigs.admin, [
      'wait',
      '--for=condition=Ready',
      '--timeout=60s',
      ...nodeNames.map((n) => `node/${n}`),
    ]);
    // The service-account controller creating `default` proves the controller manager is working.
    await waitFor(
      'the default ServiceAccount',
      kcm,
      async () => {
        try {
          await kubectl(kubeconfigs.admin, [
            'get',
            'serviceaccount',
            'default',
            '-n',
            'default',
            '-o',
            'name',
          ]);
          return true;
        } catch {
          return false;
        }
      },
      60_000,
    );
    state.readyAfterMs = Date.now() - started;
    save();
    log(`cluster ready in ${(state.readyAfterMs / 1000).toFixed(1)}s`);
    return state;
  } catch (err) {
    await stopComponents(state.components);
    throw new Error(`${(err as Error).message}\n(component logs kept in ${logDir})`, { cause: err });
  }
}

/** The kwok kinds configured through the API (per test) rather than kwok's config file. */
const KWOK_CRD_KINDS = ['Logs', 'ClusterLogs', 'Exec', 'ClusterExec'];

function writeKwokConfig(file: string, binDir: string): void {
  const stagesDir = join(binDir, 'kwok-stages');
  const stages = readdirSync(stagesDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => readFileSync(join(stagesDir, f), 'utf8').trim());
  const config = stringify({
    apiVersion: 'config.kwok.x-k8s.io/v1alpha1',
    kind: 'KwokConfiguration',
    options: {
      nodeLeaseDurationSeconds: 40,
      nodeLeaseParallelism: 4,
      nodePlayStageParallelism: 4,
      podPlayStageParallelism: 4,
      podsOnNodeSyncParallelism: 4,
      // The kubelet API (logs, exec) that test/support/kubelet.ts configures per namespace.
      enableDebuggingHandlers: true,
    },
  });
  writeFileSync(file, [config.trim(), ...stages].join('\n---\n') + '\n');
}

const cleanupPids = new Set<number>();
let cleanupRegistered = false;
/** Stops non-detached clusters when the process that started them exits, even on a crash. */
function registerExitCleanup(pid: number): void {
  cleanupPids.add(pid);
  if (cleanupRegistered) return;
  cleanupRegistered = true;
  process.on('exit', () => {
    for (const p of cleanupPids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** SIGTERM in reverse start order, then SIGKILL whatever has not exited after a grace period. */
async function stopComponents(components: ComponentState[]): Promise<void> {
  for (const c of [...components].reverse()) {
    try {
      process.kill(c.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 10_000;
  while (components.some((c) => alive(c.pid)) && Date.now() < deadline) await sleep(100);
  for (const c of components) {
    if (alive(c.pid)) process.kill(c.pid, 'SIGKILL');
    cleanupPids.delete(c.pid);
  }
}

/**
 * Stops one component of a running cluster (fault tests: "the API server is down"). The cluster's
 * state keeps its arguments, so startComponent brings it back on the same ports with the same data.
 */
export async function stopComponent(stateDir: string, name: string): Promise<void> {
  const component = readState(stateDir).components.find((c) => c.name === name);
  if (!component) throw new Error(`no component ${name} in ${stateDir}`);
  await stopComponents([component]);
}

/** Starts a stopped component again; for kube-apiserver, resolves once it is ready. */
export async function startComponent(stateDir: string, name: string, timeoutMs = 120_000): Promise<void> {
  const state = readState(stateDir);
  const component = state.components.find((c) => c.name === name);
  if (!component?.args) throw new Error(`cannot restart ${name}: not started by this harness version`);
  if (alive(component.pid)) return;
  const fd = openSync(component.log, 'a');
  const child = spawn(join(state.binDir, name), component.args, {
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  child.unref();
  component.pid = child.pid;
  writeFileSync(stateFile(stateDir), JSON.stringify(state, null, 2) + '\n');
  if (name !== 'kube-apiserver') return;
  await waitFor(
    'kube-apiserver /readyz after a restart',
    component,
    async () => {
      try {
        await kubectl(state.kubeconfig, ['get', '--raw', '/readyz']);
        return true;
      } catch {
        return false;
      }
    },
    timeoutMs,
  );
}

export function readState(stateDir: string): ClusterState {
  return JSON.parse(readFileSync(stateFile(stateDir), 'utf8')) as ClusterState;
}

/** Stops every process `up` started and removes the state directory. Idempotent. */
export async function downCluster(stateDir: string): Promise<{ stopped: string[] }> {
  if (!existsSync(stateFile(stateDir))) {
    rmSync(stateDir, { recursive: true, force: true });
    return { stopped: [] };
  }
  const state = readState(stateDir);
  const running = state.components.filter((c) => alive(c.pid));
  await stopComponents(state.components);
  rmSync(stateDir, { recursive: true, force: true });
  return { stopped: running.map((c) => c.name) };
}

export interface ClusterStatus {
  exists: boolean;
  server?: string;
  kubeconfig?: string;
  apiserverReady?: boolean;
  components: Array<{ name: string; pid: number; running: boolean; log: string }>;
}

export async function clusterStatus(stateDir: string): Promise<ClusterStatus> {
  if (!existsSync(stateFile(stateDir))) return { exists: false, components: [] };
  const state = readState(stateDir);
  const components = state.components.map((c) => ({ ...c, running: alive(c.pid) }));
  let apiserverReady = false;
  try {
    await kubectl(state.kubeconfig, ['get', '--raw', '/readyz']);
    apiserverReady = true;
  } catch {
    apiserverReady = false;
  }
  return { exists: true, server: state.server, kubeconfig: state.kubeconfig, apiserverReady, components };
}
