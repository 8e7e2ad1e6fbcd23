import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const harness = join(root, 'test', 'support', 'cluster', 'controlplane.ts');
const buildScript = join(root, 'hack', 'controlplane', 'build.sh');

export interface LocalCluster {
  kubeconfig: string;
  server: string;
  stop(): Promise<void>;
}

/**
 * `kubeop all --local-cluster`: starts the test harness's control plane (etcd, kube-apiserver,
 * controller-manager, scheduler, kwok nodes) on loopback under `stateDir`, from binaries that
 * `hack/controlplane/build.sh` already built. It never builds them (that takes many minutes) and
 * needs a source checkout: elsewhere it fails with one line saying what to run. The cluster is
 * ephemeral: it is stopped with the process and starts empty the next time.
 */
export async function startLocalCluster(
  stateDir: string,
  log: (line: string) => void,
): Promise<LocalCluster> {
  if (!existsSync(harness) || !existsSync(buildScript)) {
    throw new Error('--local-cluster needs a source checkout of kubeOP (test/support/cluster is not here)');
  }
  let binDir: string;
  try {
    const { stdout } = await run('bash', [buildScript], {
      env: { ...process.env, KUBEOP_CONTROLPLANE_NO_BUILD: '1' },
    });
    binDir = stdout.trim().split('\n').at(-1) ?? '';
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? (err as Error).message).trim();
    throw new Error(
      `--local-cluster: the control-plane binaries are not built (${stderr.split('\n').at(-1)}); run: bash hack/controlplane/build.sh`,
    );
  }
  // The harness is not part of the built program (src only): its two entry points, by shape.
  const cp = (await import(pathToFileURL(harness).href)) as {
    upCluster(opts: {
      stateDir: string;
      binDir: string;
      nodes: number;
      log: (line: string) => void;
    }): Promise<{ kubeconfig: string; server: string }>;
    downCluster(stateDir: string): Promise<unknown>;
  };
  const dir = resolve(stateDir);
  const state = await cp.upCluster({ stateDir: dir, binDir, nodes: 3, log });
  return {
    kubeconfig: state.kubeconfig,
    server: state.server,
    stop: async () => {
      await cp.downCluster(dir);
    },
  };
}
