import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildControlPlane, GoMissingError } from './build.ts';
import { downCluster, upCluster } from './controlplane.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin kubeconfig of the e2e cluster, or null when no cluster could be had (tests skip). */
    kubeconfig: string | null;
  }
}

const say = (line: string) => process.stderr.write(`[e2e cluster] ${line}\n`);

/**
 * Starts one local control plane for the whole e2e project and stops it afterwards.
 * `KUBEOP_TEST_KUBECONFIG` points the suite at an existing cluster instead. Without Go the suite is
 * skipped, loudly — unless `KUBEOP_E2E_REQUIRED=1` (set by .ci/run), where it fails.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const existing = process.env.KUBEOP_TEST_KUBECONFIG;
  if (existing) {
    say(`using the existing cluster from KUBEOP_TEST_KUBECONFIG=${existing}`);
    project.provide('kubeconfig', existing);
    return undefined;
  }
  let binDir: string;
  try {
    binDir = await buildControlPlane(say);
  } catch (err) {
    if (err instanceof GoMissingError && process.env.KUBEOP_E2E_REQUIRED !== '1') {
      say('*'.repeat(78));
      say(`SKIPPING THE E2E SUITE: ${err.message}.`);
      say('Install Go 1.26 or set KUBEOP_TEST_KUBECONFIG to run it.');
      say('*'.repeat(78));
      project.provide('kubeconfig', null);
      return undefined;
    }
    throw err;
  }
  const stateDir = mkdtempSync(join(tmpdir(), 'kubeop-e2e-cluster-'));
  const state = await upCluster({ stateDir, binDir, nodes: 3, log: say });
  say(`ready in ${((state.readyAfterMs ?? 0) / 1000).toFixed(1)}s at ${state.server}`);
  project.provide('kubeconfig', state.kubeconfig);
  return async () => {
    await downCluster(stateDir);
  };
}
