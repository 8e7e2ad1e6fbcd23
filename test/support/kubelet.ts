import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';

/**
 * What the e2e cluster's kubelet endpoint answers. kwok serves the kubelet's logs and exec API on
 * loopback (test/support/cluster/controlplane.ts points the fake nodes at it), configured through
 * its own cluster-scoped ClusterLogs and ClusterExec objects. A test calls these for its namespace:
 * every pod there then streams one log file per container (written by the test in the CRI format
 * the kubelet uses) and runs exec'd commands on this machine in a scratch directory.
 *
 * One difference from a real kubelet: kwok 0.8 wraps a command's non-zero exit in an internal error,
 * so the exec status channel carries `Failure` with "exit status N" in its message instead of
 * reason `NonZeroExitCode` with an `ExitCode` cause. Clients must handle both; tests of the exit
 * code path against this cluster see the former. Likewise the end of stdin is not passed on to the
 * command (`cat` never ends); commands that read a known amount (`head -n1`) work.
 */
const group = 'kwok.x-k8s.io';
const version = 'v1alpha1';

export interface PodLogs {
  /** Directory holding `<container>.log` (and `<container>.previous.log`). */
  dir: string;
  /** Appends one line to a container's log, as the container runtime would (CRI log format). */
  write(container: string, line: string, stream?: 'stdout' | 'stderr'): void;
  /** Writes the log of the container's previous instance (`kubectl logs --previous`). */
  writePrevious(container: string, line: string): void;
  remove(): Promise<void>;
}

/** CRI log line: `<RFC 3339 nano timestamp> <stream> F <text>`. */
export function criLogLine(line: string, stream: 'stdout' | 'stderr' = 'stdout', at = new Date()): string {
  return `${at.toISOString().replace('Z', '000000Z')} ${stream} F ${line}\n`;
}

/** Serves logs for the named containers of every pod in `namespace`, each from its own file. */
export async function serveLogs(kc: KubeConfig, namespace: string, containers: string[]): Promise<PodLogs> {
  const dir = mkdtempSync(join(tmpdir(), `kubeop-logs-${namespace}-`));
  mkdirSync(dir, { recursive: true });
  const file = (c: string) => join(dir, `${c}.log`);
  const previous = (c: string) => join(dir, `${c}.previous.log`);
  for (const c of containers) {
    writeFileSync(file(c), '');
    writeFileSync(previous(c), '');
  }
  const api = kc.makeApiClient(CustomObjectsApi);
  const name = `logs-${namespace}`;
  await api.createClusterCustomObject({
    group,
    version,
    plural: 'clusterlogs',
    body: {
      apiVersion: `${group}/${version}`,
      kind: 'ClusterLogs',
      metadata: { name },
      spec: {
        selector: { matchNamespaces: [namespace] },
        logs: containers.map((c) => ({
          containers: [c],
          logsFile: file(c),
          previousLogsFile: previous(c),
          follow: true,
        })),
      },
    },
  });
  return {
    dir,
    write: (c, line, stream = 'stdout') => appendFileSync(file(c), criLogLine(line, stream)),
    writePrevious: (c, line) => appendFileSync(previous(c), criLogLine(line)),
    remove: async () => {
      await api.deleteClusterCustomObject({ group, version, plural: 'clusterlogs', name }).catch(() => {});
    },
  };
}

/** Runs commands exec'd into any pod of `namespace` on this machine, in a scratch directory. */
export async function serveExec(
  kc: KubeConfig,
  namespace: string,
): Promise<{ workDir: string; remove: () => Promise<void> }> {
  const workDir = mkdtempSync(join(tmpdir(), `kubeop-exec-${namespace}-`));
  const api = kc.makeApiClient(CustomObjectsApi);
  const name = `exec-${namespace}`;
  await api.createClusterCustomObject({
    group,
    version,
    plural: 'clusterexecs',
    body: {
      apiVersion: `${group}/${version}`,
      kind: 'ClusterExec',
      metadata: { name },
      spec: {
        selector: { matchNamespaces: [namespace] },
        execs: [{ local: { workDir, envs: [{ name: 'KUBEOP_TEST_EXEC', value: namespace }] } }],
      },
    },
  });
  return {
    workDir,
    remove: async () => {
      await api.deleteClusterCustomObject({ group, version, plural: 'clusterexecs', name }).catch(() => {});
    },
  };
}
